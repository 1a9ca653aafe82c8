/**
 * Campaign statistics benchmark on real Postgres (issue 16): `campaigns.stats`
 * (campaignTallies + conversionTallies), the per-run figures
 * (occurrenceTallies, by occurrence and by day), the figures over time
 * (campaignTimeline) and by browser (campaignBrowsers) of one campaign of
 * 1,000,000 recipients, beside another campaign's rows in the same tables
 * (so a read that is not confined to its campaign shows). Target: under
 * 500 ms each. Prints one JSON line on stdout (progress goes to stderr).
 *
 *   HERALD_TEST_PG_URL=postgres://... npx tsx bench/stats/run.ts
 *   BENCH_RECIPIENTS=1000000   recipients of the measured campaign (default)
 *   BENCH_RUNS=5               timed runs per read, after one warm-up; the median is reported
 *   BENCH_FRESH=1              regenerate even if data of this size is stored
 *   BENCH_EXPLAIN=1            print EXPLAIN (ANALYZE, BUFFERS) of the per-run recipients read
 *   BENCH_DROP=1               drop the data afterwards (kept by default, so a rerun costs seconds)
 *   BENCH_SCHEMA=name          the schema (default bench_stats_<recipients>), to keep a data set apart
 *
 * Rows are made by SQL `generate_series` in the server, in schema
 * bench_stats_<recipients>; generation is timed separately.
 */
import { migrate, postgresStorage } from '@herald/adapter-postgres';
import type { CampaignId } from '@herald/core';
import pg from 'pg';

