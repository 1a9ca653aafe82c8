import fc from 'fast-check';
import type { JsonValue, Profile, SegmentDefinition, Subscription, UserEvent } from '../../model/index.js';
import { SegmentDefinition as SegmentDefinitionSchema } from '../../model/index.js';
import { DAY, HOUR, MINUTE, profile, safariSubscription, T0, uid, webPushSubscription } from '../fixtures.js';

/**
 * fast-check generators for segment equivalence: users, events and
 * subscriptions drawn from a small vocabulary so that generated definitions
 * hit them often, with times piled on the edges of the windows the
 * definitions use (exactly N days before `T0`, one millisecond either side,
 * exactly `T0`, the future) and values of the wrong type, null and nested.
 */

/** The evaluation instant of every generated world. */
export const EQUIVALENCE_NOW = T0;

const EVENT_NAMES = ['Added', 'Charged', 'Viewed', 'charged'] as const;
const KEYS = ['plan', 'age', 'country', 'tags', 'address', 'signupAt', 'score', 'utm.source', "it's", '%_'];
const PATHS = [...KEYS, 'address.city', 'tags.0', 'missing'];
const STRINGS = ['', 'pro', 'Pro', 'FR', 'fr', "O'Brien", '%', '_', 'a%b', '30', 'ünï ☃'];
const NUMBERS = [0, 1, 17, 18, 18.5, 30, -1, 2.5, 65, 100, 120];
/** Day offsets the windows below use, so event times land exactly on their bounds. */
const BOUND_DAYS = [0, 1, 2, 7, 30];

const scalar: fc.Arbitrary<string | number | boolean> = fc.oneof(
  fc.constantFrom(...STRINGS),
  fc.constantFrom(...NUMBERS),
  fc.boolean(),
);

/** An instant near T0, often exactly on a window bound or 1 ms beside it. */
const instantMs: fc.Arbitrary<number> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.constantFrom(...BOUND_DAYS), fc.constantFrom(-1, 0, 0, 1))
      .map(([days, nudge]) => T0.getTime() - days * DAY + nudge),
  },
  {
    weight: 2,
    arbitrary: fc.integer({ min: -40 * 24, max: 2 * 24 }).map((hours) => T0.getTime() + hours * HOUR),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: -90, max: 90 }).map((minutes) => T0.getTime() + minutes * MINUTE),
  },
);

const dateString: fc.Arbitrary<string> = fc.oneof(
  instantMs.map((ms) => new Date(ms).toISOString()),
  fc.constantFrom('2025-02-20', '2025-02-30', '2025-03-01T13:00:00+02:00', 'not a date'),
);

const leaf: fc.Arbitrary<JsonValue> = fc.oneof(
  { weight: 4, arbitrary: scalar },
  { weight: 2, arbitrary: dateString },
  { weight: 1, arbitrary: instantMs },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.array(scalar, { maxLength: 3 }) },
);

const value: fc.Arbitrary<JsonValue> = fc.oneof(
  { weight: 5, arbitrary: leaf },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('city', 'zip', 'source'), leaf, { maxKeys: 2 }) },
);

const properties = fc.dictionary(fc.constantFrom(...KEYS), value, { maxKeys: 5 });

/** Event properties: amounts of both types, a currency, a nested item. */
const eventProperties = fc.record(
  {
    amount: fc.oneof(fc.constantFrom(0, 10, 99.5, 100, 250), fc.constantFrom('100', 'x'), fc.constant(null)),
    currency: fc.constantFrom('EUR', 'USD', 'eur'),
    item: fc.record({ category: fc.constantFrom('shoes', 'hats') }),
  },
  { requiredKeys: [] },
);

/** One generated world: users, their events and subscriptions. */
export interface SegmentWorld {
  profiles: Profile[];
  events: UserEvent[];
  subscriptions: Subscription[];
}

