import { type Profile, SegmentDefinition } from '../model/index.js';
import { DAY, profile, T0 } from './fixtures.js';

/**
 * Profiles and segments chosen to hit every rule of the reference evaluator
 * (segments/evaluate.ts): each operator at its bounds, missing and null
 * properties, type mismatches, dotted paths, dates as ISO strings and epoch
 * numbers, relative bounds, and composition. The storage suite checks that a
 * store selects exactly what the reference evaluator selects, at `T0`.
 */
export const MATRIX_NOW = T0;

export const matrixProfiles: Profile[] = [
  profile('m01', {
    plan: 'pro',
    age: 30,
    country: 'FR',
    tags: ['vip', 'beta'],
    address: { city: 'Paris', zip: '75001' },
    signupAt: '2025-02-20T00:00:00Z',
    lastSeen: T0.getTime() - 2 * DAY,
    email: 'amelie@example.com',
  }),
  profile('m02', {
    plan: 'free',
    age: 17,
    country: 'DE',
    tags: [],
    address: { city: 'Berlin' },
    signupAt: '2024-01-01',
    lastSeen: T0.getTime() - 40 * DAY,
  }),
  // Case and type mismatches: 'Pro' is not 'pro', '30' is not 30, a null country is missing.
  profile('m03', { plan: 'Pro', age: '30', country: null, signupAt: '2025-02-28T12:00', active: 'true' }),
  profile('m04', {}),
  profile('m05', {
    plan: 'pro',
    age: 65,
    email: 'ann@example.com',
    'utm.source': 'mail',
    score: 2.5,
    active: true,
    signupAt: '2025-03-01T13:00:00+02:00',
  }),
  profile('m06', { age: 18, active: false, tags: 'vip', score: -1, country: 'fr' }),
  profile('m07', { age: 18.5, signupAt: 'not a date', lastSeen: true, plan: '' }),
  // Arrays and objects are never eq / in; address is a string here, so address.city is missing.
  profile('m08', { plan: ['pro'], address: 'Paris', tags: ['VIP', 3], score: 0 }),
  profile('m09', { age: 0, country: 'FR', address: { city: null }, signupAt: T0.getTime() }),
  profile('m10', {
    age: 120,
    plan: 'enterprise',
    nested: { deep: { level: 3 } },
    lastSeen: T0.getTime() - 30 * DAY,
  }),
];

/** Parsed, as the engine hands segments to storage: date bounds are Dates by then. */
const p = (condition: object): SegmentDefinition => SegmentDefinition.parse({ type: 'property', condition });

export const matrixSegments: Array<{ name: string; segment: SegmentDefinition }> = [
  { name: 'all', segment: { type: 'all' } },
  { name: 'eq string', segment: p({ op: 'eq', property: 'plan', value: 'pro' }) },
  { name: 'eq number', segment: p({ op: 'eq', property: 'age', value: 30 }) },
  { name: 'eq boolean', segment: p({ op: 'eq', property: 'active', value: true }) },
  { name: 'eq empty string', segment: p({ op: 'eq', property: 'plan', value: '' }) },
  { name: 'neq', segment: p({ op: 'neq', property: 'country', value: 'FR' }) },
  { name: 'neq number', segment: p({ op: 'neq', property: 'age', value: 18 }) },
  { name: 'in strings', segment: p({ op: 'in', property: 'plan', values: ['pro', 'enterprise'] }) },
  { name: 'in mixed', segment: p({ op: 'in', property: 'age', values: [17, '30', 65] }) },
  { name: 'contains substring', segment: p({ op: 'contains', property: 'email', value: 'example.com' }) },
  { name: 'contains array member', segment: p({ op: 'contains', property: 'tags', value: 'vip' }) },
  { name: 'contains empty', segment: p({ op: 'contains', property: 'plan', value: '' }) },
  { name: 'startsWith', segment: p({ op: 'startsWith', property: 'email', value: 'ann@' }) },
  { name: 'startsWith case', segment: p({ op: 'startsWith', property: 'plan', value: 'P' }) },
  { name: 'exists', segment: p({ op: 'exists', property: 'country' }) },
  { name: 'notExists', segment: p({ op: 'notExists', property: 'country' }) },
  { name: 'gt', segment: p({ op: 'gt', property: 'age', value: 18 }) },
  { name: 'gte', segment: p({ op: 'gte', property: 'age', value: 18 }) },
  { name: 'lt', segment: p({ op: 'lt', property: 'age', value: 18 }) },
  { name: 'lte', segment: p({ op: 'lte', property: 'age', value: 18 }) },
  { name: 'between inclusive', segment: p({ op: 'between', property: 'age', min: 17, max: 30 }) },
  { name: 'between fractional', segment: p({ op: 'between', property: 'score', min: -1, max: 2.5 }) },
  { name: 'between empty range', segment: p({ op: 'between', property: 'age', min: 30, max: 17 }) },
  { name: 'dotted path', segment: p({ op: 'eq', property: 'address.city', value: 'Paris' }) },
  { name: 'dotted exists', segment: p({ op: 'exists', property: 'address.city' }) },
  { name: 'dotted notExists', segment: p({ op: 'notExists', property: 'address.city' }) },
  { name: 'deep path', segment: p({ op: 'gte', property: 'nested.deep.level', value: 3 }) },
  { name: 'top-level dotted key', segment: p({ op: 'eq', property: 'utm.source', value: 'mail' }) },
  {
    name: 'after absolute',
    segment: p({ op: 'after', property: 'signupAt', date: { at: '2025-02-01T00:00:00Z' } }),
  },
  {
    name: 'before absolute',
    segment: p({ op: 'before', property: 'signupAt', date: { at: '2025-03-01T11:00:00Z' } }),
  },
  {
    name: 'after relative days',
    segment: p({ op: 'after', property: 'lastSeen', date: { ago: { amount: 30, unit: 'days' } } }),
  },
  {
    name: 'before relative weeks',
    segment: p({ op: 'before', property: 'lastSeen', date: { ago: { amount: 1, unit: 'weeks' } } }),
  },
  {
    name: 'after now',
    segment: p({ op: 'after', property: 'signupAt', date: { ago: { amount: 0, unit: 'minutes' } } }),
  },
  {
    name: 'and',
    segment: {
      type: 'and',
      of: [p({ op: 'eq', property: 'plan', value: 'pro' }), p({ op: 'gt', property: 'age', value: 40 })],
    },
  },
  {
    name: 'or',
    segment: {
      type: 'or',
      of: [
        p({ op: 'eq', property: 'country', value: 'DE' }),
        p({ op: 'contains', property: 'tags', value: 'vip' }),
      ],
    },
  },
  { name: 'not', segment: { type: 'not', of: p({ op: 'eq', property: 'country', value: 'FR' }) } },
  {
    name: 'not or missing',
    segment: {
      type: 'or',
      of: [p({ op: 'notExists', property: 'country' }), p({ op: 'neq', property: 'country', value: 'FR' })],
    },
  },
  {
    name: 'nested composition',
    segment: {
      type: 'and',
      of: [
        { type: 'not', of: { type: 'and', of: [p({ op: 'exists', property: 'plan' })] } },
        { type: 'or', of: [p({ op: 'lte', property: 'age', value: 18 }), { type: 'all' }] },
      ],
    },
  },
];
