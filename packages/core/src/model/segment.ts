import { z } from 'zod';
import { Instant, InstantInput, JsonValue } from './common.js';
import { EventName } from './event.js';
import { SegmentId } from './ids.js';
import { rowSchema } from './row-schema.js';
import { Target } from './subscription.js';

/**
 * A date bound: an absolute instant, or relative to "now" at evaluation time
 * ("30 days ago" is `{ ago: { amount: 30, unit: 'days' } }`).
 */
export const DateBound = z.union(
  [
    z.strictObject({ at: InstantInput }),
    z.strictObject({
      ago: z.strictObject({
        amount: z.number().int().min(0),
        unit: z.enum(['minutes', 'hours', 'days', 'weeks']),
      }),
    }),
  ],
  { error: 'expected { at: "<ISO 8601 instant>" } or { ago: { amount, unit } }' },
);
export type DateBound = z.infer<typeof DateBound>;

export const MAX_IN_VALUES = 1000;
export const MAX_EVENT_COUNT = 1_000_000;
export const MAX_EVENT_CONDITIONS = 20;
/** Operands of one `and` / `or`. */
export const MAX_SEGMENT_OPERANDS = 50;
export const MAX_SEGMENT_NAME_LENGTH = 200;
export const MAX_SEGMENT_DESCRIPTION_LENGTH = 2000;

const scalar = z.union([z.string(), z.number(), z.boolean()]);

/** A condition on one property of a profile (or, in behaviour filters, of an event). */
export const PropertyCondition = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('eq'), property: z.string().min(1), value: scalar }),
  z.strictObject({ op: z.literal('neq'), property: z.string().min(1), value: scalar }),
  z.strictObject({
    op: z.literal('in'),
    property: z.string().min(1),
    values: z.array(scalar).min(1).max(MAX_IN_VALUES),
  }),
  z.strictObject({ op: z.literal('contains'), property: z.string().min(1), value: z.string() }),
  z.strictObject({ op: z.literal('startsWith'), property: z.string().min(1), value: z.string() }),
  z.strictObject({ op: z.literal('exists'), property: z.string().min(1) }),
  z.strictObject({ op: z.literal('notExists'), property: z.string().min(1) }),
  z.strictObject({ op: z.enum(['gt', 'gte', 'lt', 'lte']), property: z.string().min(1), value: z.number() }),
  z.strictObject({ op: z.literal('between'), property: z.string().min(1), min: z.number(), max: z.number() }),
  z.strictObject({ op: z.enum(['before', 'after']), property: z.string().min(1), date: DateBound }),
]);
export type PropertyCondition = z.infer<typeof PropertyCondition>;

/** An event, optionally narrowed by conditions on its properties ("Charged where amount > 100"). */
export const EventFilter = z.strictObject({
  name: EventName,
  where: z.array(PropertyCondition).max(MAX_EVENT_CONDITIONS).default([]),
});
export type EventFilter = z.infer<typeof EventFilter>;

/**
 * When the counted events happened. `inLast` is the closed window
 * [now − amount·unit, now]; `between` is the half-open window [from, to).
 * No window: any time.
 */
export const EventWindow = z.union(
  [
    z.strictObject({
      inLast: z.strictObject({
        amount: z.number().int().min(1),
        unit: z.enum(['minutes', 'hours', 'days', 'weeks']),
      }),
    }),
    z.strictObject({ between: z.strictObject({ from: DateBound, to: DateBound }) }),
  ],
  { error: 'expected { inLast: { amount, unit } } or { between: { from, to } }' },
);
export type EventWindow = z.infer<typeof EventWindow>;

/** How many matching events: at least / at most / exactly N (at most and exactly 0 include users who never did it). */
export const EventCount = z.strictObject({
  op: z.enum(['atLeast', 'atMost', 'exactly']),
  value: z.number().int().min(0).max(MAX_EVENT_COUNT),
});
export type EventCount = z.infer<typeof EventCount>;

