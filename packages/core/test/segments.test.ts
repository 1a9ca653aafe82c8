import { describe, expect, it } from 'vitest';
import { type Properties, PropertyCondition, SegmentDefinition } from '../src/model/index.js';
import { evaluateSegment, matchesCondition, readPath } from '../src/segments/index.js';
import { profile } from '../src/testing/fixtures.js';

const NOW = new Date('2025-03-01T12:00:00.000Z');
const DAY = 86_400_000;

/** Parses the condition first, as the engine does: date bounds become Dates. */
const match = (condition: object, properties: Properties, now = NOW): boolean =>
  matchesCondition(PropertyCondition.parse(condition), properties, now);

const seg = (definition: object): SegmentDefinition => SegmentDefinition.parse(definition);

describe('paths', () => {
  it('reads top-level keys and walks dotted paths into nested objects', () => {
    const props = { city: 'Lyon', address: { city: 'Paris', geo: { lat: 48.8 } } };
    expect(readPath(props, 'city')).toBe('Lyon');
    expect(readPath(props, 'address.city')).toBe('Paris');
    expect(readPath(props, 'address.geo.lat')).toBe(48.8);
    expect(readPath(props, 'address.zip')).toBeUndefined();
    expect(readPath(props, 'city.name')).toBeUndefined();
  });

  it('prefers a top-level key that contains a dot', () => {
    expect(readPath({ 'utm.source': 'mail', utm: { source: 'ads' } }, 'utm.source')).toBe('mail');
    expect(readPath({ utm: { source: 'ads' } }, 'utm.source')).toBe('ads');
  });

  it('does not index arrays and treats null as missing', () => {
    expect(readPath({ tags: ['a'] }, 'tags.0')).toBeUndefined();
    expect(readPath({ a: null }, 'a')).toBeUndefined();
    expect(readPath({ a: { b: null } }, 'a.b')).toBeUndefined();
  });

  it('does not read inherited keys', () => {
    expect(readPath({}, 'constructor')).toBeUndefined();
    expect(readPath({ a: {} }, 'a.toString')).toBeUndefined();
  });
});

describe('missing properties', () => {
  const ops = [
    { op: 'eq', value: 'x' },
    { op: 'neq', value: 'x' },
    { op: 'in', values: ['x'] },
    { op: 'contains', value: '' },
    { op: 'startsWith', value: '' },
    { op: 'exists' },
    { op: 'gt', value: 0 },
    { op: 'gte', value: 0 },
    { op: 'lt', value: 0 },
    { op: 'lte', value: 0 },
    { op: 'between', min: -1, max: 1 },
    { op: 'before', date: { at: '2100-01-01' } },
    { op: 'after', date: { at: '1970-01-01' } },
  ];
  for (const condition of ops) {
    it(`${condition.op} is false on an absent or null property`, () => {
      expect(match({ ...condition, property: 'p' }, {})).toBe(false);
      expect(match({ ...condition, property: 'p' }, { p: null })).toBe(false);
      expect(match({ ...condition, property: 'p.q' }, { p: 'scalar' })).toBe(false);
    });
  }

  it('notExists is true exactly when the property is missing', () => {
    expect(match({ op: 'notExists', property: 'p' }, {})).toBe(true);
    expect(match({ op: 'notExists', property: 'p' }, { p: null })).toBe(true);
    expect(match({ op: 'notExists', property: 'p' }, { p: '' })).toBe(false);
    expect(match({ op: 'notExists', property: 'p' }, { p: false })).toBe(false);
    expect(match({ op: 'notExists', property: 'p' }, { p: 0 })).toBe(false);
  });

  it('exists is true for falsy but present values', () => {
    for (const p of ['', 0, false, [], {}]) expect(match({ op: 'exists', property: 'p' }, { p })).toBe(true);
  });
});