const SUBSCRIPTION_KINDS = [
  'webpush',
  'webpush-expired',
  'webpush-expiring',
  'webpush-later',
  'safari',
] as const;

/** A world of `users` users with ids of varied shape, 0-8 events and 0-2 subscriptions each. */
export function segmentWorld(users: number): fc.Arbitrary<SegmentWorld> {
  const user = fc.record({
    properties,
    events: fc.array(
      fc.record({ name: fc.constantFrom(...EVENT_NAMES), time: instantMs, properties: eventProperties }),
      { maxLength: 8 },
    ),
    subscriptions: fc.uniqueArray(fc.constantFrom(...SUBSCRIPTION_KINDS), { maxLength: 2 }),
  });
  return fc.array(user, { minLength: users, maxLength: users }).map((generated) => {
    const world: SegmentWorld = { profiles: [], events: [], subscriptions: [] };
    generated.forEach((g, i) => {
      const userId = `${['u', 'U', 'user-', 'a_'][i % 4]}${String(i).padStart(3, '0')}`;
      world.profiles.push(profile(userId, g.properties));
      for (const e of g.events) {
        world.events.push({
          userId: uid(userId),
          name: e.name,
          properties: e.properties,
          time: new Date(e.time),
        });
      }
      g.subscriptions.forEach((kind, n) => {
        world.subscriptions.push(subscriptionOf(userId, i, n, kind));
      });
    });
    return world;
  });
}

function subscriptionOf(
  userId: string,
  index: number,
  n: number,
  kind: (typeof SUBSCRIPTION_KINDS)[number],
): Subscription {
  switch (kind) {
    case 'webpush':
      return webPushSubscription(userId, n);
    case 'webpush-expired':
      return webPushSubscription(userId, n, { expirationTime: T0.getTime() - DAY });
    case 'webpush-expiring':
      // Expires exactly now: no longer live (rule 13).
      return webPushSubscription(userId, n, { expirationTime: T0.getTime() });
    case 'webpush-later':
      return webPushSubscription(userId, n, { expirationTime: T0.getTime() + 1 });
    case 'safari':
      return safariSubscription(userId, { deviceToken: index.toString(16).padStart(64, '0') });
  }
}

const unit = fc.constantFrom('minutes' as const, 'hours' as const, 'days' as const, 'weeks' as const);

const dateBound = fc.oneof(
  instantMs.map((ms) => ({ at: new Date(ms).toISOString() })),
  fc.record({
    ago: fc.record({ amount: fc.constantFrom(...BOUND_DAYS), unit: fc.constant('days' as const) }),
  }),
  fc.record({ ago: fc.record({ amount: fc.integer({ min: 0, max: 200 }), unit }) }),
);

const path = fc.constantFrom(...PATHS);

/** Property conditions (input shape: dates as ISO strings). */
export const propertyCondition = fc.oneof(
  fc.record({ op: fc.constantFrom('eq' as const, 'neq' as const), property: path, value: scalar }),
  fc.record({
    op: fc.constant('in' as const),
    property: path,
    values: fc.array(scalar, { minLength: 1, maxLength: 3 }),
  }),
  fc.record({
    op: fc.constantFrom('contains' as const, 'startsWith' as const),
    property: path,
    value: fc.constantFrom(...STRINGS),
  }),
  fc.record({ op: fc.constantFrom('exists' as const, 'notExists' as const), property: path }),
  fc.record({
    op: fc.constantFrom('gt' as const, 'gte' as const, 'lt' as const, 'lte' as const),
    property: path,
    value: fc.constantFrom(...NUMBERS),
  }),
  fc.record({
    op: fc.constant('between' as const),
    property: path,
    min: fc.constantFrom(...NUMBERS),
    max: fc.constantFrom(...NUMBERS),
  }),
  fc.record({ op: fc.constantFrom('before' as const, 'after' as const), property: path, date: dateBound }),
);

