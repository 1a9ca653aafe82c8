import type { FormState } from './form-state.js';
import type { StepProps } from './form-step.js';
import { TextInput } from './text-input.js';
import { Field } from './ui.js';

/** 4. Setup: control group, global caps, conversion goal and revenue, missing personalised values. */
export function SetupStep({ form, set, issues, locked }: StepProps) {
  /** What every TextInput of this step is bound to. */
  const bound = { form, set, issues };
  return (
    <fieldset class="step">
      <legend>4. Setup</legend>
      <TextInput
        {...bound}
        label="Control group (% held out)"
        path="setup.controlGroupPercent"
        field="controlGroup"
        type="number"
        min={0}
        max={90}
        disabled={locked}
      />
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
      <TextInput
        {...bound}
        label="Conversion goal event (optional)"
        path="setup.conversion.event"
        field="goalEvent"
      />
      {form.goalEvent && (
        <>
          <TextInput
            {...bound}
            label="Goal window (hours)"
            path="setup.conversion.windowHours"
            field="goalWindowHours"
            type="number"
            min={0.25}
            step="any"
          />
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
          <TextInput
            {...bound}
            label="Revenue property (optional)"
            path="setup.conversion.revenueProperty"
            field="revenueProperty"
          />
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
