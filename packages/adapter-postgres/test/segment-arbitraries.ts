import type { DateBound, JsonValue, Profile, PropertyCondition, SegmentDefinition } from '@herald/core';
import { fixtures } from '@herald/core/testing';
import fc from 'fast-check';

/**
 * Generators for the segment equivalence tests: profiles whose properties
 * collide with the generated conditions often (a small vocabulary of keys
 * and values, including type mismatches, nulls, arrays, nested objects,
 * quotes and LIKE wildcards) and definitions over them.
 */
const { T0, DAY } = fixtures;

const KEYS = [
  'plan',
  'age',
  'country',
  'tags',
  'address',
  'signupAt',
  'score',
  'a',
  'a.b',
  "it's",
  'x"y\\z',
  '%_',
];
const PATHS = [
  ...KEYS,
  'address.city',
  'a.b.c',
  'a.b',
  'tags.0',
  'address.city.x',
  'nested.deep.level',
  'missing',
];
const STRINGS = [
  '',
  'pro',
  'Pro',
  'FR',
  'fr',
  "O'Brien",
  '%',
  '_',
  'a%b',
  'ann@example.com',
  'ann',
  '30',
  'true',
  'ünï ☃',
];

/** ISO-ish date strings built from parts, valid and not, so the SQL date reader meets JavaScript's edge cases. */
export const isoDate: fc.Arbitrary<string> = fc
  .record({
    year: fc.constantFrom('0000', '0001', '1969', '1970', '2024', '2025', '9999'),
    month: fc.constantFrom('00', '01', '02', '03', '04', '12', '13'),
    day: fc.constantFrom('00', '01', '28', '29', '30', '31', '32'),
    time: fc.option(
      fc.record({
        hour: fc.constantFrom('00', '11', '12', '23', '24', '25'),
        minute: fc.constantFrom('00', '30', '59', '60'),
        second: fc.option(fc.constantFrom('00', '59', '60'), { nil: undefined }),
        fraction: fc.option(
          fc.constantFrom('0', '5', '05', '123', '1239', '000000000', '999999999', '0001'),
          {
            nil: undefined,
          },
        ),
        zone: fc.constantFrom('', 'Z', '+02:00', '-05:30', '+0200', '+23:59', '+24:00', '-00:60', '+2'),
      }),
      { nil: undefined },
    ),
    junk: fc.constantFrom('', '', '', '', ' ', 'x', '\n'),
  })
  .map(({ year, month, day, time, junk }) => {
    let text = `${year}-${month}-${day}`;
    if (time) {
      text += `T${time.hour}:${time.minute}`;
      if (time.second !== undefined) {
        text += `:${time.second}`;
        if (time.fraction !== undefined) text += `.${time.fraction}`;
      }
      text += time.zone;
    }
    return text + junk;
  });

const epochNear = fc
  .integer({ min: -400, max: 400 })
  .map((days) => T0.getTime() + days * DAY + (days % 7) * 3_600_000);

const scalar: fc.Arbitrary<string | number | boolean> = fc.oneof(
  fc.constantFrom(...STRINGS),
  fc.constantFrom(0, 1, 17, 18, 18.5, 30, -1, 2.5, 1e21, -0.1, 0.1 + 0.2, 65),
  fc.boolean(),
);

const leaf: fc.Arbitrary<JsonValue> = fc.oneof(
  { weight: 4, arbitrary: scalar },
  { weight: 2, arbitrary: isoDate },
  { weight: 1, arbitrary: epochNear },
  { weight: 1, arbitrary: fc.constant(null) },
  {
    weight: 2,
    arbitrary: fc.array(fc.oneof(scalar, fc.constant(null), fc.array(scalar, { maxLength: 2 })), {
      maxLength: 3,
    }),
  },
);

const value: fc.Arbitrary<JsonValue> = fc.oneof(
  { weight: 5, arbitrary: leaf },
  {
    weight: 2,
    arbitrary: fc.dictionary(fc.constantFrom('b', 'c', 'city', 'deep', 'level', '0', 'a.b'), leaf, {
      maxKeys: 3,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      b: fc.dictionary(fc.constantFrom('c', 'x'), leaf, { maxKeys: 2 }),
      deep: fc.record({ level: leaf }),
    }),
  },
);

export const properties = fc.dictionary(fc.constantFrom(...KEYS, 'nested'), value, { maxKeys: 6 });

/** `count` profiles with generated properties and ids of varied shape (mixed case, digits, punctuation). */
export const profiles = (count: number): fc.Arbitrary<Profile[]> =>
  fc
    .array(properties, { minLength: count, maxLength: count })
    .map((all) => all.map((props, i) => fixtures.profile(`${['u', 'U', 'user-', 'a_'][i % 4]}${i}`, props)));

const dateBound: fc.Arbitrary<DateBound> = fc.oneof(
  epochNear.map((ms) => ({ at: new Date(ms) })),
  fc
    .constantFrom('2024-02-29T00:00:00Z', '1970-01-01T00:00:00Z', '2025-03-01T12:00:00Z')
    .map((iso) => ({ at: new Date(iso) })),
  fc.record({
    ago: fc.record({
      amount: fc.integer({ min: 0, max: 500 }),
      unit: fc.constantFrom('minutes' as const, 'hours' as const, 'days' as const, 'weeks' as const),
    }),
  }),
);

const number = fc.constantFrom(0, 1, 17, 18, 18.5, 30, -1, 2.5, 65, 1e21, 0.30000000000000004);
const property = fc.constantFrom(...PATHS);

export const condition: fc.Arbitrary<PropertyCondition> = fc.oneof(
  fc.record({ op: fc.constantFrom('eq' as const, 'neq' as const), property, value: scalar }),
  fc.record({
    op: fc.constant('in' as const),
    property,
    values: fc.array(scalar, { minLength: 1, maxLength: 4 }),
  }),
  fc.record({
    op: fc.constantFrom('contains' as const, 'startsWith' as const),
    property,
    value: fc.constantFrom(...STRINGS),
  }),
  fc.record({ op: fc.constantFrom('exists' as const, 'notExists' as const), property }),
  fc.record({
    op: fc.constantFrom('gt' as const, 'gte' as const, 'lt' as const, 'lte' as const),
    property,
    value: number,
  }),
  fc.record({ op: fc.constant('between' as const), property, min: number, max: number }),
  fc.record({ op: fc.constantFrom('before' as const, 'after' as const), property, date: dateBound }),
);

export const segment: fc.Arbitrary<SegmentDefinition> = fc.letrec<{ def: SegmentDefinition }>((tie) => ({
  def: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 1, arbitrary: fc.constant({ type: 'all' as const }) },
    { weight: 6, arbitrary: condition.map((c) => ({ type: 'property' as const, condition: c })) },
    {
      weight: 2,
      arbitrary: fc.record({
        type: fc.constantFrom('and' as const, 'or' as const),
        of: fc.array(tie('def'), { minLength: 1, maxLength: 3 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ type: fc.constant('not' as const), of: tie('def') }) },
  ),
})).def;
