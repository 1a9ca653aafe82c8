/**
 * What the browser tallies (migration 013) cost a write: one report as the
 * HTTP handler records it (a single-row insert, its own transaction) and one
 * group of delivery outcomes as a delivery job stores them (25 rows), each
 * timed on two fresh schemas of the same server, one migrated up to 012 (as
 * before) and one to the latest version, the writes of the two interleaved so
 * both see the same load. Prints one JSON line on stdout.
 *
 *   HERALD_TEST_PG_URL=postgres://... npx tsx bench/stats/writes.ts
 *   BENCH_REPORTS=2000    reports written to each schema
 *   BENCH_GROUPS=400      outcome groups of 25 written to each schema
 */
import { MIGRATIONS } from '@herald/adapter-postgres';
import pg from 'pg';

const url = process.env.HERALD_BENCH_PG_URL ?? process.env.HERALD_TEST_PG_URL;
if (!url) throw new Error('Set HERALD_TEST_PG_URL to a Postgres server');
const REPORTS = Number(process.env.BENCH_REPORTS ?? 2000);
const GROUPS = Number(process.env.BENCH_GROUPS ?? 400);
const GROUP_SIZE = 25;
/** The first migration that keeps browser tallies: the "before" schema stops short of it. */
const BROWSER_TALLIES = 13;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
const round = (ms: number) => Math.round(ms * 1000) / 1000;

async function createSchema(pool: pg.Pool, schema: string, upTo: number): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await pool.query(`CREATE SCHEMA ${schema}`);
  for (const migration of MIGRATIONS.filter((m) => m.version <= upTo))
    for (const statement of migration.statements(schema)) await pool.query(statement);
}

async function main() {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const schemas = { before: 'bench_writes_before', after: 'bench_writes_after' } as const;
  try {
    await createSchema(pool, schemas.before, BROWSER_TALLIES - 1);
    await createSchema(pool, schemas.after, Number.MAX_SAFE_INTEGER);
    const times = {
      before: { reports: [] as number[], groups: [] as number[] },
      after: { reports: [] as number[], groups: [] as number[] },
    };
    const timed = async (work: () => Promise<unknown>) => {
      const start = performance.now();
      await work();
      return performance.now() - start;
    };

    // Deliveries first (reports of users who were sent the message, as in life).
    for (let group = 0; group < GROUPS; group++) {
      const rows = Array.from({ length: GROUP_SIZE }, (_, index) => {
        const user = group * GROUP_SIZE + index;
        return {
          campaign_id: 'cmp_writes',
          occurrence: '2026-03-01T10:00:00.000Z',
          subscription_id: `sub_${user}`,
          user_id: `u${user}`,
          status: user % 20 === 0 ? 'failed' : 'sent',
          status_code: user % 20 === 0 ? 400 : 201,
          reason: null,
          attempts: 1,
          at: '2026-03-01T10:00:01.000Z',
          browser: user % 2 === 0 ? 'chrome' : 'firefox',
          browser_target: 'web-push',
        };
      });
      for (const side of group % 2 === 0 ? (['before', 'after'] as const) : (['after', 'before'] as const)) {
        times[side].groups.push(
          await timed(() =>
            pool.query(
              `INSERT INTO ${schemas[side]}.deliveries (campaign_id, occurrence, subscription_id, user_id, status,
                 status_code, reason, attempts, at, browser, browser_target)
               SELECT * FROM jsonb_to_recordset($1::text::jsonb) AS r(campaign_id text, occurrence text,
                 subscription_id text, user_id text, status text, status_code integer, reason text, attempts integer,
                 at timestamptz, browser text, browser_target text)
               ON CONFLICT DO NOTHING`,
              [JSON.stringify(rows)],
            ),
          ),
        );
      }
    }
    for (let report = 0; report < REPORTS; report++) {
      const values = [
        `r${report}`,
        'cmp_writes',
        '2026-03-01T10:00:00.000Z',
        `u${report}`,
        report % 5 === 0 ? 'clicked' : 'viewed',
        null,
        '2026-03-01T10:05:00.000Z',
      ];
      for (const side of report % 2 === 0 ? (['before', 'after'] as const) : (['after', 'before'] as const)) {
        // The adapter's own statement on each side: the browser columns exist from 013 on.
        const text =
          side === 'before'
            ? `INSERT INTO ${schemas.before}.interactions (report_id, campaign_id, occurrence, user_id, kind, action, at)
               VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz) ON CONFLICT (report_id) DO NOTHING RETURNING report_id`
            : `INSERT INTO ${schemas.after}.interactions (report_id, campaign_id, occurrence, user_id, kind, action, at,
                 browser, browser_target)
               VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz, $8, $9) ON CONFLICT (report_id) DO NOTHING
               RETURNING report_id`;
        const params =
          side === 'before' ? values : [...values, report % 2 === 0 ? 'chrome' : 'firefox', 'web-push'];
        times[side].reports.push(await timed(() => pool.query(text, params)));
      }
    }
    const figures = (side: 'before' | 'after') => ({
      report_median_ms: round(median(times[side].reports)),
      report_mean_ms: round(mean(times[side].reports)),
      group_median_ms: round(median(times[side].groups)),
      group_mean_ms: round(mean(times[side].groups)),
    });
    const before = figures('before');
    const after = figures('after');
    console.log(
      JSON.stringify({
        bench: 'stats-writes',
        reports: REPORTS,
        groups: GROUPS,
        group_size: GROUP_SIZE,
        before,
        after,
        report_ratio: Math.round((after.report_median_ms / before.report_median_ms) * 100) / 100,
        group_ratio: Math.round((after.group_median_ms / before.group_median_ms) * 100) / 100,
      }),
    );
    for (const schema of Object.values(schemas)) await pool.query(`DROP SCHEMA ${schema} CASCADE`);
  } finally {
    await pool.end();
  }
}

await main();
