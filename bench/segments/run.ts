/**
 * Segment benchmark on real Postgres (issue 5): estimate reach for five
 * typical segments next to a plain `SELECT count(*)` over profiles in the
 * same run, then stream the whole audience by keyset pages and report the
 * peak RSS. Prints one JSON line.
 *
 *   HERALD_TEST_PG_URL=postgres://... npx tsx bench/segments/run.ts
 *   BENCH_USERS=1000000 BENCH_EVENTS=10000000 (defaults) BENCH_RUNS=3
 *
 * Data generation is not timed. Times are the median of BENCH_RUNS runs after one warm-up.
 */
import { migrate, postgresStorage } from '@herald/adapter-postgres';
import type { SegmentDefinition, UserId } from '@herald/core';
import pg from 'pg';

const url = process.env.HERALD_BENCH_PG_URL ?? process.env.HERALD_TEST_PG_URL;
if (!url) throw new Error('Set HERALD_TEST_PG_URL (eval "$(bash scripts/services/postgres.sh start)")');
const USERS = Number(process.env.BENCH_USERS ?? 1_000_000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const schema = 'bench_segments';
const NOW = new Date('2026-03-01T12:00:00Z');

const SEGMENTS: Array<{ name: string; segment: SegmentDefinition }> = [
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
    segment: {
      type: 'and',
      of: [
        { type: 'property', condition: { op: 'eq', property: 'country', value: 'FR' } },
        {
          type: 'did',
          event: { name: 'charged', where: [] },
          window: { inLast: { amount: 30, unit: 'days' } },
        },
      ],
    },
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

const h = (x: string) => `(hashint8(${x})::bigint + 2147483648)`;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

async function timed(work: () => Promise<unknown>): Promise<number> {
  await work(); // warm-up: caches and plans, as a live system has them
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await work();
    times.push(performance.now() - start);
  }
  return Math.round(median(times) * 10) / 10;
}

async function generate(pool: pg.Pool): Promise<number> {
  const start = performance.now();
  await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await migrate({ client: pool, schema });
  // Deterministic pseudo-random spreads (Postgres' own integer hash, one stream per column), so every run
  // sees the same data. h(x) maps a bigint to 0 .. 2^32 - 1.
  await pool.query(
    `INSERT INTO ${schema}.profiles (user_id, properties, created_at, updated_at)
     SELECT 'u' || lpad(i::text, 8, '0'),
            jsonb_build_object('plan', (ARRAY['free', 'pro', 'team', 'enterprise'])[1 + ${h('i * 3 + 1')} % 4],
                               'country', (ARRAY['FR', 'DE', 'US', 'GB', 'ES', 'IT', 'BR', 'IN', 'JP', 'CA'])[1 + ${h('i * 3 + 2')} % 10],
                               'age', 18 + ${h('i * 3')} % 60),
            $1::timestamptz, $1::timestamptz
     FROM generate_series(1::bigint, $2::bigint) AS i`,
    [NOW.toISOString(), USERS],
  );
  await pool.query(
    `INSERT INTO ${schema}.events (user_id, name, "time", properties)
     SELECT 'u' || lpad((1 + ${h('i * 4')} % $3)::text, 8, '0'),
            (ARRAY['viewed', 'viewed', 'viewed', 'added', 'added', 'charged', 'searched', 'shared', 'rated', 'opened'])[1 + ${h('i * 4 + 1')} % 10],
            $1::timestamptz - (${h('i * 4 + 2')} % (90 * 86400)) * interval '1 second',
            jsonb_build_object('amount', ${h('i * 4 + 3')} % 200)
     FROM generate_series(1::bigint, $2::bigint) AS i
     ORDER BY 3`,
    [NOW.toISOString(), EVENTS, USERS],
  );
  await pool.query(`VACUUM ANALYZE ${schema}.profiles`);
  await pool.query(`VACUUM ANALYZE ${schema}.events`);
  return Math.round(performance.now() - start);
}

async function main() {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => undefined);
  const storage = postgresStorage({ client: pool, schema });
  try {
    const generationMs = await generate(pool);
    const countMs = await timed(() => pool.query(`SELECT count(*) FROM ${schema}.profiles`));
    const segments = [];
    for (const { name, segment } of SEGMENTS) {
      let reach = 0;
      const ms = await timed(async () => {
        reach = (await storage.estimateReach(segment, NOW)).qualified;
      });
      segments.push({ name, ms, ratio: Math.round((ms / countMs) * 100) / 100, qualified: reach });
    }

    // Stream the whole audience by keyset pages, as the fan-out does, sampling RSS per page.
    const baseRss = process.memoryUsage().rss;
    let peakRss = baseRss;
    let streamed = 0;
    let after: UserId | null = null;
    const streamStart = performance.now();
    for (;;) {
      const page: UserId[] = await storage.selectAudience({ type: 'all' }, { after, limit: 1000, now: NOW });
      streamed += page.length;
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      if (page.length < 1000) break;
      after = page[page.length - 1]!;
    }
    const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
    console.log(
      JSON.stringify({
        bench: 'segments',
        users: USERS,
        events: EVENTS,
        generationMs,
        countMs,
        segments,
        withinTarget: segments.every((s) => s.ratio <= 3),
        stream: {
          users: streamed,
          ms: Math.round(performance.now() - streamStart),
          peakRssMb: mb(peakRss),
          baseRssMb: mb(baseRss),
        },
      }),
    );
  } finally {
    if (!process.env.BENCH_KEEP) await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  }
}

await main();
