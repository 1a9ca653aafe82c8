import type { SegmentDefinition } from '@herald/core';

/** The two conditions "property AND behaviour" joins, and "behaviour OR property" sets side by side. */
const inFrance: SegmentDefinition = {
  type: 'property',
  condition: { op: 'eq', property: 'country', value: 'FR' },
};
const chargedIn30Days: SegmentDefinition = {
  type: 'did',
  event: { name: 'charged', where: [] },
  window: { inLast: { amount: 30, unit: 'days' } },
};

/** The five typical segments `run.ts` measures (and `partition-experiment.ts` replays), in that order. */
export const SEGMENTS: Array<{ name: string; segment: SegmentDefinition }> = [
  {
    name: 'property equals',
    segment: { type: 'property', condition: { op: 'eq', property: 'plan', value: 'pro' } },
  },
  {
    name: 'did event in last 7 days at least 3 times',
    segment: {
      type: 'did',
      event: { name: 'viewed', where: [] },
      count: { op: 'atLeast', value: 3 },
      window: { inLast: { amount: 7, unit: 'days' } },
    },
  },
  {
    name: 'did A but not B in 30 days',
    segment: {
      type: 'and',
      of: [
        {
          type: 'did',
          event: { name: 'added', where: [] },
          window: { inLast: { amount: 30, unit: 'days' } },
        },
        {
          type: 'didNot',
          event: { name: 'charged', where: [] },
          window: { inLast: { amount: 30, unit: 'days' } },
        },
      ],
    },
  },
  {
    name: 'property AND behaviour',
    segment: { type: 'and', of: [inFrance, chargedIn30Days] },
  },
  {
    name: 'OR of three behaviours',
    segment: {
      type: 'or',
      of: ['searched', 'shared', 'rated'].map((name) => ({
        type: 'did' as const,
        event: { name, where: [] },
        window: { inLast: { amount: 14, unit: 'days' } },
      })),
    },
  },
];

/**
 * What `run.ts` also measures, outside the target: a behaviour condition beside a property under an
 * `or`, which cannot become a join (its audience read in 26.6 s when Postgres hashed the condition's
 * window for every page, its count took 1.1-1.3 s merged; the adapter's README, "Segments in SQL").
 */
export const MORE_SEGMENTS: Array<{ name: string; segment: SegmentDefinition }> = [
  {
    name: 'behaviour OR property',
    segment: { type: 'or', of: [chargedIn30Days, inFrance] },
  },
];