describe('eq / neq', () => {
  it('compares strings case-sensitively, numbers and booleans strictly', () => {
    expect(match({ op: 'eq', property: 'p', value: 'pro' }, { p: 'pro' })).toBe(true);
    expect(match({ op: 'eq', property: 'p', value: 'pro' }, { p: 'Pro' })).toBe(false);
    expect(match({ op: 'eq', property: 'p', value: 30 }, { p: 30 })).toBe(true);
    expect(match({ op: 'eq', property: 'p', value: 30 }, { p: 30.0001 })).toBe(false);
    expect(match({ op: 'eq', property: 'p', value: false }, { p: false })).toBe(true);
  });

  it('never coerces types', () => {
    expect(match({ op: 'eq', property: 'p', value: 30 }, { p: '30' })).toBe(false);
    expect(match({ op: 'eq', property: 'p', value: '30' }, { p: 30 })).toBe(false);
    expect(match({ op: 'eq', property: 'p', value: true }, { p: 'true' })).toBe(false);
    expect(match({ op: 'eq', property: 'p', value: 1 }, { p: true })).toBe(false);
  });

  it('is false on arrays and objects, even holding the value', () => {
    expect(match({ op: 'eq', property: 'p', value: 'a' }, { p: ['a'] })).toBe(false);
    expect(match({ op: 'eq', property: 'p', value: 'a' }, { p: { a: 'a' } })).toBe(false);
    expect(match({ op: 'neq', property: 'p', value: 'a' }, { p: ['b'] })).toBe(false);
    expect(match({ op: 'neq', property: 'p', value: 'a' }, { p: {} })).toBe(false);
  });

  it('neq needs a value of the same type that differs', () => {
    expect(match({ op: 'neq', property: 'p', value: 'FR' }, { p: 'DE' })).toBe(true);
    expect(match({ op: 'neq', property: 'p', value: 'FR' }, { p: 'fr' })).toBe(true);
    expect(match({ op: 'neq', property: 'p', value: 'FR' }, { p: 'FR' })).toBe(false);
    expect(match({ op: 'neq', property: 'p', value: 'FR' }, { p: 5 })).toBe(false);
    expect(match({ op: 'neq', property: 'p', value: 5 }, { p: 6 })).toBe(true);
    expect(match({ op: 'neq', property: 'p', value: true }, { p: false })).toBe(true);
  });
});

describe('in', () => {
  it('matches a scalar strictly equal to one of the values', () => {
    expect(match({ op: 'in', property: 'p', values: ['a', 'b'] }, { p: 'b' })).toBe(true);
    expect(match({ op: 'in', property: 'p', values: ['a', 'b'] }, { p: 'c' })).toBe(false);
    expect(match({ op: 'in', property: 'p', values: [1, '2', true] }, { p: 2 })).toBe(false);
    expect(match({ op: 'in', property: 'p', values: [1, '2', true] }, { p: '2' })).toBe(true);
    expect(match({ op: 'in', property: 'p', values: [1, '2', true] }, { p: true })).toBe(true);
  });

  it('is false on arrays', () => {
    expect(match({ op: 'in', property: 'p', values: ['a'] }, { p: ['a'] })).toBe(false);
  });
});

describe('contains / startsWith', () => {
  it('contains is a case-sensitive substring on strings', () => {
    expect(match({ op: 'contains', property: 'p', value: 'example' }, { p: 'ann@example.com' })).toBe(true);
    expect(match({ op: 'contains', property: 'p', value: 'Example' }, { p: 'ann@example.com' })).toBe(false);
    expect(match({ op: 'contains', property: 'p', value: '' }, { p: '' })).toBe(true);
  });

  it('contains is strict membership on arrays', () => {
    expect(match({ op: 'contains', property: 'p', value: 'vip' }, { p: ['beta', 'vip'] })).toBe(true);
    expect(match({ op: 'contains', property: 'p', value: 'vip' }, { p: ['VIP', 'vips'] })).toBe(false);
    expect(match({ op: 'contains', property: 'p', value: '3' }, { p: [3] })).toBe(false);
    expect(match({ op: 'contains', property: 'p', value: 'vip' }, { p: [] })).toBe(false);
  });

  it('contains is false on numbers, booleans and objects', () => {
    expect(match({ op: 'contains', property: 'p', value: '1' }, { p: 12 })).toBe(false);
    expect(match({ op: 'contains', property: 'p', value: 'true' }, { p: true })).toBe(false);
    expect(match({ op: 'contains', property: 'p', value: 'a' }, { p: { a: 1 } })).toBe(false);
  });

  it('startsWith works on strings only, case-sensitively', () => {
    expect(match({ op: 'startsWith', property: 'p', value: 'ann@' }, { p: 'ann@example.com' })).toBe(true);
    expect(match({ op: 'startsWith', property: 'p', value: 'Ann' }, { p: 'ann@example.com' })).toBe(false);
    expect(match({ op: 'startsWith', property: 'p', value: '1' }, { p: 12 })).toBe(false);
    expect(match({ op: 'startsWith', property: 'p', value: 'a' }, { p: ['abc'] })).toBe(false);
  });
});

