import type { CampaignId, UserId } from '@herald/core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, postgresStorage } from '../src/index.js';
import { deliveriesOfUsersSql, recipientsOfUsersSql } from '../src/storage/outcomes.js';
import { realPostgresUrl, uniqueSchema } from './helpers.js';

/**
 * `getRecipients` and `listDeliveries` read a few users' rows of a campaign run, and
 * `updateRecipients` moves them: the settling of a job's users, and every retry of a message. Their statistics can say a run has one row when
 * it has thousands (the tables analyzed empty on a fresh install; any campaign newer than the last
 * ANALYZE), and `user_id = ANY($3)` then read the run's whole index range; the update's join chose
 * a sequential scan of the table. Each must probe the index once per user whatever the statistics
 * say, prepared (the generic plan, as `pg` runs them after five calls) or not.
 */
const schema = uniqueSchema('reads_by_user');
const RUN_SIZE = 5_000;
let conn: pg.Client;

/** The largest "Rows Removed by Filter", and the rows the plan's table scans returned, from EXPLAIN ANALYZE. */
function scanFigures(plan: unknown): { removedByFilter: number; scanned: number } {
  let removedByFilter = 0;
  let scanned = 0;
  const visit = (node: Record<string, unknown>) => {
    removedByFilter = Math.max(removedByFilter, Number(node['Rows Removed by Filter'] ?? 0));
    if (String(node['Node Type']).includes('Scan') && node['Relation Name'] !== undefined) {
      scanned += Number(node['Actual Rows'] ?? 0) * Number(node['Actual Loops'] ?? 1);
    }
    for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) visit(child);
  };
  visit((plan as [{ Plan: Record<string, unknown> }])[0].Plan);
  return { removedByFilter, scanned };
}

beforeAll(async () => {
  conn = new pg.Client({ connectionString: realPostgresUrl() });
  await conn.connect();
  await migrate({ client: conn, schema });
  // Statistics of empty tables, as on a fresh install before its first campaign (or a bench's settle).
  await conn.query(`ANALYZE "${schema}".recipients, "${schema}".deliveries`);
  await conn.query(
    `INSERT INTO "${schema}".recipients (campaign_id, occurrence, user_id, state, reason, created_at, updated_at)
     SELECT 'c1', 'o1', 'u' || g, 'pending', NULL, now(), now() FROM generate_series(1, $1::int) g`,
    [RUN_SIZE],
  );
  await conn.query(
    `INSERT INTO "${schema}".deliveries (campaign_id, occurrence, subscription_id, user_id, status, status_code,
       reason, attempts, at, browser, browser_target)
     SELECT 'c1', 'o1', 's' || g, 'u' || g, 'sent', 201, NULL, 1, now(), NULL, NULL
     FROM generate_series(1, $1::int) g`,
    [RUN_SIZE],
  );
});

afterAll(async () => {
  await conn.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await conn.end();
});

describe.each([
  ['getRecipients', recipientsOfUsersSql],
  ['listDeliveries', deliveriesOfUsersSql],
])('%s of a few users', (name, sqlOf) => {
  const users = ['u17', 'u2500', 'u4999', 'nobody'];
  // EXECUTE takes no bind parameters: the ids as an array literal (plain constants of this test).
  const usersLiteral = `ARRAY[${users.map((user) => `'${user}'`).join(', ')}]`;

  it.each(['force_custom_plan', 'force_generic_plan'])('probes once per user (%s)', async (mode) => {
    await conn.query(`SET plan_cache_mode = ${mode}`);
    const statement = `reads_${name}_${mode}`;
    await conn.query(`PREPARE ${statement}(text, text, text[]) AS ${sqlOf(`"${schema}"`)}`);
    try {
      const answered = await conn.query(`EXECUTE ${statement}('c1', 'o1', ${usersLiteral})`);
      expect(answered.rows.map((row) => row.user_id).sort()).toEqual(['u17', 'u2500', 'u4999']);
      const explained = await conn.query(
        `EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE ${statement}('c1', 'o1', ${usersLiteral})`,
      );
      const figures = scanFigures(explained.rows[0]['QUERY PLAN']);
      // A row or none per user asked (EXPLAIN rounds a loop's average rows), not the run's 5,000 filtered.
      expect(figures.removedByFilter).toBe(0);
      expect(figures.scanned).toBeLessThanOrEqual(users.length);
    } finally {
      await conn.query(`DEALLOCATE ${statement}`);
      await conn.query('RESET plan_cache_mode');
    }
  });
});

/**
 * The scans of `recipients` this backend has not reported yet (pg_stat_xact_user_tables: the
 * current transaction's, and on Postgres 15 also earlier ones not yet flushed: read as a difference).
 */
async function scansOfRecipients(): Promise<{ seq: number; idx: number }> {
  const { rows } = await conn.query(
    `SELECT seq_scan::int AS seq, coalesce(idx_scan, 0)::int AS idx FROM pg_stat_xact_user_tables
     WHERE relid = '"${schema}".recipients'::regclass`,
  );
  return rows[0] as { seq: number; idx: number };
}

describe('updateRecipients of one user', () => {
  it.each(['force_custom_plan', 'force_generic_plan'])(
    'probes the primary key, no scan of the table (%s)',
    async (mode) => {
      const storage = postgresStorage({ client: conn, schema });
      const at = new Date('2026-12-07T15:00:00Z');
      const key = { campaignId: 'c1' as CampaignId, occurrence: 'o1', userId: 'u2500' as UserId };
      await conn.query('BEGIN');
      try {
        await conn.query(`SET LOCAL plan_cache_mode = ${mode}`);
        const before = await scansOfRecipients();
        // Six calls: pg runs a statement's generic plan from its sixth.
        for (let call = 0; call < 6; call += 1) {
          await storage.updateRecipients([{ ...key, state: 'pending', reason: null }], at);
        }
        await storage.updateRecipients(
          [
            {
              ...key,
              state: 'delivered',
              reason: null,
              decision: { ...key, at, outcome: 'sent', reason: null, facts: {} },
            },
          ],
          at,
        );
        const [moved] = await storage.getRecipients(key.campaignId, key.occurrence, [key.userId]);
        expect(moved?.state).toBe('delivered');
        // This transaction's own reads of the table: index probes only, not one pass over the run's 5,000 rows.
        const after = await scansOfRecipients();
        expect(after.seq - before.seq).toBe(0);
        expect(after.idx - before.idx).toBeGreaterThanOrEqual(7);
      } finally {
        await conn.query('ROLLBACK');
      }
    },
  );
});