const url = process.env.HERALD_BENCH_PG_URL ?? process.env.HERALD_TEST_PG_URL;
if (!url) throw new Error('Set HERALD_TEST_PG_URL to a Postgres server');
const RECIPIENTS = Number(process.env.BENCH_RECIPIENTS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const FRESH = Boolean(process.env.BENCH_FRESH);
const EXPLAIN = Boolean(process.env.BENCH_EXPLAIN);
/** Runs of the measured campaign: a recurring campaign's audience spread over this many occurrences. */
const OCCURRENCES = 4;
const GENERATOR_VERSION = 3;
const schema = process.env.BENCH_SCHEMA ?? `bench_stats_${RECIPIENTS}`;
const CAMPAIGN = 'cmp_bench_stats' as CampaignId;
const log = (line: string) => process.stderr.write(`${line}\n`);

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

/** Chrome for half, Firefox for two in ten, Edge, Safari (Web Push) and Safari legacy (the tenth) for one each. */
const BROWSER_MIX = `'chrome', 'chrome', 'chrome', 'chrome', 'chrome', 'firefox', 'firefox', 'edge', 'safari', 'safari'`;
/** The browser and target columns of the message numbered by an integer expression. */
const browserOf = (pick: string) =>
  `(ARRAY[${BROWSER_MIX}])[1 + (${pick}) % 10], CASE WHEN (${pick}) % 10 = 9 THEN 'safari-legacy' ELSE 'web-push' END`;

/**
 * The measured campaign: RECIPIENTS users over OCCURRENCES runs, states
 * 85% delivered, 5% control, 5% skipped (capped / dnd), 3% undeliverable,
 * 2% pending; one message per delivered user plus a second browser for one
 * in ten; views for half, clicks for one in twelve, conversions for one in
 * fifty. Messages go to Chrome for half, Firefox for two in ten, Edge,
 * Safari (Web Push) and Safari legacy for one in ten each; reports and
 * recipients' conversions name the browser of the user's first message (as
 * a report token and attribution do). Another campaign holds half as many
 * rows again.
 */
async function generate(pool: pg.Pool): Promise<{ ms: number; reused: boolean }> {
  const marker = `${RECIPIENTS}/v${GENERATOR_VERSION}`;
  const stored = await pool
    .query<{ marker: string }>(`SELECT marker FROM ${schema}.bench_marker`)
    .then((result) => result.rows[0]?.marker ?? null)
    .catch(() => null);
  if (!FRESH && stored === marker) {
    await migrate({ client: pool, schema });
    return { ms: 0, reused: true };
  }
  const start = performance.now();
  await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await migrate({ client: pool, schema });
  const perRun = Math.ceil(RECIPIENTS / OCCURRENCES);
  const occurrence = `to_char((timestamptz '2026-03-01 10:00Z' + ((g - 1) / ${perRun}) * interval '1 day') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
  const users = (campaign: string, count: number) => `
    SELECT '${campaign}'::text AS campaign_id, ${occurrence} AS occurrence, 'u' || lpad(g::text, 8, '0') AS user_id, g
    FROM generate_series(1, ${count}) AS g`;
  const step = async (name: string, text: string) => {
    const began = performance.now();
    await pool.query(text);
    log(`  ${name}: ${Math.round(performance.now() - began)} ms`);
  };
  log(`generating ${RECIPIENTS} recipients in ${schema}`);
  for (const [campaign, count] of [
    [CAMPAIGN, RECIPIENTS],
    ['cmp_other', Math.floor(RECIPIENTS / 2)],
  ] as const) {
    await step(
      `${campaign} recipients`,
      `INSERT INTO ${schema}.recipients (campaign_id, occurrence, user_id, state, reason, created_at, updated_at)
       SELECT campaign_id, occurrence, user_id,
         CASE WHEN g % 100 < 85 THEN 'delivered' WHEN g % 100 < 90 THEN 'control' WHEN g % 100 < 95 THEN 'skipped'
              WHEN g % 100 < 98 THEN 'undeliverable' ELSE 'pending' END,
         CASE WHEN g % 100 BETWEEN 85 AND 89 THEN 'control' WHEN g % 100 BETWEEN 90 AND 92 THEN 'capped'
              WHEN g % 100 BETWEEN 93 AND 94 THEN 'dnd-discarded' END,
         occurrence::timestamptz, occurrence::timestamptz + (g % 3600) * interval '1 second'
       FROM (${users(campaign, count)}) AS u`,
    );
    await step(
      `${campaign} deliveries`,
      `INSERT INTO ${schema}.deliveries (campaign_id, occurrence, subscription_id, user_id, status, status_code, reason,
         attempts, at, browser, browser_target)
       SELECT campaign_id, occurrence, 'sub_' || user_id || '_' || b, user_id,
         CASE WHEN g % 100 < 85 THEN 'sent' WHEN g % 2 = 0 THEN 'gone' ELSE 'failed' END,
         CASE WHEN g % 100 < 85 THEN 201 WHEN g % 2 = 0 THEN 410 ELSE 400 END, NULL, 1,
         occurrence::timestamptz + (g % 3600) * interval '1 second',
         ${browserOf('g + b')}
       FROM (${users(campaign, count)}) AS u CROSS JOIN generate_series(1, 2) AS b
       WHERE (g % 100 < 85 OR g % 100 BETWEEN 95 AND 97) AND (b = 1 OR g % 10 = 0)`,
    );
    await step(
      `${campaign} interactions`,
      `INSERT INTO ${schema}.interactions (report_id, campaign_id, occurrence, user_id, kind, action, at, browser,
         browser_target)
       SELECT 'r_' || campaign_id || '_' || user_id || '_' || k, campaign_id, occurrence, user_id, k,
         CASE WHEN k = 'clicked' AND g % 2 = 0 THEN 'buy' END,
         occurrence::timestamptz + (g % 7200) * interval '1 second', ${browserOf('g + 1')}
       FROM (${users(campaign, count)}) AS u CROSS JOIN unnest(ARRAY['viewed', 'clicked']) AS k
       WHERE g % 100 < 85 AND ((k = 'viewed' AND g % 2 = 0) OR (k = 'clicked' AND g % 12 = 0))`,
    );
    await step(
      `${campaign} conversions`,
      `INSERT INTO ${schema}.conversions (campaign_id, occurrence, user_id, control, at, event_name, revenue, browser,
         browser_target)
       SELECT campaign_id, occurrence, user_id, g % 100 >= 85, occurrence::timestamptz + interval '1 hour', 'Charged',
         CASE WHEN g % 3 = 0 THEN (g % 50) + 0.99 END,
         CASE WHEN g % 100 < 85 THEN (ARRAY[${BROWSER_MIX}])[1 + (g + 1) % 10] END,
         CASE WHEN g % 100 < 85 THEN CASE WHEN (g + 1) % 10 = 9 THEN 'safari-legacy' ELSE 'web-push' END END
       FROM (${users(campaign, count)}) AS u WHERE g % 50 = 0 AND g % 100 < 90`,
    );
    await step(
      `${campaign} audience pages`,
      `INSERT INTO ${schema}.audience_pages (campaign_id, occurrence, after, users, last, at)
       SELECT campaign_id, occurrence, user_id, 1000, g % ${perRun} = 0, occurrence::timestamptz
       FROM (${users(campaign, count)}) AS u WHERE g % 1000 = 0`,
    );
  }
  await step('analyze', `VACUUM ANALYZE`);
  await pool.query(`CREATE TABLE ${schema}.bench_marker AS SELECT $1::text AS marker`, [marker]);
  return { ms: Math.round(performance.now() - start), reused: false };
}

async function main() {
  const pool = new pg.Pool({ connectionString: url, max: 8 });
  try {
    const generated = await generate(pool);
    log(generated.reused ? `reusing ${schema}` : `generated in ${generated.ms} ms`);
    const storage = postgresStorage({ client: pool, schema });
    const stats = async () =>
      Promise.all([storage.campaignTallies(CAMPAIGN), storage.conversionTallies(CAMPAIGN)]);
    const statsMs = await timed(stats);
    const byOccurrenceMs = await timed(() => storage.occurrenceTallies(CAMPAIGN));
    const byDayMs = await timed(() => storage.occurrenceTallies(CAMPAIGN, { dayIn: 'Europe/Paris' }));
    const timelineMs = await timed(() =>
      storage.campaignTimeline(CAMPAIGN, { zone: 'Europe/Paris', hourlyFor: 48 }),
    );
    const browsersMs = await timed(() => storage.campaignBrowsers(CAMPAIGN));
    const runs = await storage.occurrenceTallies(CAMPAIGN);
    const recipients = runs.reduce(
      (sum, run) => sum + Object.values(run.recipients).reduce((a, b) => a + b, 0),
      0,
    );
    if (recipients !== RECIPIENTS) throw new Error(`expected ${RECIPIENTS} recipients, read ${recipients}`);
    if (EXPLAIN) {
      const { rows } = await pool.query(
        `EXPLAIN (ANALYZE, BUFFERS) SELECT occurrence, state, reason, count(*)::int, max(updated_at) FILTER (WHERE state <> 'pending')
         FROM ${schema}.recipients WHERE campaign_id = $1 GROUP BY 1, state, reason`,
        [CAMPAIGN],
      );
      for (const row of rows) log(String(row['QUERY PLAN']));
    }
    console.log(
      JSON.stringify({
        bench: 'stats',
        recipients: RECIPIENTS,
        occurrences: runs.length,
        other_campaign_recipients: Math.floor(RECIPIENTS / 2),
        generate_ms: generated.ms,
        reused: generated.reused,
        runs: RUNS,
        stats_ms: statsMs,
        by_occurrence_ms: byOccurrenceMs,
        by_day_ms: byDayMs,
        timeline_ms: timelineMs,
        browsers_ms: browsersMs,
        target_ms: 500,
      }),
    );
    if (process.env.BENCH_DROP) await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await pool.end();
  }
}

await main();
