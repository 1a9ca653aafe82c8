import { inputOf } from './form-state.js';
import type { StepProps } from './form-step.js';
import { ReachButton, SegmentBuilder } from './segment-builder.js';
import type { JsonObject, SavedSegment } from './types.js';
import { fieldId, issueBelongs } from './ui.js';

interface WhoStepProps extends StepProps {
  segments: SavedSegment[];
  knownProperties: string[];
}

/** 2. Who: a saved segment, conditions built here, or a definition as JSON; with Estimate reach. */
export function WhoStep({ form, set, issues, locked, segments, knownProperties }: WhoStepProps) {
  // The builder shows issues at its own rows: paths relative to the segment definition.
  const whoIssues = issues
    .filter((issue) => issueBelongs(issue.path, 'who'))
    .map((issue) => ({ ...issue, path: issue.path.replace(/^who\.segment\.?/, '') }));
  return (
    <fieldset class="step" disabled={locked}>
      <legend>2. Who</legend>
      <div class="field" data-path="who">
        <fieldset class="choice">
          <legend>Audience</legend>
          {(
            [
              ['builder', 'Build conditions'],
              ['saved', 'Saved segment'],
              ['json', 'Definition as JSON'],
            ] as const
          ).map(([mode, label]) => (
            <label class="checkbox" key={mode}>
              <input
                type="radio"
                name="audience-mode"
                value={mode}
                checked={form.audienceMode === mode}
                onChange={() => set('audienceMode', mode)}
              />
              {label}
            </label>
          ))}
        </fieldset>
        {form.audienceMode === 'saved' && (
          <>
            <label for={fieldId('who')}>Saved segment</label>
            <select
              id={fieldId('who')}
              value={form.segmentId}
              onChange={(e) => set('segmentId', e.currentTarget.value)}
            >
              <option value="">Choose…</option>
              {segments.map((segment) => (
                <option value={segment.id} key={segment.id}>
                  {segment.name}
                </option>
              ))}
            </select>
          </>
        )}
        {form.audienceMode === 'builder' && (
          <SegmentBuilder
            state={form.builder}
            onChange={(builder) => set('builder', builder)}
            issues={whoIssues}
            idPrefix="who"
            knownProperties={knownProperties}
          />
        )}
        {form.audienceMode === 'json' && (
          <>
            <label for={fieldId('who')}>Audience JSON</label>
            <textarea
              id={fieldId('who')}
              rows={8}
              class="code"
              value={form.audienceJson}
              onInput={(e) => set('audienceJson', e.currentTarget.value)}
            />
          </>
        )}
        {form.audienceMode !== 'builder' && whoIssues.length > 0 && (
          <span class="field-error">
            {whoIssues.map((issue) => `${issue.path || 'audience'}: ${issue.message}`).join('; ')}
          </span>
        )}
        <ReachButton
          definition={() => {
            const who = inputOf(form).who as JsonObject;
            return who.segmentId ? { segmentId: String(who.segmentId) } : (who.segment as JsonObject);
          }}
        />
        <p class="hint">
          The forecast after control group, caps and Do-Not-Disturb is on the campaign’s page once scheduled.
        </p>
      </div>
    </fieldset>
  );
}
