import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, call, type FieldIssue, get, newIdempotencyKey } from './api.js';
import { fromLocalInput, toLocalInput } from './format.js';
import { navigate } from './router.js';
import {
  type BuilderState,
  builderDefinition,
  builderFrom,
  propertiesIn,
  ReachButton,
  SegmentBuilder,
} from './segment-builder.js';
import type { Campaign, Json, JsonObject, SavedSegment } from './types.js';
import { ErrorBox, Field, fieldId, issueBelongs } from './ui.js';

/** The engine's default icon set (DEFAULT_ICONS in @herald/core), selectable by name. */
const ICONS = ['bell', 'cart', 'gift', 'tag', 'star', 'heart', 'info', 'alert'];
const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const SCHEDULE_TYPES = [
  ['once', 'One time'],
  ['dates', 'Several dates'],
  ['recurring', 'Recurring'],
  ['onEvent', 'Live: when the user does an event'],
  ['inaction', 'Live: an event not followed by another'],
  ['eventDate', 'Live: relative to a date in an event'],
] as const;
type ScheduleType = (typeof SCHEDULE_TYPES)[number][0];
type AudienceMode = 'builder' | 'saved' | 'json';

interface Action {
  id: string;
  title: string;
  url: string;
}

/** The form as the marketer fills it: text as typed, turned into the API's campaign input on submit. */
interface FormState {
  name: string;
  labels: string;
  scheduleType: ScheduleType;
  at: string;
  dates: string;
  time: string;
  everyUnit: 'day' | 'week' | 'month';
  interval: string;
  weekdays: number[];
  dayOfMonth: string;
  eventName: string;
  followedBy: string;
  withinAmount: string;
  withinUnit: 'minutes' | 'hours' | 'days';
  dateProperty: string;
  offsetAmount: string;
  offsetUnit: 'minutes' | 'hours' | 'days';
  timezone: string;
  start: string;
  end: string;
  userTimezone: boolean;
  ifPassed: 'skip' | 'sendNow';
  dndOverride: boolean;
  dndStart: string;
  dndEnd: string;
  dndAction: 'delay' | 'discard';
  cutoff: string;
  throttle: string;
  audienceMode: AudienceMode;
  segmentId: string;
  builder: BuilderState;
  audienceJson: string;
  title: string;
  body: string;
  deeplink: string;
  image: string;
  icon: string;
  ttlHours: string;
  requireInteraction: boolean;
  actions: Action[];
  controlGroup: string;
  ignoreGlobalLimits: boolean;
  goalEvent: string;
  goalWindowHours: string;
  goalAfter: 'send' | 'click';
  revenueProperty: string;
  onMissingValue: 'empty' | 'skip';
}

const browserZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

function emptyForm(): FormState {
  return {
    name: '',
    labels: '',
    scheduleType: 'once',
    // The first full hour at least an hour away: a draft nobody sends by accident.
    at: toLocalInput(new Date(Math.ceil((Date.now() + 3_600_000) / 3_600_000) * 3_600_000).toISOString()),
    dates: '',
    time: '09:00',
    everyUnit: 'day',
    interval: '1',
    weekdays: [1],
    dayOfMonth: '1',
    eventName: '',
    followedBy: '',
    withinAmount: '1',
    withinUnit: 'hours',
    dateProperty: '',
    offsetAmount: '-1',
    offsetUnit: 'days',
    timezone: browserZone(),
    start: '',
    end: '',
    userTimezone: false,
    ifPassed: 'sendNow',
    dndOverride: false,
    dndStart: '21:00',
    dndEnd: '09:00',
    dndAction: 'delay',
    cutoff: '',
    throttle: '',
    audienceMode: 'builder',
    segmentId: '',
    builder: { combine: 'and', rules: [] },
    audienceJson: '{\n  "segment": { "type": "all" }\n}',
    title: '',
    body: '',
    deeplink: '',
    image: '',
    icon: '',
    ttlHours: '24',
    requireInteraction: false,
    actions: [],
    controlGroup: '0',
    ignoreGlobalLimits: false,
    goalEvent: '',
    goalWindowHours: '24',
    goalAfter: 'send',
    revenueProperty: '',
    onMissingValue: 'empty',
  };
}