const eventCondition = fc.oneof(
  fc.record({
    op: fc.constantFrom('gt' as const, 'gte' as const, 'lt' as const, 'lte' as const),
    property: fc.constant('amount'),
    value: fc.constantFrom(0, 10, 100, 250),
  }),
  fc.record({
    op: fc.constantFrom('eq' as const, 'neq' as const),
    property: fc.constantFrom('currency', 'item.category', 'amount'),
    value: fc.constantFrom('EUR', 'USD', 'shoes', 100, '100'),
  }),
  fc.record({
    op: fc.constantFrom('exists' as const, 'notExists' as const),
    property: fc.constantFrom('amount', 'item', 'item.category', 'missing'),
  }),
  fc.record({
    op: fc.constant('in' as const),
    property: fc.constant('currency'),
    values: fc.constant(['EUR', 'eur']),
  }),
);

const eventFilter = fc.record(
  { name: fc.constantFrom(...EVENT_NAMES), where: fc.array(eventCondition, { maxLength: 2 }) },
  { requiredKeys: ['name'] },
);

const eventWindow = fc.oneof(
  fc.record({ inLast: fc.record({ amount: fc.constantFrom(1, 2, 7, 30), unit }) }),
  fc.record({ between: fc.record({ from: dateBound, to: dateBound }) }),
);

const count = fc.record({
  op: fc.constantFrom('atLeast' as const, 'atMost' as const, 'exactly' as const),
  value: fc.integer({ min: 0, max: 3 }),
});

/** Behaviour and reachability leaves. */
export const behaviourLeaf = fc.oneof(
  fc.record(
    { type: fc.constant('did' as const), event: eventFilter, count, window: eventWindow },
    { requiredKeys: ['type', 'event'] },
  ),
  fc.record(
    { type: fc.constant('didNot' as const), event: eventFilter, window: eventWindow },
    { requiredKeys: ['type', 'event'] },
  ),
  fc.record({
    type: fc.constantFrom('firstTime' as const, 'lastTime' as const),
    event: eventFilter,
    op: fc.constantFrom('before' as const, 'after' as const),
    date: dateBound,
  }),
  fc.record(
    {
      type: fc.constant('reachable' as const),
      target: fc.constantFrom('webpush' as const, 'safari' as const),
    },
    { requiredKeys: ['type'] },
  ),
);

/** Definitions over the whole union, parsed by the model schema (dates become Dates, `where` defaults). */
export const segmentDefinition: fc.Arbitrary<SegmentDefinition> = fc
  .letrec<{ def: unknown }>((tie) => ({
    def: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      { weight: 1, arbitrary: fc.constant({ type: 'all' as const }) },
      {
        weight: 3,
        arbitrary: propertyCondition.map((condition) => ({ type: 'property' as const, condition })),
      },
      { weight: 6, arbitrary: behaviourLeaf },
      {
        weight: 2,
        arbitrary: fc.record({
          type: fc.constantFrom('and' as const, 'or' as const),
          of: fc.array(tie('def'), { minLength: 1, maxLength: 3 }),
        }),
      },
      { weight: 1, arbitrary: fc.record({ type: fc.constant('not' as const), of: tie('def') }) },
      {
        // "Did any of X, Y, Z" in one window, beside at most one other condition: the storages may read
        // such an `or` as one set or one probe, and the leaves above almost never share a window.
        weight: 1,
        arbitrary: fc
          .record({
            names: fc.uniqueArray(fc.constantFrom(...EVENT_NAMES), { minLength: 2, maxLength: 3 }),
            window: fc.option(eventWindow, { nil: undefined }),
            beside: fc.array(tie('def'), { maxLength: 1 }),
          })
          .map(({ names, window, beside }) => ({
            type: 'or' as const,
            of: [
              ...names.map((name) => ({
                type: 'did' as const,
                event: { name },
                ...(window ? { window } : {}),
              })),
              ...beside,
            ],
          })),
      },
    ),
  }))
  .def.map((input) => SegmentDefinitionSchema.parse(input));
