import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { migrate } from '../src/index.js';
import { realPostgresUrl, testPool, uniqueSchema } from './helpers.js';

// Each run starts tsx and Node: seconds on a loaded box.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../src/bin/prune.ts', import.meta.url));
const tsx = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));

/** The last stdout line: the whole result as JSON. */
const resultOf = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');

describe('herald-prune bin', () => {
  const schema = uniqueSchema('prune_bin');
  const pool = testPool(2);
  const env = { ...process.env, DATABASE_URL: realPostgresUrl(), HERALD_SCHEMA: schema };
  const count = async (query: string) =>
    (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".${query}`)).rows[0]?.n;

  beforeAll(async () => {
    await migrate({ client: pool, schema });
    // The bin runs on the wall clock: rows are dated relative to the server's now().
    await pool.query(
      `INSERT INTO "${schema}".events (user_id, name, "time")
       SELECT 'u' || (g % 50), 'Viewed', now() - interval '40 days' - g * interval '1 second' FROM generate_series(1, 2500) g
       UNION ALL SELECT 'u' || g, 'Viewed', now() - interval '2 days' FROM generate_series(1, 10) g`,
    );
    await pool.query(
      `INSERT INTO "${schema}".decisions (campaign_id, occurrence, user_id, at, outcome)
       SELECT 'c1', 'o1', 'u' || g, now() - interval '40 days', 'sent' FROM generate_series(1, 30) g
       UNION ALL SELECT 'c1', 'o2', 'u' || g, now() - interval '1 day', 'sent' FROM generate_series(1, 5) g`,
    );
    await pool.query(
      `INSERT INTO "${schema}".jobs (name, payload, run_at, state)
       VALUES ('deliver', '{}', now() - interval '10 days', 'failed'), ('deliver', '{}', now() - interval '1 day', 'failed'),
              ('deliver', '{}', now() - interval '10 days', 'waiting')`,
    );
  });
  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  it('with --dry-run reports the cutoffs and how many rows are older, deleting nothing', async () => {
    const { stdout } = await run(tsx, [bin, '--older-than', '30d', '--jobs', '7d', '--dry-run'], { env });
    expect(stdout).toContain('events before');
    expect(resultOf(stdout)).toMatchObject({
      schema,
      dryRun: true,
      events: { deleted: 0 },
      older: { events: 2500, decisions: 30, jobs: 1 },
    });
    expect([await count('events'), await count('decisions'), await count('jobs')]).toEqual([2510, 35, 3]);
  });

  it('deletes what is older in batches and keeps the rest, waiting jobs included', async () => {
    const { stdout } = await run(
      tsx,
      [bin, '--events', '30d', '--decisions', '30d', '--jobs', '7d', '--batch-size', '1000'],
      { env },
    );
    expect(resultOf(stdout)).toMatchObject({
      dryRun: false,
      events: { deleted: 2500, complete: true, keptForCampaigns: false },
      decisions: { deleted: 30, complete: true },
      jobs: { deleted: 1, complete: true },
    });
    expect([await count('events'), await count('decisions'), await count('jobs')]).toEqual([10, 5, 2]);
    expect(await count(`jobs WHERE state = 'waiting'`)).toBe(1);
    // latest_events followed the deleted events: only the ten recent users remain.
    expect(await count('latest_events')).toBe(10);
  });

  it('exits 2 explaining itself without anything to prune, or with an age it cannot read', async () => {
    const nothing = await run(tsx, [bin], { env }).catch((error: { code: number; stderr: string }) => error);
    expect(nothing).toMatchObject({ code: 2 });
    expect((nothing as { stderr: string }).stderr).toContain('--older-than');
    const badAge = await run(tsx, [bin, '--events', '30 days'], { env }).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(badAge).toMatchObject({ code: 2 });
    expect((badAge as { stderr: string }).stderr).toContain('30d');
  });
});
