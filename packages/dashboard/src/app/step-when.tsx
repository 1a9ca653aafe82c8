import { type FormState, SCHEDULE_TYPES, type ScheduleType, WEEKDAYS } from './form-state.js';
import type { StepProps } from './form-step.js';
import { TextInput } from './text-input.js';
import { Field, issueBelongs } from './ui.js';

/** 1. When: the schedule type and its moments, start and end, the user's zone, DND, cut-off, throttle. */
export function WhenStep({ form, set, issues, locked, editing }: StepProps & { editing: boolean }) {
  const live = ['onEvent', 'inaction', 'eventDate'].includes(form.scheduleType);
  /** What every TextInput of this step is bound to. */
  const bound = { form, set, issues };
  return (
    <fieldset class="step" disabled={locked}>
      <legend>1. When</legend>
      {locked && <p class="hint">A running campaign keeps its timing: pause it to change when.</p>}
      <Field label="Type" path="when.schedule.type" issues={[]}>
        {(props) => (
          <select
            {...props}
            value={form.scheduleType}
            disabled={editing}
            onChange={(e) => set('scheduleType', e.currentTarget.value as ScheduleType)}
          >
            {SCHEDULE_TYPES.map(([value, label]) => (
              <option value={value} key={value}>
                {label}
              </option>
            ))}
          </select>
        )}
      </Field>
      <div data-path="when.schedule">
        {form.scheduleType === 'once' && (
          <TextInput
            {...bound}
            label="Send at (your local time)"
            path="when.schedule.at"
            field="at"
            type="datetime-local"
          />
        )}
        {form.scheduleType === 'dates' && (
          <Field
            label="Dates, one per line"
            path="when.schedule.at"
            issues={issues}
            hint="e.g. 2027-03-01T10:00"
          >
            {(props) => (
              <textarea
                {...props}
                rows={4}
                value={form.dates}
                onInput={(e) => set('dates', e.currentTarget.value)}
              />
            )}
          </Field>
        )}
        {form.scheduleType === 'recurring' && (
          <>
            <TextInput
              {...bound}
              label="At (time of day, campaign zone)"
              path="when.schedule.time"
              field="time"
              type="time"
            />
            <Field label="Every" path="when.schedule.every.unit" issues={[]}>
              {(props) => (
                <select
                  {...props}
                  value={form.everyUnit}
                  onChange={(e) => set('everyUnit', e.currentTarget.value as FormState['everyUnit'])}
                >
                  <option value="day">N days</option>
                  <option value="week">week, on weekdays</option>
                  <option value="month">month, on a day</option>
                </select>
              )}
            </Field>
            {form.everyUnit === 'day' && (
              <TextInput
                {...bound}
                label="Every how many days"
                path="when.schedule.every"
                field="interval"
                type="number"
                min={1}
              />
            )}
            {form.everyUnit === 'week' && (
              <fieldset class="weekdays" data-path="when.schedule.every">
                <legend>Weekdays</legend>
                {WEEKDAYS.map((day, index) => (
                  <label key={day} class="checkbox">
                    <input
                      type="checkbox"
                      checked={form.weekdays.includes(index + 1)}
                      onChange={(e) =>
                        set(
                          'weekdays',
                          e.currentTarget.checked
                            ? [...form.weekdays, index + 1].sort()
                            : form.weekdays.filter((weekday) => weekday !== index + 1),
                        )
                      }
                    />
                    {day}
                  </label>
                ))}
                {issues
                  .filter((issue) => issueBelongs(issue.path, 'when.schedule.every'))
                  .map((issue) => (
                    <span class="field-error" key={issue.path}>
                      {issue.message}
                    </span>
                  ))}
              </fieldset>
            )}
            {form.everyUnit === 'month' && (
              <TextInput
                {...bound}
                label="Day of month"
                path="when.schedule.every"
                field="dayOfMonth"
                type="number"
                min={1}
                max={31}
              />
            )}
          </>
        )}
        {live && <TextInput {...bound} label="Event" path="when.schedule.event" field="eventName" />}
        {form.scheduleType === 'inaction' && (
          <>
            <TextInput
              {...bound}
              label="Not followed by event"
              path="when.schedule.notFollowedBy"
              field="followedBy"
            />
            <DurationField
              {...bound}
              label="Within"
              path="when.schedule.within"
              amount="withinAmount"
              unit="withinUnit"
              unitLabel="Unit"
              min={1}
            />
          </>
        )}
        {form.scheduleType === 'eventDate' && (
          <>
            <TextInput
              {...bound}
              label="Date property of the event"
              path="when.schedule.property"
              field="dateProperty"
            />
            <DurationField
              {...bound}
              label="Offset (negative: before)"
              path="when.schedule.offset"
              amount="offsetAmount"
              unit="offsetUnit"
              unitLabel="Offset unit"
            />
          </>
        )}
        {issues
          .filter(
            (issue) =>
              issue.path === 'when.schedule' ||
              issue.path === 'when.schedule.type' ||
              (form.scheduleType === 'onEvent' &&
                issue.path.startsWith('when.schedule.') &&
                !issue.path.startsWith('when.schedule.event')),
          )
          .map((issue) => (
            <span class="field-error" key={issue.path}>
              {issue.path}: {issue.message}
            </span>
          ))}
      </div>
      <TextInput
        {...bound}
        label="Campaign time zone"
        path="when.timezone"
        field="timezone"
        hint="IANA zone, e.g. Europe/Paris"
      />
      <TextInput {...bound} label="Start (optional)" path="when.start" field="start" type="datetime-local" />
      <TextInput {...bound} label="End (optional)" path="when.end" field="end" type="datetime-local" />
      {!live && (
        <Field label="Deliver in each user’s time zone" path="when.userTimezone" issues={issues}>
          {(props) => (
            <span class="pair">
              <input
                {...props}
                type="checkbox"
                checked={form.userTimezone}
                onChange={(e) => set('userTimezone', e.currentTarget.checked)}
              />
              <select
                aria-label="If the user’s time has passed"
                value={form.ifPassed}
                disabled={!form.userTimezone}
                onChange={(e) => set('ifPassed', e.currentTarget.value as FormState['ifPassed'])}
              >
                <option value="sendNow">if passed: send now</option>
                <option value="skip">if passed: skip</option>
              </select>
            </span>
          )}
        </Field>
      )}
      <Field label="Own Do-Not-Disturb window (overrides the global one)" path="when.dnd" issues={issues}>
        {(props) => (
          <span class="pair">
            <input
              {...props}
              type="checkbox"
              checked={form.dndOverride}
              onChange={(e) => set('dndOverride', e.currentTarget.checked)}
            />
            <input
              aria-label="Do-Not-Disturb from"
              type="time"
              value={form.dndStart}
              disabled={!form.dndOverride}
              onInput={(e) => set('dndStart', e.currentTarget.value)}
            />
            <input
              aria-label="Do-Not-Disturb until"
              type="time"
              value={form.dndEnd}
              disabled={!form.dndOverride}
              onInput={(e) => set('dndEnd', e.currentTarget.value)}
            />
            <select
              aria-label="During Do-Not-Disturb"
              value={form.dndAction}
              disabled={!form.dndOverride}
              onChange={(e) => set('dndAction', e.currentTarget.value as FormState['dndAction'])}
            >
              <option value="delay">delay to its end</option>
              <option value="discard">discard</option>
            </select>
          </span>
        )}
      </Field>
      <TextInput
        {...bound}
        label="Cut-off (stop delivering after)"
        path="when.cutoff"
        field="cutoff"
        type="datetime-local"
      />
      <TextInput
        {...bound}
        label="Throttle (sends per minute, empty: none)"
        path="when.throttlePerMinute"
        field="throttle"
        type="number"
        min={1}
      />
    </fieldset>
  );
}

interface DurationFieldProps extends Pick<StepProps, 'form' | 'set' | 'issues'> {
  label: string;
  path: string;
  amount: 'withinAmount' | 'offsetAmount';
  unit: 'withinUnit' | 'offsetUnit';
  /** The unit select's accessible name (it has no label of its own). */
  unitLabel: string;
  min?: number;
}

/** An amount and its unit side by side: an inaction's `within`, an event date's `offset`. */
function DurationField({ form, set, issues, label, path, amount, unit, unitLabel, min }: DurationFieldProps) {
  return (
    <Field label={label} path={path} issues={issues}>
      {(props) => (
        <span class="pair">
          <input
            {...props}
            type="number"
            min={min}
            value={form[amount]}
            onInput={(e) => set(amount, e.currentTarget.value)}
          />
          <select
            aria-label={unitLabel}
            value={form[unit]}
            onChange={(e) => set(unit, e.currentTarget.value as FormState[typeof unit])}
          >
            <option value="minutes">minutes</option>
            <option value="hours">hours</option>
            <option value="days">days</option>
          </select>
        </span>
      )}
    </Field>
  );
}