export type SegmentDefinition =
  | { type: 'all' }
  | { type: 'property'; condition: PropertyCondition }
  /** Did the event, `count` times (default at least once), within `window` (default any time). */
  | { type: 'did'; event: EventFilter; count?: EventCount; window?: EventWindow }
  /** Never did the event within `window` (default: ever). */
  | { type: 'didNot'; event: EventFilter; window?: EventWindow }
  /** The first (or last) matching event happened before / after a date; false for users who never did it. */
  | { type: 'firstTime' | 'lastTime'; event: EventFilter; op: 'before' | 'after'; date: DateBound }
  /** Has at least one live subscription, optionally on one target. */
  | { type: 'reachable'; target?: Target }
  | { type: 'and'; of: SegmentDefinition[] }
  | { type: 'or'; of: SegmentDefinition[] }
  | { type: 'not'; of: SegmentDefinition };

/** The input shape of a definition (dates may be ISO strings, `where` may be left out). */
export type SegmentDefinitionInput =
  | { type: 'all' }
  | { type: 'property'; condition: z.input<typeof PropertyCondition> }
  | {
      type: 'did';
      event: z.input<typeof EventFilter>;
      count?: EventCount;
      window?: z.input<typeof EventWindow>;
    }
  | { type: 'didNot'; event: z.input<typeof EventFilter>; window?: z.input<typeof EventWindow> }
  | {
      type: 'firstTime' | 'lastTime';
      event: z.input<typeof EventFilter>;
      op: 'before' | 'after';
      date: z.input<typeof DateBound>;
    }
  | { type: 'reachable'; target?: Target }
  | { type: 'and'; of: SegmentDefinitionInput[] }
  | { type: 'or'; of: SegmentDefinitionInput[] }
  | { type: 'not'; of: SegmentDefinitionInput };

/** A segment definition: JSON, composable with and / or / not. */
export const SegmentDefinition: z.ZodType<SegmentDefinition, SegmentDefinitionInput> = z.lazy(() =>
  z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('all') }),
    z.strictObject({ type: z.literal('property'), condition: PropertyCondition }),
    z.strictObject({
      type: z.literal('did'),
      event: EventFilter,
      count: EventCount.optional(),
      window: EventWindow.optional(),
    }),
    z.strictObject({ type: z.literal('didNot'), event: EventFilter, window: EventWindow.optional() }),
    z.strictObject({
      type: z.enum(['firstTime', 'lastTime']),
      event: EventFilter,
      op: z.enum(['before', 'after']),
      date: DateBound,
    }),
    z.strictObject({ type: z.literal('reachable'), target: Target.optional() }),
    z.strictObject({
      type: z.literal('and'),
      of: z.array(SegmentDefinition).min(1).max(MAX_SEGMENT_OPERANDS),
    }),
    z.strictObject({
      type: z.literal('or'),
      of: z.array(SegmentDefinition).min(1).max(MAX_SEGMENT_OPERANDS),
    }),
    z.strictObject({ type: z.literal('not'), of: SegmentDefinition }),
  ]),
);

/** Who a campaign targets: an inline definition or a saved segment by id. */
export const Audience = z.union(
  [z.strictObject({ segment: SegmentDefinition }), z.strictObject({ segmentId: SegmentId })],
  { error: 'expected { segment: <definition> } or { segmentId: "<saved segment id>" }' },
);
export type Audience = z.infer<typeof Audience>;

export { JsonValue };

/** What a host hands to `segments.create` / `segments.update`. */
export const SegmentInput = z.strictObject({
  name: z.string().min(1).max(MAX_SEGMENT_NAME_LENGTH),
  description: z.string().max(MAX_SEGMENT_DESCRIPTION_LENGTH).optional(),
  definition: SegmentDefinition,
});
export type SegmentInput = z.input<typeof SegmentInput>;

/** A saved segment: a named definition campaigns use by id. */
export const SavedSegment = z.object({
  id: SegmentId,
  name: z.string().min(1).max(MAX_SEGMENT_NAME_LENGTH),
  description: z.string().max(MAX_SEGMENT_DESCRIPTION_LENGTH).optional(),
  definition: rowSchema(SegmentDefinition),
  createdAt: Instant,
  updatedAt: Instant,
});
export type SavedSegment = z.infer<typeof SavedSegment>;

/** How many users a definition selects, and how many of them web push can reach (users, not subscriptions). */
export interface ReachEstimate {
  qualified: number;
  reachable: { total: number; webpush: number; safari: number };
}
