import { z } from 'zod';
import { JsonValue } from './common.js';
import { SegmentId } from './ids.js';

/**
 * A date bound: an absolute instant, or relative to "now" at evaluation time
 * ("30 days ago" is `{ ago: { amount: 30, unit: 'days' } }`).
 */
export const DateBound = z.union([
  z.object({ at: z.coerce.date() }),
  z.object({
    ago: z.object({ amount: z.number().int().min(0), unit: z.enum(['minutes', 'hours', 'days', 'weeks']) }),
  }),
]);
export type DateBound = z.infer<typeof DateBound>;

const scalar = z.union([z.string(), z.number(), z.boolean()]);

/** A condition on one property of a profile (or, in behaviour filters, of an event). */
export const PropertyCondition = z.discriminatedUnion('op', [
  z.object({ op: z.literal('eq'), property: z.string().min(1), value: scalar }),
  z.object({ op: z.literal('neq'), property: z.string().min(1), value: scalar }),
  z.object({ op: z.literal('in'), property: z.string().min(1), values: z.array(scalar).min(1).max(1000) }),
  z.object({ op: z.literal('contains'), property: z.string().min(1), value: z.string() }),
  z.object({ op: z.literal('startsWith'), property: z.string().min(1), value: z.string() }),
  z.object({ op: z.literal('exists'), property: z.string().min(1) }),
  z.object({ op: z.literal('notExists'), property: z.string().min(1) }),
  z.object({ op: z.enum(['gt', 'gte', 'lt', 'lte']), property: z.string().min(1), value: z.number() }),
  z.object({ op: z.literal('between'), property: z.string().min(1), min: z.number(), max: z.number() }),
  z.object({ op: z.enum(['before', 'after']), property: z.string().min(1), date: DateBound }),
]);
export type PropertyCondition = z.infer<typeof PropertyCondition>;

export type SegmentDefinition =
  | { type: 'all' }
  | { type: 'property'; condition: PropertyCondition }
  | { type: 'and'; of: SegmentDefinition[] }
  | { type: 'or'; of: SegmentDefinition[] }
  | { type: 'not'; of: SegmentDefinition };

/** A segment definition: JSON, composable with and / or / not. */
export const SegmentDefinition: z.ZodType<SegmentDefinition> = z.lazy(() =>
  z.discriminatedUnion('type', [
    z.object({ type: z.literal('all') }),
    z.object({ type: z.literal('property'), condition: PropertyCondition }),
    z.object({ type: z.literal('and'), of: z.array(SegmentDefinition).min(1).max(50) }),
    z.object({ type: z.literal('or'), of: z.array(SegmentDefinition).min(1).max(50) }),
    z.object({ type: z.literal('not'), of: SegmentDefinition }),
  ]),
);

/** Who a campaign targets: an inline definition or a saved segment by id. */
export const Audience = z.union([
  z.object({ segment: SegmentDefinition }),
  z.object({ segmentId: SegmentId }),
]);
export type Audience = z.infer<typeof Audience>;

export { JsonValue };
