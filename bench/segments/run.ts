/**
 * Segment benchmark on real Postgres (issue 5): estimate reach for five
 * typical segments next to a plain `SELECT count(*)` over profiles in the
 * same run (each segment's `ratio` is against the faster of the parallel and
 * the serial count, target at most 3; MORE_SEGMENTS outside it, as `moreSegments`), stream the
 * whole audience and report the peak RSS, then read each segment's audience by keyset pages as a
 * campaign's fan-out does (`audiences`: time, median and slowest page). Prints one JSON line on
 * stdout (progress goes to stderr).
 *
 *   HERALD_TEST_PG_URL=postgres://... npx tsx bench/segments/run.ts
 *   BENCH_USERS=1000000 BENCH_EVENTS=10000000   the size (defaults)
 *   BENCH_RUNS=5        timed runs per query, after one warm-up; the median is reported
 *   BENCH_FRESH=1       regenerate even if data of this size is stored
 *   BENCH_EXPLAIN=1     print EXPLAIN (ANALYZE, BUFFERS) of every timed query to stderr
 *   BENCH_DROP=1        drop the data afterwards (kept by default, so a rerun costs seconds)
 *
 * Data lives in the schema bench_segments_<users>_<events> (see generate.ts);
 * generation is timed separately and never counted in a ratio.
 */
import { postgresStorage, type SqlClient, toSqlClient } from '@herald/adapter-postgres';
import type { SegmentDefinition, UserId } from '@herald/core';
import pg from 'pg';
import { generate } from './generate.js';
import { MORE_SEGMENTS, SEGMENTS } from './segments.js';

const MEASURED = [...SEGMENTS, ...MORE_SEGMENTS];