const text = (value: Json | undefined) => (value === undefined || value === null ? '' : String(value));
const numberOrText = (value: string) =>
  value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value;

/** A stored campaign back into the form (sections the form cannot show stay as JSON). */
function formFrom(campaign: Campaign): FormState {
  const form = emptyForm();
  const when = campaign.when;
  const schedule = when.schedule as JsonObject;
  const every = (schedule.every ?? {}) as JsonObject;
  const event = (schedule.event ?? {}) as JsonObject;
  const within = (schedule.within ?? {}) as JsonObject;
  const offset = (schedule.offset ?? {}) as JsonObject;
  const dnd = when.dnd as JsonObject | undefined;
  const what = campaign.what;
  const setup = campaign.setup;
  const conversion = setup.conversion as JsonObject | undefined;
  const who = campaign.who;
  const builder = who.segment ? builderFrom(who.segment as JsonObject) : null;
  return {
    ...form,
    name: campaign.name,
    labels: campaign.labels.join(', '),
    scheduleType: schedule.type as ScheduleType,
    at: schedule.type === 'once' ? toLocalInput(text(schedule.at)) : form.at,
    dates: schedule.type === 'dates' ? (schedule.at as string[]).join('\n') : '',
    time: text(schedule.time) || form.time,
    everyUnit: (every.unit as FormState['everyUnit']) ?? 'day',
    interval: text(every.interval) || '1',
    weekdays: (every.weekdays as number[]) ?? form.weekdays,
    dayOfMonth: text(every.dayOfMonth) || '1',
    eventName: text(event.name),
    followedBy: text((schedule.notFollowedBy as JsonObject | undefined)?.name),
    withinAmount: text(within.amount) || form.withinAmount,
    withinUnit: (within.unit as FormState['withinUnit']) ?? form.withinUnit,
    dateProperty: text(schedule.property),
    offsetAmount: text(offset.amount) || form.offsetAmount,
    offsetUnit: (offset.unit as FormState['offsetUnit']) ?? form.offsetUnit,
    timezone: when.timezone,
    start: toLocalInput(text(when.start)),
    end: toLocalInput(text(when.end)),
    userTimezone: Boolean(when.userTimezone),
    ifPassed: ((when.userTimezone as JsonObject | undefined)?.ifPassed as FormState['ifPassed']) ?? 'sendNow',
    dndOverride: Boolean(dnd),
    dndStart: text(dnd?.start) || form.dndStart,
    dndEnd: text(dnd?.end) || form.dndEnd,
    dndAction: (dnd?.action as FormState['dndAction']) ?? 'delay',
    cutoff: toLocalInput(text(when.cutoff)),
    throttle: text(when.throttlePerMinute),
    audienceMode: who.segmentId ? 'saved' : builder ? 'builder' : 'json',
    segmentId: text(who.segmentId),
    builder: builder ?? form.builder,
    audienceJson: JSON.stringify(who, null, 2),
    title: what.title,
    body: what.body,
    deeplink: what.deeplink,
    image: text(what.image),
    icon: text(what.icon),
    ttlHours: String(Number(what.ttlSeconds ?? 86_400) / 3600),
    requireInteraction: Boolean(what.requireInteraction),
    actions: ((what.actions ?? []) as JsonObject[]).map((action) => ({
      id: text(action.id),
      title: text(action.title),
      url: text(action.url),
    })),
    controlGroup: String(setup.controlGroupPercent ?? 0),
    ignoreGlobalLimits: Boolean(setup.ignoreGlobalLimits),
    goalEvent: text((conversion?.event as JsonObject | undefined)?.name),
    goalWindowHours: text(conversion?.windowHours) || form.goalWindowHours,
    goalAfter: (conversion?.after as FormState['goalAfter']) ?? 'send',
    revenueProperty: text(conversion?.revenueProperty),
    onMissingValue: (setup.onMissingValue as FormState['onMissingValue']) ?? 'empty',
  };
}

