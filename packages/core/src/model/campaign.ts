import { z } from 'zod';
import { keyAliases } from '../errors/zod-issues.js';
import { Instant, InstantInput, Properties, TimeOfDay, TimeZone } from './common.js';
import { MessageContent } from './content.js';
import { EventName } from './event.js';
import { CampaignId } from './ids.js';
import { rowSchema } from './row-schema.js';
import { Audience, MAX_EVENT_CONDITIONS, PropertyCondition } from './segment.js';

export const MAX_CAMPAIGN_NAME_LENGTH = 200;
export const MAX_LABELS = 20;
export const MAX_LABEL_LENGTH = 64;
export const MAX_SCHEDULE_DATES = 100;
export const MAX_CONTROL_GROUP_PERCENT = 90;
/** Ninety days, in hours: the longest conversion window. */
export const MAX_CONVERSION_WINDOW_HOURS = 24 * 90;

/** An event, optionally narrowed by conditions on its properties ("Charged where amount > 100"). */
export const EventMatcher = z.strictObject({
  name: EventName,
  where: z.array(PropertyCondition).max(MAX_EVENT_CONDITIONS).default([]),
});
export type EventMatcher = z.infer<typeof EventMatcher>;

const Duration = z.strictObject({
  amount: z.number().int().min(1),
  unit: z.enum(['minutes', 'hours', 'days']),
});

/** Past-behaviour and live campaign types: the `schedule` inside `when`. */
export const Schedule = z.discriminatedUnion('type', [
  /** Once, at a date and time. */
  z.strictObject({ type: z.literal('once'), at: InstantInput }),
  /** Several dates and times. */
  z.strictObject({
    type: z.literal('dates'),
    at: z
      .array(InstantInput)
      .min(1)
      .max(MAX_SCHEDULE_DATES)
      .refine((dates) => new Set(dates.map((d) => d.getTime())).size === dates.length, {
        message: 'dates must be distinct',
      }),
  }),
  /** Recurring: every N days, weekly on chosen weekdays, or monthly on a day of month, at a time of day. */
  z.strictObject({
    type: z.literal('recurring'),
    time: TimeOfDay,
    every: z.discriminatedUnion('unit', [
      z.strictObject({ unit: z.literal('day'), interval: z.number().int().min(1).max(365).default(1) }),
      z.strictObject({
        unit: z.literal('week'),
        /** ISO weekdays, 1 = Monday … 7 = Sunday. */
        weekdays: z.array(z.number().int().min(1).max(7)).min(1).max(7),
      }),
      z.strictObject({ unit: z.literal('month'), dayOfMonth: z.number().int().min(1).max(31) }),
    ]),
  }),
  /** Live: when the user does an event. */
  z.strictObject({ type: z.literal('onEvent'), event: EventMatcher }),
  /** Live: an event not followed by another within a time (the abandoned cart). */
  z.strictObject({
    type: z.literal('inaction'),
    event: EventMatcher,
    notFollowedBy: EventMatcher,
    within: Duration,
  }),
  /** Live: relative to a date held in an event property ("2 days before departure"). */
  z.strictObject({
    type: z.literal('eventDate'),
    event: EventMatcher,
    property: z.string().min(1),
    /** Negative = before the date, positive = after. */
    offset: z.strictObject({ amount: z.number().int(), unit: z.enum(['minutes', 'hours', 'days']) }),
    /** Property naming the thing the date is about (a booking id): a new event with the same key replaces the pending reminder. */
    keyProperty: z.string().min(1).optional(),
  }),
]);
export type Schedule = z.infer<typeof Schedule>;

export const LIVE_SCHEDULES = ['onEvent', 'inaction', 'eventDate'] as const;

export const DndWindow = z.strictObject({
  start: TimeOfDay,
  end: TimeOfDay,
  action: z.enum(['discard', 'delay']).default('delay'),
});
export type DndWindow = z.infer<typeof DndWindow>;