describe('numeric comparisons', () => {
  it('gt / gte / lt / lte at the bound', () => {
    const at18 = { p: 18 };
    expect(match({ op: 'gt', property: 'p', value: 18 }, at18)).toBe(false);
    expect(match({ op: 'gte', property: 'p', value: 18 }, at18)).toBe(true);
    expect(match({ op: 'lt', property: 'p', value: 18 }, at18)).toBe(false);
    expect(match({ op: 'lte', property: 'p', value: 18 }, at18)).toBe(true);
    expect(match({ op: 'gt', property: 'p', value: 18 }, { p: 18.5 })).toBe(true);
    expect(match({ op: 'lt', property: 'p', value: 0 }, { p: -0.5 })).toBe(true);
  });

  it('never compares strings or booleans as numbers', () => {
    expect(match({ op: 'gt', property: 'p', value: 1 }, { p: '2' })).toBe(false);
    expect(match({ op: 'lt', property: 'p', value: 1 }, { p: false })).toBe(false);
    expect(match({ op: 'gte', property: 'p', value: 0 }, { p: [1] })).toBe(false);
  });

  it('between is inclusive at both ends and empty when min > max', () => {
    const between = (p: unknown, min: number, max: number) =>
      match({ op: 'between', property: 'p', min, max }, { p } as Properties);
    expect(between(10, 10, 20)).toBe(true);
    expect(between(20, 10, 20)).toBe(true);
    expect(between(9.999, 10, 20)).toBe(false);
    expect(between(20.001, 10, 20)).toBe(false);
    expect(between(5, 5, 5)).toBe(true);
    expect(between(15, 20, 10)).toBe(false);
    expect(between('15', 10, 20)).toBe(false);
  });
});

describe('dates', () => {
  const bound = { at: '2025-02-01T00:00:00Z' };
  const isBefore = (p: unknown, date: object = bound) =>
    match({ op: 'before', property: 'p', date }, { p } as Properties);
  const isAfter = (p: unknown, date: object = bound) =>
    match({ op: 'after', property: 'p', date }, { p } as Properties);

  it('accepts ISO strings with or without time and offset; without an offset it is UTC', () => {
    expect(isAfter('2025-02-01T00:00:01Z')).toBe(true);
    expect(isAfter('2025-02-01T00:00:00.001Z')).toBe(true);
    expect(isAfter('2025-02-02')).toBe(true);
    expect(isBefore('2025-01-31')).toBe(true);
    expect(isAfter('2025-02-01T00:01')).toBe(true);
    expect(isBefore('2025-01-31T23:59:59')).toBe(true);
    // 01:00+02:00 is 23:00Z the day before.
    expect(isBefore('2025-02-01T01:00:00+02:00')).toBe(true);
    expect(isBefore('2025-02-01T01:00:00+0200')).toBe(true);
    expect(isAfter('2025-01-31T23:00:00-02:00')).toBe(true);
  });

  it('accepts epoch milliseconds', () => {
    const ms = Date.parse('2025-02-01T00:00:00Z');
    expect(isAfter(ms + 1)).toBe(true);
    expect(isBefore(ms - 1)).toBe(true);
    expect(isBefore(0)).toBe(true);
  });

  it('is strict at the bound', () => {
    expect(isBefore('2025-02-01T00:00:00Z')).toBe(false);
    expect(isAfter('2025-02-01T00:00:00Z')).toBe(false);
    expect(isAfter('2025-02-01')).toBe(false);
    expect(isBefore(Date.parse('2025-02-01T00:00:00Z'))).toBe(false);
  });

  it('truncates digits past milliseconds and keeps years below 100', () => {
    expect(isAfter('2025-02-01T00:00:00.0009Z')).toBe(false);
    expect(isAfter('2025-02-01T00:00:00.001999Z')).toBe(true);
    expect(isBefore('0050-06-01', { at: '0050-06-01T00:00:00.001Z' })).toBe(true);
    expect(isAfter('0050-06-01', { at: '1950-01-01' })).toBe(false);
  });

  it('accepts leap days only in leap years', () => {
    expect(isAfter('2024-02-29', { at: '2024-02-28T23:59:59Z' })).toBe(true);
    expect(isAfter('2025-02-29', { at: '1970-01-01' })).toBe(false);
    expect(isAfter('2000-02-29', { at: '1970-01-01' })).toBe(true);
    expect(isAfter('1900-02-29', { at: '1800-01-01' })).toBe(false);
  });

  it('is false for anything that is not an ISO date or a number', () => {
    for (const p of [
      'not a date',
      '02/01/2025',
      'Feb 2, 2025',
      '2025-13-01',
      '2025-02-30',
      '2025-04-31T10:00Z',
      '2025-02-28T24:00',
      '2025-02-28T23:60',
      '2025-02-28T23:59:60Z',
      '2025-02-28T10:00+24:00',
      '2025-02-28T10:00+02:60',
      '2025-00-10',
      '2025-02-00',
      '2025-02-01T10Z',
      '',
      true,
      ['2025-03-01'],
      {},
    ]) {
      expect(isAfter(p, { at: '1970-01-01' })).toBe(false);
      expect(isBefore(p, { at: '2100-01-01' })).toBe(false);
    }
  });

  it('resolves { ago } against the given now, in fixed-length units', () => {
    const ago = (amount: number, unit: string) => ({ ago: { amount, unit } });
    const seen = (ms: number) => ({ p: NOW.getTime() - ms });
    expect(match({ op: 'after', property: 'p', date: ago(30, 'days') }, seen(29 * DAY))).toBe(true);
    expect(match({ op: 'after', property: 'p', date: ago(30, 'days') }, seen(30 * DAY))).toBe(false);
    expect(match({ op: 'before', property: 'p', date: ago(30, 'days') }, seen(30 * DAY + 1))).toBe(true);
    expect(match({ op: 'before', property: 'p', date: ago(2, 'weeks') }, seen(14 * DAY + 1))).toBe(true);
    expect(match({ op: 'before', property: 'p', date: ago(2, 'weeks') }, seen(14 * DAY - 1))).toBe(false);
    expect(match({ op: 'after', property: 'p', date: ago(90, 'minutes') }, seen(89 * 60_000))).toBe(true);
    expect(match({ op: 'after', property: 'p', date: ago(3, 'hours') }, seen(3 * 3_600_000 + 1))).toBe(false);
    expect(match({ op: 'after', property: 'p', date: ago(0, 'minutes') }, seen(-1))).toBe(true);
    // The same data against a later now: the relative bound moves with it.
    const later = new Date(NOW.getTime() + 2 * DAY);
    expect(match({ op: 'after', property: 'p', date: ago(30, 'days') }, seen(29 * DAY), later)).toBe(false);
  });
});

