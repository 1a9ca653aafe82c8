import type { FormState } from './form-state.js';
import type { StepProps } from './form-step.js';
import { Field } from './ui.js';

/** 4. Setup: control group, global caps, conversion goal and revenue, missing personalised values. */
export function SetupStep({ form, set, issues, locked }: StepProps) {
  return (
    <fieldset class="step">
      <legend>4. Setup</legend>
      <Field label="Control group (% held out)" path="setup.controlGroupPercent" issues={issues}>
        {(props) => (
          <input
            {...props}
            type="number"
            min={0}
            max={90}
            disabled={locked}
            value={form.controlGroup}
            onInput={(e) => set('controlGroup', e.currentTarget.value)}
          />
        )}
      </Field>
      <Field label="Ignore global frequency caps" path="setup.ignoreGlobalLimits" issues={issues}>
        {(props) => (
          <input
            {...props}
            type="checkbox"
            checked={form.ignoreGlobalLimits}
            onChange={(e) => set('ignoreGlobalLimits', e.currentTarget.checked)}
          />
        )}
      </Field>
      <Field label="Conversion goal event (optional)" path="setup.conversion.event" issues={issues}>
        {(props) => (
          <input {...props} value={form.goalEvent} onInput={(e) => set('goalEvent', e.currentTarget.value)} />
        )}
      </Field>
      {form.goalEvent && (
        <>
          <Field label="Goal window (hours)" path="setup.conversion.windowHours" issues={issues}>
            {(props) => (
              <input
                {...props}
                type="number"
                min={0.25}
                step="any"
                value={form.goalWindowHours}
                onInput={(e) => set('goalWindowHours', e.currentTarget.value)}
              />
            )}
          </Field>
          <Field label="Counted after" path="setup.conversion.after" issues={issues}>
            {(props) => (
              <select
                {...props}
                value={form.goalAfter}
                onChange={(e) => set('goalAfter', e.currentTarget.value as FormState['goalAfter'])}
              >
                <option value="send">the send</option>
                <option value="click">a click</option>
              </select>
            )}
          </Field>
          <Field label="Revenue property (optional)" path="setup.conversion.revenueProperty" issues={issues}>
            {(props) => (
              <input
                {...props}
                value={form.revenueProperty}
                onInput={(e) => set('revenueProperty', e.currentTarget.value)}
              />
            )}
          </Field>
        </>
      )}
      <Field label="When a personalised value is missing" path="setup.onMissingValue" issues={issues}>
        {(props) => (
          <select
            {...props}
            value={form.onMissingValue}
            onChange={(e) => set('onMissingValue', e.currentTarget.value as FormState['onMissingValue'])}
          >
            <option value="empty">render it empty</option>
            <option value="skip">skip the user</option>
          </select>
        )}
      </Field>
    </fieldset>
  );
}
