import { fromLocalInput, toLocalInput } from './format.js';
import { type BuilderState, builderDefinition, builderFrom } from './segment-builder.js';
import type { Campaign, Json, JsonObject } from './types.js';

// The campaign form's state: the fields as the marketer types them, read from a stored campaign
// (formFrom) and turned into the admin API's campaign input (inputOf). No rendering here.

/** The engine's default icon set (DEFAULT_ICONS in @herald/core), selectable by name. */
export const ICONS = ['bell', 'cart', 'gift', 'tag', 'star', 'heart', 'info', 'alert'];
export const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
export const SCHEDULE_TYPES = [
  ['once', 'One time'],
  ['dates', 'Several dates'],
  ['recurring', 'Recurring'],
  ['onEvent', 'Live: when the user does an event'],
  ['inaction', 'Live: an event not followed by another'],
  ['eventDate', 'Live: relative to a date in an event'],
] as const;
export type ScheduleType = (typeof SCHEDULE_TYPES)[number][0];
export type AudienceMode = 'builder' | 'saved' | 'json';

export interface Action {
  id: string;
  title: string;
  url: string;
}

/** The form as the marketer fills it: text as typed, turned into the API's campaign input on submit. */
export interface FormState {
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

export const browserZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

export function emptyForm(): FormState {
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
export function formFrom(campaign: Campaign): FormState {
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

export function scheduleOf(form: FormState): JsonObject {
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
export class AudienceJsonError extends Error {}

export function inputOf(form: FormState): JsonObject {
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
export const FIELD_PATHS = [
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
