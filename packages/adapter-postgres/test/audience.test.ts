import type { SegmentDefinition, UserId } from '@herald/core';
import { fixtures } from '@herald/core/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { postgresStorage, type SqlClient, toSqlClient } from '../src/index.js';
import { segmentPredicate } from '../src/segments/compile.js';
import { type Backend, openBackend, realPostgresUrl } from './helpers.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 240_000 });

const USERS = 20_000;
const PAGE = 1_000;

/** A segment's whole audience by keyset pages of PAGE, as the fan-out reads it, and the largest page. */
async function stream(
  storage: ReturnType<typeof postgresStorage>,
  segment: SegmentDefinition,
): Promise<{ ids: UserId[]; largestPage: number }> {
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

/** A statement the adapter ran, with the set_config calls made before it in its transaction. */
interface Statement {
  text: string;
  params: readonly unknown[];
  settings: string[];
}

/** `target`, remembering in `ran` each statement with the settings made before it in its transaction. */
function recording(target: SqlClient, ran: Statement[], settings: string[] = []): SqlClient {
  return Object.assign(
    {
      query<Row>(text: string, params: readonly unknown[] = []) {
        if (text.includes('set_config(')) settings.push(text);
        else ran.push({ text, params, settings: [...settings] });
        return target.query<Row>(text, params);
      },
      transaction<T>(fn: (tx: SqlClient) => Promise<T>) {
        return target.transaction((tx) => fn(recording(tx, ran, [])));
      },
    },
    { [Symbol.for('herald.sqlClient')]: true },
  );
}

/** The plan of the last statement in `ran`, replayed on `sql` under the settings its transaction made. */
function planOfLast(sql: SqlClient, ran: readonly Statement[]): Promise<string> {
  const last = ran[ran.length - 1]!;
  return sql.transaction(async (tx) => {
    for (const setting of last.settings) await tx.query(setting);
    const { rows } = await tx.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${last.text}`, [
      ...last.params,
    ]);
    return JSON.stringify(rows[0]?.['QUERY PLAN']);
  });
}

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

  it('streams every member exactly once, in id order, in pages of at most the limit', async () => {
    const { ids, largestPage } = await stream(storage, { type: 'all' });
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
    const { ids } = await stream(storage, pro);
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

/**
 * Which counts may run on parallel workers. A predicate on the profile row
 * alone is split between workers as `count(*)` is; one that reads a set of
 * users from the event tables stays serial, because every worker would
 * build that whole set again. The server here is told parallel plans cost
 * nothing, so the planner takes one wherever the adapter lets it; the
 * statements the adapter ran are replayed under EXPLAIN with the settings
 * their transaction made. Also which counts may hash their sets: those that
 * read every profile's properties anyway.
 */
describe('parallel workers for counts on Postgres', () => {
  let backend: Backend;
  let pool: pg.Pool;
  const ran: Statement[] = [];
  let storage: ReturnType<typeof postgresStorage>;

  beforeAll(async () => {
    backend = await openBackend('postgres', 'parallel_counts');
    pool = new pg.Pool({
      connectionString: realPostgresUrl(),
      max: 2,
      options:
        '-c parallel_setup_cost=0 -c parallel_tuple_cost=0 -c min_parallel_table_scan_size=0 -c min_parallel_index_scan_size=0 -c max_parallel_workers_per_gather=2',
    });
    pool.on('error', () => undefined);
    storage = postgresStorage({ client: recording(toSqlClient(pool), ran), schema: backend.schema });
    await backend.sql.query(
      `INSERT INTO "${backend.schema}".profiles (user_id, properties, created_at, updated_at)
       SELECT 'user-' || lpad(i::text, 6, '0'), jsonb_build_object('plan', CASE WHEN i % 3 = 0 THEN 'pro' ELSE 'free' END),
              $1::timestamptz, $1::timestamptz
       FROM generate_series(1, $2::int) AS i`,
      [fixtures.T0.toISOString(), USERS],
    );
    // One event for every fifth user, an hour before T0.
    await backend.sql.query(
      `INSERT INTO "${backend.schema}".events (user_id, name, "time", properties)
       SELECT 'user-' || lpad(i::text, 6, '0'), 'opened', $1::timestamptz - interval '1 hour', '{}'
       FROM generate_series(5, $2::int, 5) AS i`,
      [fixtures.T0.toISOString(), USERS],
    );
    await backend.sql.query(`ANALYZE "${backend.schema}".profiles`);
    await backend.sql.query(`ANALYZE "${backend.schema}".latest_events`);
  });
  afterAll(async () => {
    await pool.end();
    await backend.close();
  });

  const pro: SegmentDefinition = {
    type: 'property',
    condition: { op: 'eq', property: 'plan', value: 'pro' },
  };
  const opened: SegmentDefinition = {
    type: 'did',
    event: { name: 'opened', where: [] },
    window: { inLast: { amount: 1, unit: 'days' } },
  };

  it('splits a property count between workers, with the same answer', async () => {
    const reach = await storage.estimateReach(pro, fixtures.T0);
    expect(reach.qualified).toBe(Math.floor(USERS / 3));
    expect(await planOfLast(toSqlClient(pool), ran)).toContain('"Node Type":"Gather"');
    expect(await storage.countAudience(pro, fixtures.T0)).toBe(Math.floor(USERS / 3));
    expect(await planOfLast(toSqlClient(pool), ran)).toContain('"Node Type":"Gather"');
  });

  it('merges a "did not" set in user order from latest_events, with no sort', async () => {
    const notOpened: SegmentDefinition = {
      type: 'didNot',
      event: { name: 'opened', where: [] },
      window: { inLast: { amount: 1, unit: 'days' } },
    };
    expect(await storage.countAudience(notOpened, fixtures.T0)).toBe(USERS - USERS / 5);
    const plan = await planOfLast(toSqlClient(pool), ran);
    expect(plan).toContain('"Index Name":"latest_events_pkey"');
    expect(plan).not.toContain('"Node Type":"Sort"');
  });

  it('keeps a count that reads a behaviour set serial, with and without a property beside it', async () => {
    expect(await storage.countAudience(opened, fixtures.T0)).toBe(USERS / 5);
    expect(await planOfLast(toSqlClient(pool), ran)).not.toContain('"Node Type":"Gather"');
    const both: SegmentDefinition = { type: 'and', of: [pro, { type: 'not', of: opened }] };
    // Multiples of 3 that are not multiples of 5.
    const expected = Math.floor(USERS / 3) - Math.floor(USERS / 15);
    expect((await storage.estimateReach(both, fixtures.T0)).qualified).toBe(expected);
    expect(await planOfLast(toSqlClient(pool), ran)).not.toContain('"Node Type":"Gather"');
  });

  it('lets a count hash its sets where a property condition is under an `or` or a `not`, and only there', async () => {
    const hashJoinsOff = () => ran[ran.length - 1]!.settings.join(' ').includes(`'enable_hashjoin', 'off'`);
    // Multiples of 3 or of 5.
    const proOrOpened: SegmentDefinition = { type: 'or', of: [pro, opened] };
    expect(await storage.countAudience(proOrOpened, fixtures.T0)).toBe(
      Math.floor(USERS / 3) + USERS / 5 - Math.floor(USERS / 15),
    );
    expect(hashJoinsOff()).toBe(false);
    // Multiples of 5 that are not multiples of 3.
    const notProAndOpened: SegmentDefinition = { type: 'and', of: [{ type: 'not', of: pro }, opened] };
    expect((await storage.estimateReach(notProAndOpened, fixtures.T0)).qualified).toBe(
      USERS / 5 - Math.floor(USERS / 15),
    );
    expect(hashJoinsOff()).toBe(false);
    // A conjunct property: its index narrows the profiles, and the sets merge.
    const proAndOpened: SegmentDefinition = { type: 'and', of: [pro, opened] };
    expect(await storage.countAudience(proAndOpened, fixtures.T0)).toBe(Math.floor(USERS / 15));
    expect(hashJoinsOff()).toBe(true);
  });
});

/**
 * Pages of behaviour segments. "Did any of X, Y, Z in the last week" is one EXISTS with `name = ANY`,
 * a semi-join: as three EXISTS under an `or` they were subplans, which Postgres costed without the
 * page's LIMIT and hashed, so every page read every user's events of the three names in the window
 * (140-180 ms a page at 1,000,000 profiles against 16-23 probed). A page's own events are bounded by
 * its keyset, and it runs with no sorts, hash joins or parallel workers: a page stops after `limit`
 * members, and a sort or hash would read a whole window first. An event condition that cannot become
 * a join (beside a property under an `or`, or under a `not`) is probed per profile, never hashed.
 */
describe('audience pages of behaviour segments on Postgres', () => {
  let backend: Backend;
  const ran: Statement[] = [];
  let storage: ReturnType<typeof postgresStorage>;
  const inLastWeek = { inLast: { amount: 7, unit: 'days' } } as const;
  const anyOfThree: SegmentDefinition = {
    type: 'or',
    of: ['searched', 'shared', 'rated'].map((name) => ({
      type: 'did' as const,
      event: { name, where: [] },
      window: inLastWeek,
    })),
  };
  const searchedNotRated: SegmentDefinition = {
    type: 'and',
    of: [
      { type: 'did', event: { name: 'searched', where: [] }, window: inLastWeek },
      { type: 'didNot', event: { name: 'rated', where: [] }, window: inLastWeek },
    ],
  };
  const vip: SegmentDefinition = { type: 'property', condition: { op: 'eq', property: 'vip', value: true } };
  // An event condition beside a property condition under an `or`, and a "did not" there.
  const ratedOrVip: SegmentDefinition = {
    type: 'or',
    of: [{ type: 'did', event: { name: 'rated', where: [] }, window: inLastWeek }, vip],
  };
  const vipOrNotSearched: SegmentDefinition = {
    type: 'or',
    of: [vip, { type: 'didNot', event: { name: 'searched', where: [] }, window: inLastWeek }],
  };
  const userId = (i: number) => `user-${String(i).padStart(6, '0')}` as UserId;
  const users = Array.from({ length: USERS }, (_, i) => i + 1);
  // In the window: searched every third user, shared every seventh, rated every eleventh.
  // Outside it: rated every second. Everyone viewed an hour ago.
  const anyOfThreeMembers = users.filter((i) => i % 3 === 0 || i % 7 === 0 || i % 11 === 0).map(userId);
  const searchedNotRatedMembers = users.filter((i) => i % 3 === 0 && i % 11 !== 0).map(userId);
  // Every thirteenth user is a VIP.
  const ratedOrVipMembers = users.filter((i) => i % 11 === 0 || i % 13 === 0).map(userId);
  const vipOrNotSearchedMembers = users.filter((i) => i % 13 === 0 || i % 3 !== 0).map(userId);

  beforeAll(async () => {
    backend = await openBackend('postgres', 'behaviour_pages');
    storage = postgresStorage({ client: recording(backend.sql, ran), schema: backend.schema });
    await backend.sql.query(
      `INSERT INTO "${backend.schema}".profiles (user_id, properties, created_at, updated_at)
       SELECT 'user-' || lpad(i::text, 6, '0'), jsonb_build_object('vip', i % 13 = 0), $1::timestamptz, $1::timestamptz
       FROM generate_series(1, $2::int) AS i`,
      [fixtures.T0.toISOString(), USERS],
    );
    await backend.sql.query(
      `INSERT INTO "${backend.schema}".events (user_id, name, "time", properties)
       SELECT 'user-' || lpad(i::text, 6, '0'), e.name, $1::timestamptz - e.ago, '{}'
       FROM generate_series(1, $2::int) AS i
       CROSS JOIN (VALUES ('searched', 3, interval '1 day'), ('shared', 7, interval '2 days'),
                          ('rated', 11, interval '3 days'), ('rated', 2, interval '30 days'),
                          ('viewed', 1, interval '1 hour')) AS e(name, every, ago)
       WHERE i % e.every = 0`,
      [fixtures.T0.toISOString(), USERS],
    );
    await backend.sql.query(`ANALYZE "${backend.schema}".profiles`);
    await backend.sql.query(`ANALYZE "${backend.schema}".events`);
  });
  afterAll(() => backend.close());

  it('streams exactly the members of each segment', async () => {
    expect((await stream(storage, anyOfThree)).ids).toEqual(anyOfThreeMembers);
    expect((await stream(storage, searchedNotRated)).ids).toEqual(searchedNotRatedMembers);
    expect((await stream(storage, ratedOrVip)).ids).toEqual(ratedOrVipMembers);
    expect((await stream(storage, vipOrNotSearched)).ids).toEqual(vipOrNotSearchedMembers);
  });

  it('reads a deep page of "did any of" through one semi-join, hashing no subplan and sorting nothing', async () => {
    await storage.selectAudience(anyOfThree, { after: userId(10_000), limit: PAGE, now: fixtures.T0 });
    const plan = await planOfLast(backend.sql, ran);
    expect(plan).not.toContain('hashed SubPlan');
    expect(plan).not.toContain('"Node Type":"Sort"');
    expect(plan).toContain('"Join Type":"Semi"');
  });

  it("bounds a deep page's events by its keyset and runs it with no sorts, hash joins or workers", async () => {
    await storage.selectAudience(searchedNotRated, { after: userId(10_000), limit: PAGE, now: fixtures.T0 });
    const last = ran[ran.length - 1]!;
    expect(last.text).toMatch(/e\.user_id > \$1/);
    expect(last.settings.join(' ')).toMatch(
      /enable_sort', 'off'.*enable_hashjoin', 'off'.*max_parallel_workers_per_gather', '0'/s,
    );
    const plan = await planOfLast(backend.sql, ran);
    expect(plan).toContain('"Join Type":"Anti"');
    expect(plan).not.toContain('"Node Type":"Sort"');
    expect(plan).not.toContain('"Node Type":"Hash"');
  });

  it('probes the events of a condition under an `or` per profile on a deep page, hashing no subplan', async () => {
    for (const segment of [ratedOrVip, vipOrNotSearched]) {
      await storage.selectAudience(segment, { after: userId(10_000), limit: PAGE, now: fixtures.T0 });
      const plan = await planOfLast(backend.sql, ran);
      expect(plan).toContain('"Subplan Name":"SubPlan 1"');
      expect(plan).not.toContain('hashed SubPlan');
    }
  });
});