describe('segments', () => {
  const ann = profile('ann', { plan: 'pro', age: 30, country: 'FR' });
  const bob = profile('bob', { plan: 'free', age: 17 });
  const is = (definition: object, p = ann) => evaluateSegment(seg(definition), { profile: p }, NOW);
  const cond = (condition: object) => ({ type: 'property', condition });
  const pro = cond({ op: 'eq', property: 'plan', value: 'pro' });
  const adult = cond({ op: 'gte', property: 'age', value: 18 });
  const french = cond({ op: 'eq', property: 'country', value: 'FR' });

  it('all matches everyone, even an empty profile', () => {
    expect(is({ type: 'all' }, profile('empty'))).toBe(true);
  });

  it('and needs every child; or needs one', () => {
    expect(is({ type: 'and', of: [pro, adult] })).toBe(true);
    expect(is({ type: 'and', of: [pro, adult] }, bob)).toBe(false);
    expect(is({ type: 'and', of: [pro] })).toBe(true);
    expect(is({ type: 'or', of: [pro, adult] }, bob)).toBe(false);
    expect(is({ type: 'or', of: [cond({ op: 'eq', property: 'plan', value: 'free' }), adult] }, bob)).toBe(
      true,
    );
  });

  it('not inverts, so it includes profiles missing the property', () => {
    expect(is({ type: 'not', of: french })).toBe(false);
    expect(is({ type: 'not', of: french }, bob)).toBe(true);
    expect(is({ type: 'not', of: { type: 'not', of: french } })).toBe(true);
    expect(is({ type: 'not', of: { type: 'all' } })).toBe(false);
  });

  it('nests', () => {
    const def = {
      type: 'or',
      of: [
        { type: 'and', of: [pro, french] },
        { type: 'not', of: adult },
      ],
    };
    expect(is(def)).toBe(true);
    expect(is(def, bob)).toBe(true);
    expect(is(def, profile('carl', { plan: 'pro', age: 40, country: 'DE' }))).toBe(false);
  });

  it('reads profile properties only, not the profile fields', () => {
    const withZone = profile('dan', {}, { timezone: 'Europe/Paris' });
    expect(is(cond({ op: 'exists', property: 'timezone' }), withZone)).toBe(false);
    expect(is(cond({ op: 'exists', property: 'userId' }), withZone)).toBe(false);
  });
});
