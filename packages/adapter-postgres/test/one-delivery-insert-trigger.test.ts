import { PGlite } from '@electric-sql/pglite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, migrate } from '../src/index.js';
import { schemaBefore } from './schema-before.js';
import { expectBrowserTalliesMatchRows } from './tallies-match.js';

/**
 * Migration 017 on a schema that already holds deliveries: one INSERT trigger on `deliveries`
 * instead of three, and an inlinable `quarter_of()`; every tally a delivery feeds (by status, by
 * browser with its distinct users, by quarter hour) still equals a count of the rows.
 */
// PGlite runs every migration in each test: slow on a loaded machine.
describe('one delivery insert trigger (migration 017)', { timeout: 90_000 }, () => {
  let db: PGlite;
  const query = (text: string, params: unknown[] = []) => db.query<Record<string, unknown>>(text, params);

  beforeEach(async () => {
    db = new PGlite();
  });
  afterEach(async () => {
    await db.close();
  });

  /** Deliveries to users `from`..`to` of `run`, one per subscription `suffix`, seconds apart across quarter hours. */
  const insertDeliveries = (run: string, from: number, to: number, suffix: string) =>
    query(
      `INSERT INTO herald.deliveries (campaign_id, occurrence, subscription_id, user_id, status, status_code, reason,
         attempts, at, browser, browser_target)
       SELECT 'c1', $1, 's' || g || $4, 'u' || g, CASE WHEN g % 7 = 0 THEN 'failed' ELSE 'sent' END,
              201, NULL, 1, timestamptz '2026-01-01T10:14:00Z' + g * interval '1.5 seconds',
              (ARRAY['chrome', 'firefox', NULL])[1 + g % 3], CASE WHEN g % 3 <> 2 THEN 'web-push' END
       FROM generate_series($2::int, $3::int) AS g`,
      [run, from, to, suffix],
    );

  /** Delivery tallies by status and the sent timeline by quarter hour, against counts of the rows. */
  async function expectDeliveryTalliesMatchRows() {
    const byStatus = await query(
      `SELECT campaign_id, occurrence, status, count(*)::int AS n FROM herald.deliveries GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
    );
    expect(byStatus.rows.length).toBeGreaterThan(0);
    expect(
      (
        await query(
          `SELECT campaign_id, occurrence, status, n::int AS n FROM herald.delivery_tallies WHERE n <> 0 ORDER BY 1, 2, 3`,
        )
      ).rows,
    ).toEqual(byStatus.rows);
    // The quarter hour as migration 011 first computed it, independently of quarter_of().
    const byQuarter = await query(
      `SELECT campaign_id, to_timestamp(floor(extract(epoch FROM at) / 900) * 900) AS quarter, count(*)::int AS sent
       FROM herald.deliveries WHERE status = 'sent' GROUP BY 1, 2 ORDER BY 1, 2`,
    );
    expect(byQuarter.rows.length).toBeGreaterThan(1);
    expect(
      (
        await query(
          `SELECT campaign_id, quarter, sent::int AS sent FROM herald.timeline_tallies WHERE sent <> 0 ORDER BY 1, 2`,
        )
      ).rows,
    ).toEqual(byQuarter.rows);
    await expectBrowserTalliesMatchRows(query);
  }

  it('applies to stored rows, fires one trigger per insert, and keeps every delivery tally exact', async () => {
    await schemaBefore(db, 17);
    await insertDeliveries('run1', 1, 400, 'a');

    // This migration and every later one, so a new migration does not break this test.
    const later = MIGRATIONS.filter((migration) => migration.version >= 17).map(
      (migration) => migration.version,
    );
    expect(await migrate({ client: db })).toEqual({ applied: later, version: later.at(-1) });
    const triggers = await query(
      `SELECT tgname FROM pg_trigger WHERE tgrelid = 'herald.deliveries'::regclass AND NOT tgisinternal
         AND (tgtype & 4) <> 0 ORDER BY 1`,
    );
    expect(triggers.rows).toEqual([{ tgname: 'tallies_on_insert' }]);
    // Inlined: the plan computes date_bin itself, with no call of quarter_of left.
    const plan = await query(`EXPLAIN (VERBOSE) SELECT herald.quarter_of(at) FROM herald.deliveries`);
    const planText = plan.rows.map((row) => Object.values(row).join('')).join('\n');
    expect(planText).toContain('date_bin');
    expect(planText).not.toContain('quarter_of');
    await expectDeliveryTalliesMatchRows();

    // After it: a new run; a second subscription of users already reached; users reached only now.
    await insertDeliveries('run2', 1, 250, 'a');
    await insertDeliveries('run2', 100, 300, 'b');
    await insertDeliveries('run1', 350, 500, 'b');
    await expectDeliveryTalliesMatchRows();

    // Updates and deletes keep their own triggers, on the same tallies.
    await query(`UPDATE herald.deliveries SET status = 'gone' WHERE subscription_id LIKE '%7b'`);
    await query(`DELETE FROM herald.deliveries WHERE subscription_id IN ('s120a', 's120b', 's5a')`);
    await expectDeliveryTalliesMatchRows();
    await query(`TRUNCATE herald.deliveries`);
    expect((await query(`SELECT count(*)::int AS n FROM herald.browser_users`)).rows).toEqual([{ n: 0 }]);
  });
});