export const When = z
  .strictObject({
    schedule: Schedule,
    /** The campaign's own zone: for recurring times of day, and the fallback when a user has none. */
    timezone: TimeZone.default('UTC'),
    /** Nothing is sent before start or after end. */
    start: InstantInput.optional(),
    end: InstantInput.optional(),
    /** Deliver at the scheduled time of day in each user's zone. */
    userTimezone: z
      .strictObject({
        /** A user whose local time has already passed when the run starts: skip them, or send now. */
        ifPassed: z.enum(['skip', 'sendNow']).default('sendNow'),
      })
      .optional(),
    /** Stop delivering after this instant; undelivered messages are recorded as skipped: cutoff. */
    cutoff: InstantInput.optional(),
    /** Do-Not-Disturb for this campaign, overriding the engine's global window. */
    dnd: DndWindow.optional(),
    /** At most this many sends a minute for this campaign. */
    throttlePerMinute: z.number().int().min(1).optional(),
  })
  .superRefine((when, ctx) => {
    if (when.start && when.end && when.end <= when.start) {
      ctx.addIssue({ code: 'custom', path: ['end'], message: 'must be after start' });
    }
    if (when.userTimezone && !['once', 'dates', 'recurring'].includes(when.schedule.type)) {
      ctx.addIssue({
        code: 'custom',
        path: ['userTimezone'],
        message: 'only scheduled (past-behaviour) campaigns can deliver in the user time zone',
      });
    }
  })
  .register(keyAliases, { tz: 'timezone', zone: 'timezone' });
export type When = z.infer<typeof When>;

export const ConversionGoal = z.strictObject({
  event: EventMatcher,
  /** Hours after the send (or after the click) during which the goal counts. */
  windowHours: z.number().min(0.25).max(MAX_CONVERSION_WINDOW_HOURS),
  after: z.enum(['send', 'click']).default('send'),
  /** Event property carrying revenue ("amount"). */
  revenueProperty: z.string().min(1).optional(),
});
export type ConversionGoal = z.infer<typeof ConversionGoal>;

export const Setup = z.strictObject({
  /** Percentage of the audience held out as a control group (0 = none). */
  controlGroupPercent: z.number().min(0).max(MAX_CONTROL_GROUP_PERCENT).default(0),
  /** "Don't apply global campaign limits to this campaign". */
  ignoreGlobalLimits: z.boolean().default(false),
  conversion: ConversionGoal.optional(),
  /** A template value missing without a default: render it empty, or skip the recipient. */
  onMissingValue: z.enum(['empty', 'skip']).default('empty'),
});
export type Setup = z.infer<typeof Setup>;

export const CampaignInput = z
  .strictObject({
    name: z.string().min(1).max(MAX_CAMPAIGN_NAME_LENGTH),
    labels: z.array(z.string().min(1).max(MAX_LABEL_LENGTH)).max(MAX_LABELS).default([]),
    when: When,
    who: Audience,
    what: MessageContent,
    setup: Setup.default({ controlGroupPercent: 0, ignoreGlobalLimits: false, onMissingValue: 'empty' }),
    /** Free-form host data kept with the campaign. */
    metadata: Properties.default({}),
  })
  .register(keyAliases, {
    audience: 'who',
    segment: 'who',
    content: 'what',
    message: 'what',
    schedule: 'when',
    meta: 'metadata',
  });
export type CampaignInput = z.input<typeof CampaignInput>;
export type CampaignSpec = z.infer<typeof CampaignInput>;

export const CampaignStatus = z.enum(['draft', 'scheduled', 'running', 'paused', 'completed', 'stopped']);
export type CampaignStatus = z.infer<typeof CampaignStatus>;

/** What `campaigns.list` filters on: any of these statuses, and carrying this label. */
export const CampaignListFilter = z.strictObject({
  status: z.array(CampaignStatus).readonly().optional(),
  label: z.string().min(1).max(MAX_LABEL_LENGTH).optional(),
  /** Archived campaigns are left out of lists unless asked for. */
  includeArchived: z.boolean().optional(),
});

/** A stored campaign (the reading form of the model: see row-schema.ts). */
export const Campaign = rowSchema(CampaignInput).extend({
  id: CampaignId,
  status: CampaignStatus,
  createdAt: Instant,
  updatedAt: Instant,
  /** The next instant the scheduler must act on; null when nothing is pending. */
  nextRunAt: Instant.nullable(),
  /**
   * The nominal instant of the first run since the campaign was scheduled or
   * last resumed past missed runs: its series counts from here (every N
   * days keeps this phase) and no run falls before it. Absent on campaigns
   * scheduled before this field existed: they count from `createdAt`.
   */
  runsFrom: Instant.optional(),
  /** Optimistic-concurrency version, bumped by every update. */
  version: z.number().int().min(0),
  /** When a stopped or completed campaign was archived (hidden from `campaigns.list`); absent when not. */
  archivedAt: Instant.optional(),
});
export type Campaign = z.infer<typeof Campaign>;

export function isLive(schedule: Schedule): boolean {
  return (LIVE_SCHEDULES as readonly string[]).includes(schedule.type);
}