const url = process.env.HERALD_BENCH_PG_URL ?? process.env.HERALD_TEST_PG_URL;
if (!url) throw new Error('Set HERALD_TEST_PG_URL (eval "$(bash scripts/services/postgres.sh start)")');
const USERS = Number(process.env.BENCH_USERS ?? 1_000_000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const PAGE = 1000;
const FRESH = Boolean(process.env.BENCH_FRESH);
const EXPLAIN = Boolean(process.env.BENCH_EXPLAIN);
const schema = `bench_segments_${USERS}_${EVENTS}`;
const NOW = new Date('2026-03-01T12:00:00Z');

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

interface Statement {
  text: string;
  params: readonly unknown[];
  /** The statements run before it in its transaction (the adapter's SET LOCALs), replayed by BENCH_EXPLAIN. */
  before: string[];
}

/** The pool as the adapter's SqlClient, remembering the last statement so BENCH_EXPLAIN can show its plan. */
function recordingClient(pool: pg.Pool): SqlClient & { last: Statement | null } {
  const recorder = { last: null as Statement | null };
  const recording = (target: SqlClient, before: string[] = []): SqlClient =>
    Object.assign(
      {
        query<Row>(text: string, params: readonly unknown[] = []) {
          if (text.includes('set_config(')) before.push(text);
          else recorder.last = { text, params, before: [...before] };
          return target.query<Row>(text, params);
        },
        transaction<T>(fn: (tx: SqlClient) => Promise<T>) {
          return target.transaction((tx) => fn(recording(tx, [])));
        },
      },
      { [Symbol.for('herald.sqlClient')]: true },
    );
  // A getter, not a copied value: the last statement changes as the benchmark runs.
  return Object.defineProperty(recording(toSqlClient(pool)), 'last', {
    get: () => recorder.last,
  }) as SqlClient & {
    last: Statement | null;
  };
}

/** `segment`'s whole audience by keyset pages of PAGE, as the fan-out reads it: members, each page's ms, total ms. */
async function readAudience(
  storage: ReturnType<typeof postgresStorage>,
  segment: SegmentDefinition,
  afterPage: () => void = () => undefined,
): Promise<{ users: number; pageMs: number[]; ms: number }> {
  const pageMs: number[] = [];
  let users = 0;
  let after: UserId | null = null;
  const start = performance.now();
  for (;;) {
    const pageStart = performance.now();
    const page: UserId[] = await storage.selectAudience(segment, { after, limit: PAGE, now: NOW });
    pageMs.push(performance.now() - pageStart);
    users += page.length;
    afterPage();
    if (page.length < PAGE) break;
    after = page[page.length - 1]!;
  }
  return { users, pageMs, ms: Math.round(performance.now() - start) };
}

async function main() {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => undefined);
  const sql = recordingClient(pool);
  const storage = postgresStorage({ client: sql, schema });
  const log = (line: string) => process.stderr.write(`bench:segments ${line}\n`);
  try {
    const generation = await generate(pool, {
      users: USERS,
      events: EVENTS,
      schema,
      now: NOW,
      fresh: FRESH,
      log,
    });
    log(generation.reused ? 'reusing stored data of this size' : `generated in ${generation.ms} ms`);
    const countMs = await timed(() => pool.query(`SELECT count(*) FROM ${schema}.profiles`));
    // The same count without parallel workers: on a 2-vCPU server the default parallel plan can be the
    // slower one (about 300 ms against 51-88 ms serial at 1M profiles), so the baseline is the faster
    // of the two, the count a server here can really do.
    const countSerialMs = await timed(() =>
      sql.transaction(async (tx) => {
        await tx.query(`SELECT set_config('max_parallel_workers_per_gather', '0', true)`);
        return tx.query(`SELECT count(*) FROM ${schema}.profiles`);
      }),
    );
    const baselineMs = Math.min(countMs, countSerialMs);
    if (EXPLAIN)
      await explain(pool, { text: `SELECT count(*) FROM ${schema}.profiles`, params: [], before: [] }, log);
    type SegmentFigures = { name: string; ms: number; ratio: number; qualified: number; reachable: number };
    const segments: SegmentFigures[] = [];
    const moreSegments: SegmentFigures[] = [];
    for (const { name, segment } of MEASURED) {
      let reach = { qualified: 0, reachable: 0 };
      const ms = await timed(async () => {
        const estimate = await storage.estimateReach(segment, NOW);
        reach = { qualified: estimate.qualified, reachable: estimate.reachable.total };
      });
      if (EXPLAIN && sql.last) {
        log(`-- ${name}`);
        await explain(pool, sql.last, log);
      }
      const figures = { name, ms, ratio: Math.round((ms / baselineMs) * 100) / 100, ...reach };
      const inTarget = SEGMENTS.some((entry) => entry.segment === segment);
      (inTarget ? segments : moreSegments).push(figures);
    }

    // Stream the whole audience by keyset pages, sampling RSS per page: before the segments' audiences,
    // whose garbage would otherwise count in this peak (205 MB after them in one run, 150-152 before).
    const baseRss = process.memoryUsage().rss;
    let peakRss = baseRss;
    const whole = await readAudience(storage, { type: 'all' }, () => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    });

    // Each segment's audience read by keyset pages as a campaign's fan-out reads it (probing per profile).
    const audiences = [];
    for (const { name, segment } of MEASURED) {
      const read = await readAudience(storage, segment);
      const round = (ms: number) => Math.round(ms * 10) / 10;
      audiences.push({
        name,
        users: read.users,
        pages: read.pageMs.length,
        ms: read.ms,
        pageMedianMs: round(median(read.pageMs)),
        pageMaxMs: round(Math.max(...read.pageMs)),
      });
      log(`audience of ${name}: ${read.users} users in ${read.pageMs.length} pages`);
    }

    const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
    console.log(
      JSON.stringify({
        bench: 'segments',
        users: USERS,
        events: EVENTS,
        generationMs: generation.ms,
        reusedData: generation.reused,
        runs: RUNS,
        countMs,
        countSerialMs,
        baseline: countSerialMs < countMs ? 'countSerialMs' : 'countMs',
        segments,
        withinTarget: segments.every((s) => s.ratio <= 3),
        moreSegments,
        audiences,
        stream: {
          users: whole.users,
          pageSize: PAGE,
          ms: whole.ms,
          peakRssMb: mb(peakRss),
          baseRssMb: mb(baseRss),
        },
      }),
    );
  } finally {
    if (process.env.BENCH_DROP) await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  }
}

/** EXPLAIN ANALYZE of a statement in a transaction of its own, after the settings its transaction made. */
async function explain(pool: pg.Pool, statement: Statement, log: (line: string) => void) {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    for (const text of statement.before) await client.query(text);
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (ANALYZE, BUFFERS) ${statement.text}`,
      [...statement.params],
    );
    for (const row of rows) log(row['QUERY PLAN']);
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}

await main();