function scheduleOf(form: FormState): JsonObject {
  const matcher = (name: string) => ({ name, where: [] });
  switch (form.scheduleType) {
    case 'once':
      return { type: 'once', at: fromLocalInput(form.at) ?? '' };
    case 'dates':
      return {
        type: 'dates',
        at: form.dates
          .split('\n')
          .map((line) => line.trim())
          .filter(Boolean)
          .map((line) => fromLocalInput(line) ?? line),
      };
    case 'recurring': {
      const every: JsonObject =
        form.everyUnit === 'day'
          ? { unit: 'day', interval: numberOrText(form.interval) }
          : form.everyUnit === 'week'
            ? { unit: 'week', weekdays: form.weekdays }
            : { unit: 'month', dayOfMonth: numberOrText(form.dayOfMonth) };
      return { type: 'recurring', time: form.time, every };
    }
    case 'onEvent':
      return { type: 'onEvent', event: matcher(form.eventName) };
    case 'inaction':
      return {
        type: 'inaction',
        event: matcher(form.eventName),
        notFollowedBy: matcher(form.followedBy),
        within: { amount: numberOrText(form.withinAmount), unit: form.withinUnit },
      };
    case 'eventDate':
      return {
        type: 'eventDate',
        event: matcher(form.eventName),
        property: form.dateProperty,
        offset: { amount: numberOrText(form.offsetAmount), unit: form.offsetUnit },
      };
  }
}

/** The JSON audience typed in the advanced box; a parse error is reported at the field like the API's. */
class AudienceJsonError extends Error {}

function inputOf(form: FormState): JsonObject {
  const live = ['onEvent', 'inaction', 'eventDate'].includes(form.scheduleType);
  const when: JsonObject = { schedule: scheduleOf(form), timezone: form.timezone };
  if (form.start) when.start = fromLocalInput(form.start) ?? form.start;
  if (form.end) when.end = fromLocalInput(form.end) ?? form.end;
  if (form.userTimezone && !live) when.userTimezone = { ifPassed: form.ifPassed };
  if (form.dndOverride) when.dnd = { start: form.dndStart, end: form.dndEnd, action: form.dndAction };
  if (form.cutoff) when.cutoff = fromLocalInput(form.cutoff) ?? form.cutoff;
  if (form.throttle) when.throttlePerMinute = numberOrText(form.throttle);

  let who: JsonObject;
  if (form.audienceMode === 'saved') who = { segmentId: form.segmentId };
  else if (form.audienceMode === 'builder') who = { segment: builderDefinition(form.builder) };
  else {
    try {
      who = JSON.parse(form.audienceJson) as JsonObject;
    } catch (error) {
      throw new AudienceJsonError((error as Error).message);
    }
  }

  const what: JsonObject = {
    title: form.title,
    body: form.body,
    deeplink: form.deeplink,
    ttlSeconds: Math.round(Number(form.ttlHours) * 3600),
    requireInteraction: form.requireInteraction,
    actions: form.actions.map((action) => ({
      id: action.id,
      title: action.title,
      ...(action.url ? { url: action.url } : {}),
    })),
  };
  if (form.image) what.image = form.image;
  if (form.icon) what.icon = form.icon;

  const setup: JsonObject = {
    controlGroupPercent: numberOrText(form.controlGroup),
    ignoreGlobalLimits: form.ignoreGlobalLimits,
    onMissingValue: form.onMissingValue,
  };
  if (form.goalEvent)
    setup.conversion = {
      event: { name: form.goalEvent, where: [] },
      windowHours: numberOrText(form.goalWindowHours),
      after: form.goalAfter,
      ...(form.revenueProperty ? { revenueProperty: form.revenueProperty } : {}),
    };
  return {
    name: form.name,
    labels: form.labels
      .split(',')
      .map((label) => label.trim())
      .filter(Boolean),
    when,
    who,
    what,
    setup,
  };
}

