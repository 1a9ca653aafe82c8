import {
  evaluateSegment,
  matchesCondition,
  type Profile,
  type SegmentDefinition,
  type UserId,
} from '@herald/core';
import { fixtures } from '@herald/core/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { postgresStorage } from '../src/index.js';
import { type Backend, openBackend } from './helpers.js';
import { isoDate, profiles, segment } from './segment-arbitraries.js';

// PGlite boots a WebAssembly Postgres (seconds; far more on a loaded CI box) and real-server
// cases wait on locks and connections, so this file allows more than the default timeouts.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 240_000 });

/**
 * The segment → SQL compiler against core's reference evaluator: the same
 * generated profiles and definitions, evaluated in Node and in Postgres,
 * must select identical member sets. Seeds are fixed so a failure replays.
 */
const SEED = 20_250_301;
const PROFILES = 400;
const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

describe.each(['pglite', 'postgres'] as const)('segment compiler on %s', (kind) => {
  let backend: Backend;
  let storage: ReturnType<typeof postgresStorage>;
  const [population] = fc.sample(profiles(PROFILES), { seed: SEED, numRuns: 1 }) as [Profile[]];

  beforeAll(async () => {
    backend = await openBackend(kind, 'segments');
    storage = postgresStorage({ client: backend.client, schema: backend.schema });
    for (const p of population) await storage.upsertProfile(p);
  });
  afterAll(() => backend.close());

  const reference = (def: SegmentDefinition, now: Date): string[] =>
    population
      .filter((p) => evaluateSegment(def, { profile: p }, now))
      .map((p) => p.userId)
      .sort(byId);

  const inSql = async (def: SegmentDefinition, now: Date): Promise<{ ids: string[]; count: number }> => {
    const ids: UserId[] = [];
    let after: UserId | null = null;
    for (;;) {
      const page: UserId[] = await storage.selectAudience(def, { after, limit: 150, now });
      ids.push(...page);
      if (page.length < 150) break;
      after = page[page.length - 1]!;
    }
    return { ids, count: await storage.countAudience(def, now) };
  };

  it('selects exactly what the reference evaluator selects, for generated definitions', async () => {
    let nonTrivial = 0;
    await fc.assert(
      fc.asyncProperty(segment, fc.integer({ min: -30, max: 30 }), async (def, shiftDays) => {
        const now = new Date(fixtures.T0.getTime() + shiftDays * fixtures.DAY);
        const expected = reference(def, now);
        if (expected.length > 0 && expected.length < PROFILES) nonTrivial += 1;
        const actual = await inSql(def, now);
        expect(actual.ids).toEqual(expected);
        expect(actual.count).toBe(expected.length);
      }),
      { seed: SEED, numRuns: 400 },
    );
    // The generators must actually split the population, or equality proves little.
    expect(nonTrivial).toBeGreaterThan(150);
  });

  it('reads date strings and epoch numbers to the same instant as the reference, or rejects the same ones', async () => {
    const samples = [
      ...new Set([
        ...fc.sample(isoDate, { seed: SEED, numRuns: 3000 }),
        '2024-02-30',
        '2024-05-01T24:00',
        '2024-05-01T24:00:00.0001',
        '2024-05-01T10:00+0200',
        '2024-05-01T10:00:00.123456789Z',
        '0000-01-01',
        '2025-03-01T12:00:00Z',
        'not a date',
      ]),
    ];
    const { rows } = await backend.sql.query<{ text: string; ms: number | null }>(
      `SELECT t AS text, "${backend.schema}".epoch_ms(to_jsonb(t)) AS ms FROM unnest($1::text[]) AS t`,
      [samples],
    );
    expect(rows).toHaveLength(samples.length);
    let valid = 0;
    for (const { text, ms } of rows) {
      const props = { d: text };
      const holds = (op: 'before' | 'after', at: number) =>
        matchesCondition({ op, property: 'd', date: { at: new Date(at) } }, props, fixtures.T0);
      if (ms === null) {
        // Unreadable for the reference too: not before the end of time, not after its start.
        expect({ text, before: holds('before', 8.64e15), after: holds('after', -8.64e15) }).toEqual({
          text,
          before: false,
          after: false,
        });
      } else {
        valid += 1;
        // The reference reads exactly `ms`: before ms+1, after ms-1, neither before nor after ms.
        expect({
          text,
          pinned: [holds('before', ms + 1), holds('after', ms - 1), holds('before', ms), holds('after', ms)],
        }).toEqual({
          text,
          pinned: [true, true, false, false],
        });
      }
    }
    expect(valid).toBeGreaterThan(50);
    expect(valid).toBeLessThan(rows.length);
  });

  it('never splices values into SQL: quotes, backslashes and SQL in names and values are just data', async () => {
    const hostile = "x'); DROP TABLE profiles; --";
    const def: SegmentDefinition = {
      type: 'or',
      of: [
        { type: 'property', condition: { op: 'eq', property: hostile, value: hostile } },
        { type: 'property', condition: { op: 'contains', property: `${hostile}.a`, value: "'\\" } },
        { type: 'property', condition: { op: 'eq', property: "it's", value: "O'Brien" } },
      ],
    };
    const actual = await inSql(def, fixtures.T0);
    expect(actual.ids).toEqual(reference(def, fixtures.T0));
    expect(await storage.countAudience({ type: 'all' }, fixtures.T0)).toBe(PROFILES);
  });
});
