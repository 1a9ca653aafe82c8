import type { SegmentDefinition, UserId } from '@herald/core';
import { fixtures } from '@herald/core/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { postgresStorage } from '../src/index.js';
import { segmentPredicate } from '../src/segments/compile.js';
import { type Backend, openBackend } from './helpers.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 240_000 });

const USERS = 20_000;
const PAGE = 1_000;

/**
 * Streaming a large audience: pages by keyset on the primary key, each one
 * an index range scan that stops after `limit` rows, so page 20 costs what
 * page 1 costs and nothing holds the whole audience.
 */
describe('keyset audience streaming on Postgres', () => {
  let backend: Backend;
  let storage: ReturnType<typeof postgresStorage>;

  beforeAll(async () => {
    backend = await openBackend('postgres', 'audience');
    storage = postgresStorage({ client: backend.client, schema: backend.schema });
    // Generated in SQL: the test is about reading, not about 20,000 round trips.
    await backend.sql.query(
      `INSERT INTO "${backend.schema}".profiles (user_id, properties, created_at, updated_at)
       SELECT 'user-' || lpad(i::text, 6, '0'), jsonb_build_object('plan', CASE WHEN i % 3 = 0 THEN 'pro' ELSE 'free' END, 'n', i),
              $1::timestamptz, $1::timestamptz
       FROM generate_series(1, $2::int) AS i`,
      [fixtures.T0.toISOString(), USERS],
    );
    await backend.sql.query(`ANALYZE "${backend.schema}".profiles`);
  });
  afterAll(() => backend.close());

  async function stream(segment: SegmentDefinition): Promise<{ ids: UserId[]; largestPage: number }> {
    const ids: UserId[] = [];
    let after: UserId | null = null;
    let largestPage = 0;
    for (;;) {
      const page: UserId[] = await storage.selectAudience(segment, { after, limit: PAGE, now: fixtures.T0 });
      largestPage = Math.max(largestPage, page.length);
      ids.push(...page);
      if (page.length < PAGE) return { ids, largestPage };
      after = page[page.length - 1]!;
    }
  }

  it('streams every member exactly once, in id order, in pages of at most the limit', async () => {
    const { ids, largestPage } = await stream({ type: 'all' });
    expect(ids).toHaveLength(USERS);
    expect(new Set(ids).size).toBe(USERS);
    expect(ids).toEqual([...ids].sort());
    expect(largestPage).toBe(PAGE);
    expect(await storage.countAudience({ type: 'all' }, fixtures.T0)).toBe(USERS);
  });

  it('streams a filtered segment and counts it in one query, agreeing with each other', async () => {
    const pro: SegmentDefinition = {
      type: 'property',
      condition: { op: 'eq', property: 'plan', value: 'pro' },
    };
    const { ids } = await stream(pro);
    expect(ids).toHaveLength(Math.floor(USERS / 3));
    expect(await storage.countAudience(pro, fixtures.T0)).toBe(ids.length);
  });

  it('reads a deep page by an index range scan on the primary key, with no sort and no offset', async () => {
    const segment: SegmentDefinition = {
      type: 'property',
      condition: { op: 'gte', property: 'n', value: 0 },
    };
    const quotedSchema = `"${backend.schema}"`;
    const { where, params } = segmentPredicate(segment, {
      schema: quotedSchema,
      profile: 'p',
      now: fixtures.T0,
    });
    const after = params.add('user-015000');
    const limit = params.add(PAGE);
    const { rows } = await backend.sql.query<{ 'QUERY PLAN': unknown }>(
      `EXPLAIN (FORMAT JSON) SELECT p.user_id FROM ${quotedSchema}.profiles p WHERE p.user_id > ${after} AND ${where}
       ORDER BY p.user_id LIMIT ${limit}`,
      params.values,
    );
    const plan = JSON.stringify(rows[0]?.['QUERY PLAN']);
    expect(plan).toContain('"Index Name":"profiles_pkey"');
    expect(plan).not.toContain('"Node Type":"Sort"');
  });
});