/** Every path a field of this form shows issues for; others are listed in the summary at the top. */
const FIELD_PATHS = [
  'name',
  'labels',
  'when.schedule',
  'when.timezone',
  'when.start',
  'when.end',
  'when.userTimezone',
  'when.dnd',
  'when.cutoff',
  'when.throttlePerMinute',
  'who',
  'what.title',
  'what.body',
  'what.deeplink',
  'what.image',
  'what.icon',
  'what.ttlSeconds',
  'what.requireInteraction',
  'what.actions',
  'setup.controlGroupPercent',
  'setup.ignoreGlobalLimits',
  'setup.conversion.event',
  'setup.conversion.windowHours',
  'setup.conversion.after',
  'setup.conversion.revenueProperty',
  'setup.onMissingValue',
];

interface PersonaliseProps {
  target: 'title' | 'body' | 'deeplink';
  properties: string[];
  insert: (target: 'title' | 'body' | 'deeplink', snippet: string) => void;
}

/** Inserts `{{ user.<property> }}` where the cursor was in a field (also opened by typing `@` there). */
function Personalise({ target, properties, insert }: PersonaliseProps) {
  const [property, setProperty] = useState(properties[0] ?? 'first_name');
  const id = `personalise-${target}`;
  return (
    <div class="personalise">
      <label for={id}>Insert property into {target}</label>
      <input
        id={id}
        list="known-properties"
        value={property}
        onInput={(e) => setProperty(e.currentTarget.value)}
      />
      <button
        type="button"
        onClick={() =>
          property &&
          insert(
            target,
            target === 'deeplink' ? `{{ user.${property} }}` : `{{ user.${property} | default: "" }}`,
          )
        }
      >
        Insert
      </button>
    </div>
  );
}

