/**
 * Counters benchmark: what one `consume` costs on postgresCounters (a pg
 * Pool on the real server) next to redisCounters (the baseline) in the same
 * run. Prints one JSON line on stdout (progress goes to stderr).
 *
 *   HERALD_TEST_PG_URL=postgres://... HERALD_TEST_REDIS_URL=redis://... npx tsx bench/counters/run.ts
 *   BENCH_CONSUMES=5000   consumes per case (after 500 untimed ones)
 *   BENCH_PARALLEL=8      callers at once in the parallel cases (the pool has as many connections)
 *   BENCH_BATCH=250       users per consumeEach call in the batch cases (a delivery batch)
 *
 * Each consume is what the engine makes for one recipient under a perDay and
 * a perWeek cap: two keys, one new user each time (the insert path), so the
 * figure is the per-message cost of global caps. `serial` is one caller
 * waiting for each answer (the latency a delivery batch sees per user);
 * `parallel` is the throughput of BENCH_PARALLEL callers. `batch` is what a
 * delivery batch under caps makes since `Counters.consumeEach`: one call for
 * BENCH_BATCH users, one caller; its figure is wall µs per user, as the
 * other cases' are per consume.
 */
import { randomBytes } from 'node:crypto';
import { migrate, postgresCounters } from '@herald/adapter-postgres';
import { redisCounters } from '@herald/adapter-redis';
import type { Counters } from '@herald/core';
import { Redis } from 'ioredis';
import pg from 'pg';

const pgUrl = process.env.HERALD_BENCH_PG_URL ?? process.env.HERALD_TEST_PG_URL;
const redisUrl = process.env.HERALD_BENCH_REDIS_URL ?? process.env.HERALD_TEST_REDIS_URL;
if (!pgUrl || !redisUrl) throw new Error('Set HERALD_TEST_PG_URL and HERALD_TEST_REDIS_URL');
const CONSUMES = Number(process.env.BENCH_CONSUMES ?? 5_000);
const PARALLEL = Number(process.env.BENCH_PARALLEL ?? 8);
const BATCH = Number(process.env.BENCH_BATCH ?? 250);
const WARMUP = 500;
const NOW = new Date('2026-05-01T10:00:00Z');
const DAY_END = new Date('2026-05-02T00:00:00Z');
const WEEK_END = new Date('2026-05-04T00:00:00Z');

const log = (line: string) => process.stderr.write(`${line}\n`);

/** The two cap counters of user `n`, under `run` so every case counts fresh keys. */
const capSpecs = (run: string, n: number) => [
  { key: `herald:cap:d:${run}-${n}:2026-05-01`, limit: 3, expiresAt: DAY_END },
  { key: `herald:cap:w:${run}-${n}:2026-W18`, limit: 10, expiresAt: WEEK_END },
];

/** Microseconds per consume, `callers` at once, over `CONSUMES` consumes of distinct users. */
async function measure(counters: Counters, label: string, callers: number): Promise<number> {
  const run = `${label}-${callers}-${randomBytes(3).toString('hex')}`;
  for (let n = 0; n < WARMUP; n++) await counters.consume(capSpecs(`${run}-warm`, n), NOW);
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (next < CONSUMES) {
        const n = next++;
        const result = await counters.consume(capSpecs(run, n), NOW);
        if (!result.allowed) throw new Error(`${label}: a first consume was blocked`);
      }
    }),
  );
  const micros = Number(process.hrtime.bigint() - started) / 1_000 / CONSUMES;
  log(`${label}, ${callers} caller(s): ${micros.toFixed(1)} µs per consume`);
  return Math.round(micros * 10) / 10;
}

/** Microseconds per user through `consumeEach`, BATCH users a call, one caller, `CONSUMES` users in all. */
async function measureBatches(counters: Counters, label: string): Promise<number> {
  const consumeEach = counters.consumeEach?.bind(counters);
  if (!consumeEach) throw new Error(`${label} has no consumeEach`);
  const run = `${label}-batch-${randomBytes(3).toString('hex')}`;
  const batch = (tag: string, from: number) =>
    Array.from({ length: Math.min(BATCH, CONSUMES - from) }, (_, i) => capSpecs(tag, from + i));
  await consumeEach(batch(`${run}-warm`, 0), NOW);
  const started = process.hrtime.bigint();
  for (let from = 0; from < CONSUMES; from += BATCH) {
    const results = await consumeEach(batch(run, from), NOW);
    if (results.some((result) => !result.allowed)) throw new Error(`${label}: a first consume was blocked`);
  }
  const micros = Number(process.hrtime.bigint() - started) / 1_000 / CONSUMES;
  log(`${label}, consumeEach of ${BATCH}: ${micros.toFixed(1)} µs per user`);
  return Math.round(micros * 10) / 10;
}

/** `SELECT 1` dressed as Counters, so the same loop times a bare round trip. */
const selectOne = (pool: pg.Pool): Counters => ({
  async consume() {
    await pool.query('SELECT 1');
    return { allowed: true, counts: [] };
  },
  release: async () => undefined,
  get: async () => [],
});

async function main(): Promise<void> {
  const schema = `bench_counters_${randomBytes(4).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: pgUrl, max: PARALLEL });
  const redis = new Redis(redisUrl as string);
  const prefix = `herald-bench:${schema}`;
  try {
    await migrate({ client: pool, schema });
    const postgres = postgresCounters({ client: pool, schema });
    const baseline = redisCounters({ connection: redis, prefix });
    const result = {
      consumes: CONSUMES,
      parallel: PARALLEL,
      keys_per_consume: 2,
      // The floor: one round trip of the cheapest statement on the same pool.
      postgres_select1_serial_us: await measure(selectOne(pool), 'SELECT 1', 1),
      redis_serial_us: await measure(baseline, 'redisCounters', 1),
      postgres_serial_us: await measure(postgres, 'postgresCounters', 1),
      redis_parallel_us: await measure(baseline, 'redisCounters', PARALLEL),
      postgres_parallel_us: await measure(postgres, 'postgresCounters', PARALLEL),
      batch: BATCH,
      redis_batch_us: await measureBatches(baseline, 'redisCounters'),
      postgres_batch_us: await measureBatches(postgres, 'postgresCounters'),
    };
    console.log(
      JSON.stringify({
        ...result,
        ratio_serial: Math.round((result.postgres_serial_us / result.redis_serial_us) * 100) / 100,
        ratio_parallel: Math.round((result.postgres_parallel_us / result.redis_parallel_us) * 100) / 100,
        ratio_batch: Math.round((result.postgres_batch_us / result.redis_batch_us) * 100) / 100,
      }),
    );
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    let cursor = '0';
    do {
      const [after, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = after;
    } while (cursor !== '0');
    await Promise.all([pool.end(), redis.quit()]);
  }
}

await main();