export function CampaignForm({ id }: { id?: string }) {
  const [form, setForm] = useState<FormState>(emptyForm);
  const [etag, setEtag] = useState<string | null>(null);
  const [status, setStatus] = useState<string>('draft');
  const [issues, setIssues] = useState<FieldIssue[]>([]);
  const [error, setError] = useState<Error>();
  const [saving, setSaving] = useState(false);
  const [segments, setSegments] = useState<SavedSegment[]>([]);
  const [loaded, setLoaded] = useState(!id);
  const idempotencyKey = useRef(newIdempotencyKey());
  const cursor = useRef<Record<string, number>>({});
  const summary = useRef<HTMLDivElement>(null);

  useEffect(() => {
    get<SavedSegment[] | { items: SavedSegment[] }>('/segments').then(
      (answer) => setSegments(Array.isArray(answer) ? answer : answer.items),
      () => setSegments([]),
    );
    if (!id) return;
    call<Campaign>('GET', `/campaigns/${encodeURIComponent(id)}`).then(
      (answer) => {
        setForm(formFrom(answer.data));
        setEtag(answer.etag);
        setStatus(answer.data.status);
        setLoaded(true);
      },
      (caught: Error) => setError(caught),
    );
  }, [id]);

  const knownProperties = [
    ...propertiesIn(segments.map((segment) => segment.definition)).add('first_name'),
  ].sort();
  const set = <K extends keyof FormState>(key: K, value: FormState[K]) =>
    setForm((previous) => ({ ...previous, [key]: value }));
  const remember = (target: string) => (event: Event) => {
    cursor.current[target] = (event.currentTarget as HTMLInputElement).selectionStart ?? 0;
  };
  const insert = (target: 'title' | 'body' | 'deeplink', snippet: string) => {
    setForm((previous) => {
      const current = previous[target];
      const at = Math.min(cursor.current[target] ?? current.length, current.length);
      cursor.current[target] = at + snippet.length;
      return { ...previous, [target]: current.slice(0, at) + snippet + current.slice(at) };
    });
    document.getElementById(fieldId(`what.${target}`))?.focus();
  };
  // Typing `@` in a personalisable field jumps to its property picker (keyboard-first insertion).
  const atShortcut = (target: 'title' | 'body' | 'deeplink') => (event: KeyboardEvent) => {
    if (event.key !== '@') return;
    event.preventDefault();
    cursor.current[target] = (event.currentTarget as HTMLInputElement).selectionStart ?? 0;
    document.getElementById(`personalise-${target}`)?.focus();
  };

  const unplaced = issues.filter((issue) => !FIELD_PATHS.some((path) => issueBelongs(issue.path, path)));
  const whoIssues = issues
    .filter((issue) => issueBelongs(issue.path, 'who'))
    .map((issue) => ({ ...issue, path: issue.path.replace(/^who\.segment\.?/, '') }));

  async function submit(event: Event) {
    event.preventDefault();
    setSaving(true);
    setError(undefined);
    setIssues([]);
    try {
      const input = inputOf(form);
      if (id) {
        // What a running campaign may change is the engine's rule; send what changed in sections it allows.
        const body =
          status === 'running'
            ? { name: input.name, labels: input.labels, what: input.what, setup: input.setup }
            : input;
        await call<Campaign>('PATCH', `/campaigns/${encodeURIComponent(id)}`, { body, ifMatch: etag });
        navigate(`/campaigns/${encodeURIComponent(id)}`);
      } else {
        const created = await call<Campaign>('POST', '/campaigns', {
          body: input,
          idempotencyKey: idempotencyKey.current,
        });
        navigate(`/campaigns/${encodeURIComponent(created.data.id)}`);
      }
    } catch (caught) {
      if (caught instanceof AudienceJsonError) {
        setIssues([{ path: 'who', message: `not JSON: ${caught.message}` }]);
      } else if (caught instanceof ApiError && caught.issues.length > 0) {
        setIssues(caught.issues);
        // A refused create may be fixed and sent again: it needs a fresh key (a 4xx released the old one anyway).
        idempotencyKey.current = newIdempotencyKey();
        requestAnimationFrame(() => {
          const first = caught.issues.find((issue) =>
            FIELD_PATHS.some((path) => issueBelongs(issue.path, path)),
          );
          const path = first && FIELD_PATHS.find((candidate) => issueBelongs(first.path, candidate));
          const field = path
            ? document.querySelector<HTMLElement>(`[data-path="${path}"] :is(input, select, textarea)`)
            : null;
          (field ?? summary.current)?.focus();
        });
      } else setError(caught as Error);
    } finally {
      setSaving(false);
    }
  }

  if (!loaded) return error ? <ErrorBox error={error} /> : <p aria-busy="true">Loading…</p>;
  const live = ['onEvent', 'inaction', 'eventDate'].includes(form.scheduleType);
  const runningLocked = status === 'running';

  return (
    <form class="campaign-form" noValidate onSubmit={submit}>
      <h1 tabIndex={-1}>{id ? `Edit ${form.name || 'campaign'}` : 'New campaign'}</h1>
      <datalist id="known-properties">
        {knownProperties.map((name) => (
          <option value={name} key={name} />
        ))}
      </datalist>
      <div
        ref={summary}
        tabIndex={-1}
        class={issues.length ? 'issue-summary' : ''}
        role={issues.length ? 'alert' : undefined}
      >
        {issues.length > 0 && (
          <>
            <p>
              {issues.length} field{issues.length === 1 ? '' : 's'} to fix before saving.
            </p>
            {unplaced.length > 0 && (
              <ul>
                {unplaced.map((issue) => (
                  <li key={issue.path}>
                    {issue.path || 'campaign'}: {issue.message}
                  </li>
                ))}
              </ul>
            )}
          </>
        )}
      </div>
      <ErrorBox error={error} />
      <Field label="Name" path="name" issues={issues}>
        {(props) => (
          <input {...props} value={form.name} onInput={(e) => set('name', e.currentTarget.value)} />
        )}
      </Field>
      <Field label="Labels" path="labels" issues={issues} hint="Comma-separated, e.g. promo, spring">
        {(props) => (
          <input {...props} value={form.labels} onInput={(e) => set('labels', e.currentTarget.value)} />
        )}
      </Field>

      <fieldset class="step" disabled={runningLocked}>
        <legend>1. When</legend>
        {runningLocked && <p class="hint">A running campaign keeps its timing: pause it to change when.</p>}
        <Field label="Type" path="when.schedule.type" issues={[]}>
          {(props) => (
            <select
              {...props}
              value={form.scheduleType}
              disabled={Boolean(id)}
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
            <Field label="Send at (your local time)" path="when.schedule.at" issues={issues}>
              {(props) => (
                <input
                  {...props}
                  type="datetime-local"
                  value={form.at}
                  onInput={(e) => set('at', e.currentTarget.value)}
                />
              )}
            </Field>
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
              <Field label="At (time of day, campaign zone)" path="when.schedule.time" issues={issues}>
                {(props) => (
                  <input
                    {...props}
                    type="time"
                    value={form.time}
                    onInput={(e) => set('time', e.currentTarget.value)}
                  />
                )}
              </Field>
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
                <Field label="Every how many days" path="when.schedule.every" issues={issues}>
                  {(props) => (
                    <input
                      {...props}
                      type="number"
                      min={1}
                      value={form.interval}
                      onInput={(e) => set('interval', e.currentTarget.value)}
                    />
                  )}
                </Field>
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
                <Field label="Day of month" path="when.schedule.every" issues={issues}>
                  {(props) => (
                    <input
                      {...props}
                      type="number"
                      min={1}
                      max={31}
                      value={form.dayOfMonth}
                      onInput={(e) => set('dayOfMonth', e.currentTarget.value)}
                    />
                  )}
                </Field>
              )}
            </>
          )}
          {live && (
            <Field label="Event" path="when.schedule.event" issues={issues}>
              {(props) => (
                <input
                  {...props}
                  value={form.eventName}
                  onInput={(e) => set('eventName', e.currentTarget.value)}
                />
              )}
            </Field>
          )}
          {form.scheduleType === 'inaction' && (
            <>
              <Field label="Not followed by event" path="when.schedule.notFollowedBy" issues={issues}>
                {(props) => (
                  <input
                    {...props}
                    value={form.followedBy}
                    onInput={(e) => set('followedBy', e.currentTarget.value)}
                  />
                )}
              </Field>
              <Field label="Within" path="when.schedule.within" issues={issues}>
                {(props) => (
                  <span class="pair">
                    <input
                      {...props}
                      type="number"
                      min={1}
                      value={form.withinAmount}
                      onInput={(e) => set('withinAmount', e.currentTarget.value)}
                    />
                    <select
                      aria-label="Unit"
                      value={form.withinUnit}
                      onChange={(e) => set('withinUnit', e.currentTarget.value as FormState['withinUnit'])}
                    >
                      <option value="minutes">minutes</option>
                      <option value="hours">hours</option>
                      <option value="days">days</option>
                    </select>
                  </span>
                )}
              </Field>
            </>
          )}
          {form.scheduleType === 'eventDate' && (
            <>
              <Field label="Date property of the event" path="when.schedule.property" issues={issues}>
                {(props) => (
                  <input
                    {...props}
                    value={form.dateProperty}
                    onInput={(e) => set('dateProperty', e.currentTarget.value)}
                  />
                )}
              </Field>
              <Field label="Offset (negative: before)" path="when.schedule.offset" issues={issues}>
                {(props) => (
                  <span class="pair">
                    <input
                      {...props}
                      type="number"
                      value={form.offsetAmount}
                      onInput={(e) => set('offsetAmount', e.currentTarget.value)}
                    />
                    <select
                      aria-label="Offset unit"
                      value={form.offsetUnit}
                      onChange={(e) => set('offsetUnit', e.currentTarget.value as FormState['offsetUnit'])}
                    >
                      <option value="minutes">minutes</option>
                      <option value="hours">hours</option>
                      <option value="days">days</option>
                    </select>
                  </span>
                )}
              </Field>
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
        <Field
          label="Campaign time zone"
          path="when.timezone"
          issues={issues}
          hint="IANA zone, e.g. Europe/Paris"
        >
          {(props) => (
            <input {...props} value={form.timezone} onInput={(e) => set('timezone', e.currentTarget.value)} />
          )}
        </Field>
        <Field label="Start (optional)" path="when.start" issues={issues}>
          {(props) => (
            <input
              {...props}
              type="datetime-local"
              value={form.start}
              onInput={(e) => set('start', e.currentTarget.value)}
            />
          )}
        </Field>
        <Field label="End (optional)" path="when.end" issues={issues}>
          {(props) => (
            <input
              {...props}
              type="datetime-local"
              value={form.end}
              onInput={(e) => set('end', e.currentTarget.value)}
            />
          )}
        </Field>
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
        <Field label="Cut-off (stop delivering after)" path="when.cutoff" issues={issues}>
          {(props) => (
            <input
              {...props}
              type="datetime-local"
              value={form.cutoff}
              onInput={(e) => set('cutoff', e.currentTarget.value)}
            />
          )}
        </Field>
        <Field label="Throttle (sends per minute, empty: none)" path="when.throttlePerMinute" issues={issues}>
          {(props) => (
            <input
              {...props}
              type="number"
              min={1}
              value={form.throttle}
              onInput={(e) => set('throttle', e.currentTarget.value)}
            />
          )}
        </Field>
      </fieldset>

      <fieldset class="step" disabled={runningLocked}>
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
            The forecast after control group, caps and Do-Not-Disturb is on the campaign’s page once
            scheduled.
          </p>
        </div>
      </fieldset>

      <fieldset class="step">
        <legend>3. What</legend>
        <Field label="Title" path="what.title" issues={issues} hint="Type @ to insert a user property">
          {(props) => (
            <input
              {...props}
              value={form.title}
              onKeyDown={atShortcut('title')}
              onKeyUp={remember('title')}
              onClick={remember('title')}
              onInput={(e) => {
                remember('title')(e);
                set('title', e.currentTarget.value);
              }}
            />
          )}
        </Field>
        <Personalise target="title" properties={knownProperties} insert={insert} />
        <Field label="Body" path="what.body" issues={issues}>
          {(props) => (
            <textarea
              {...props}
              rows={3}
              value={form.body}
              onKeyDown={atShortcut('body')}
              onKeyUp={remember('body')}
              onClick={remember('body')}
              onInput={(e) => {
                remember('body')(e);
                set('body', e.currentTarget.value);
              }}
            />
          )}
        </Field>
        <Personalise target="body" properties={knownProperties} insert={insert} />
        <Field
          label="Deeplink"
          path="what.deeplink"
          issues={issues}
          hint="https://…; values inserted are URL-encoded"
        >
          {(props) => (
            <input
              {...props}
              type="url"
              value={form.deeplink}
              onKeyUp={remember('deeplink')}
              onClick={remember('deeplink')}
              onInput={(e) => {
                remember('deeplink')(e);
                set('deeplink', e.currentTarget.value);
              }}
            />
          )}
        </Field>
        <Personalise target="deeplink" properties={knownProperties} insert={insert} />
        <Field label="Image URL (optional)" path="what.image" issues={issues}>
          {(props) => (
            <input
              {...props}
              type="url"
              value={form.image}
              onInput={(e) => set('image', e.currentTarget.value)}
            />
          )}
        </Field>
        <Field label="Icon" path="what.icon" issues={issues}>
          {(props) => (
            <select
              {...props}
              value={ICONS.includes(form.icon) || !form.icon ? form.icon : 'custom'}
              onChange={(e) =>
                set('icon', e.currentTarget.value === 'custom' ? 'https://' : e.currentTarget.value)
              }
            >
              <option value="">Site default</option>
              {ICONS.map((icon) => (
                <option value={icon} key={icon}>
                  {icon}
                </option>
              ))}
              <option value="custom">Custom URL…</option>
            </select>
          )}
        </Field>
        {form.icon && !ICONS.includes(form.icon) && (
          <Field label="Icon URL" path="what.icon.url" issues={[]}>
            {(props) => (
              <input
                {...props}
                type="url"
                value={form.icon}
                onInput={(e) => set('icon', e.currentTarget.value)}
              />
            )}
          </Field>
        )}
        <Field label="Time to live (hours)" path="what.ttlSeconds" issues={issues}>
          {(props) => (
            <input
              {...props}
              type="number"
              min={0}
              step="any"
              value={form.ttlHours}
              onInput={(e) => set('ttlHours', e.currentTarget.value)}
            />
          )}
        </Field>
        <Field
          label="Require interaction (stays until dismissed)"
          path="what.requireInteraction"
          issues={issues}
        >
          {(props) => (
            <input
              {...props}
              type="checkbox"
              checked={form.requireInteraction}
              onChange={(e) => set('requireInteraction', e.currentTarget.checked)}
            />
          )}
        </Field>
        <fieldset class="actions-editor" data-path="what.actions">
          <legend>Action buttons (up to 2)</legend>
          {form.actions.map((action, index) => {
            const update = (patch: Partial<Action>) =>
              set(
                'actions',
                form.actions.map((existing, i) => (i === index ? { ...existing, ...patch } : existing)),
              );
            return (
              <div class="pair" key={index}>
                <Field label={`Button ${index + 1} id`} path={`what.actions[${index}].id`} issues={issues}>
                  {(props) => (
                    <input
                      {...props}
                      value={action.id}
                      onInput={(e) => update({ id: e.currentTarget.value })}
                    />
                  )}
                </Field>
                <Field
                  label={`Button ${index + 1} title`}
                  path={`what.actions[${index}].title`}
                  issues={issues}
                >
                  {(props) => (
                    <input
                      {...props}
                      value={action.title}
                      onInput={(e) => update({ title: e.currentTarget.value })}
                    />
                  )}
                </Field>
                <Field
                  label={`Button ${index + 1} link (optional)`}
                  path={`what.actions[${index}].url`}
                  issues={issues}
                >
                  {(props) => (
                    <input
                      {...props}
                      type="url"
                      value={action.url}
                      onInput={(e) => update({ url: e.currentTarget.value })}
                    />
                  )}
                </Field>
                <button
                  type="button"
                  class="link"
                  onClick={() =>
                    set(
                      'actions',
                      form.actions.filter((_, i) => i !== index),
                    )
                  }
                >
                  Remove button {index + 1}
                </button>
              </div>
            );
          })}
          {form.actions.length < 2 && (
            <button
              type="button"
              onClick={() =>
                set('actions', [
                  ...form.actions,
                  { id: `action-${form.actions.length + 1}`, title: '', url: '' },
                ])
              }
            >
              Add button
            </button>
          )}
          {issues
            .filter((issue) => issue.path === 'what.actions')
            .map((issue) => (
              <span class="field-error" key={issue.path}>
                {issue.message}
              </span>
            ))}
        </fieldset>
      </fieldset>

      <fieldset class="step">
        <legend>4. Setup</legend>
        <Field label="Control group (% held out)" path="setup.controlGroupPercent" issues={issues}>
          {(props) => (
            <input
              {...props}
              type="number"
              min={0}
              max={90}
              disabled={runningLocked}
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
            <input
              {...props}
              value={form.goalEvent}
              onInput={(e) => set('goalEvent', e.currentTarget.value)}
            />
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
            <Field
              label="Revenue property (optional)"
              path="setup.conversion.revenueProperty"
              issues={issues}
            >
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
      <div class="actions">
        <button type="submit" class="primary" disabled={saving}>
          {id ? 'Save changes' : 'Create draft'}
        </button>
        <a class="button" href={id ? `#/campaigns/${encodeURIComponent(id)}` : '#/campaigns'}>
          Cancel
        </a>
      </div>
    </form>
  );
}
