import { PGlite } from '@electric-sql/pglite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, migrate } from '../src/index.js';
import { schemaBefore } from './schema-before.js';
import { expectBrowserTalliesMatchRows, expectRecipientTalliesMatchRows } from './tallies-match.js';

/**
 * Migration 016 on a schema that already holds rows: the recipients' stats index goes, their
 * updates out of `pending` become HOT, and the tallies still equal a count of the rows, through
 * the writes a delivery job makes and the rare ones (a settled row moved, a delete) that
 * recompute a group's latest instant without that index.
 */
// PGlite runs every migration in each test: slow on a loaded machine.
describe('lighter delivery writes (migration 016)', { timeout: 90_000 }, () => {
  let db: PGlite;
  const query = (text: string, params: unknown[] = []) => db.query<Record<string, unknown>>(text, params);

  beforeEach(async () => {
    db = new PGlite();
  });
  afterEach(async () => {
    await db.close();
  });

  async function expectTalliesMatchRows() {
    expect((await expectRecipientTalliesMatchRows(query)).length).toBeGreaterThan(0);
    await expectBrowserTalliesMatchRows(query);
  }

  /** Deliveries to users `from`..`to` of run1, one per subscription `suffix`; every seventh failed, browser by user. */
  const insertDeliveries = (from: number, to: number, suffix: string) =>
    query(
      `INSERT INTO herald.deliveries (campaign_id, occurrence, subscription_id, user_id, status, status_code, reason,
         attempts, at, browser, browser_target)
       SELECT 'c1', 'run1', 's' || g || '${suffix}', 'u' || g, CASE WHEN g % 7 = 0 THEN 'failed' ELSE 'sent' END,
              201, NULL, 1, timestamptz '2026-01-01T10:00Z',
              (ARRAY['chrome', 'firefox', NULL])[1 + g % 3], CASE WHEN g % 3 <> 2 THEN 'web-push' END
       FROM generate_series($1::int, $2::int) AS g`,
      [from, to],
    );

  it('applies to stored rows, makes the pending → delivered update HOT, and keeps the tallies exact', async () => {
    await schemaBefore(db, 16);
    await query(
      `INSERT INTO herald.recipients (campaign_id, occurrence, user_id, state, reason, created_at, updated_at)
       SELECT 'c1', 'run1', 'u' || g, CASE WHEN g % 5 = 0 THEN 'skipped' ELSE 'pending' END,
              CASE WHEN g % 5 = 0 THEN 'capped' END, timestamptz '2026-01-01Z', timestamptz '2026-01-01Z' + g * interval '1 minute'
       FROM generate_series(1, 100) AS g`,
    );
    await insertDeliveries(1, 60, 'a');

    // This migration and every later one, so a new migration does not break this test.
    const later = MIGRATIONS.filter((migration) => migration.version >= 16).map(
      (migration) => migration.version,
    );
    expect(await migrate({ client: db })).toEqual({ applied: later, version: later.at(-1) });
    const indexes = await query(
      `SELECT indexname FROM pg_indexes WHERE schemaname = 'herald' AND tablename = 'recipients'`,
    );
    expect(indexes.rows).toEqual([{ indexname: 'recipients_pkey' }]);
    const options = await query(`SELECT reloptions FROM pg_class WHERE oid = 'herald.recipients'::regclass`);
    expect(options.rows).toEqual([{ reloptions: ['fillfactor=50'] }]);
    await expectTalliesMatchRows();

    // A delivery job's writes on a run after the migration: its recipients, their deliveries (a second
    // subscription of users already reached among them), then the update out of pending.
    await query(
      `INSERT INTO herald.recipients (campaign_id, occurrence, user_id, state, reason, created_at, updated_at)
       SELECT 'c1', 'run2', 'u' || g, 'pending', NULL, timestamptz '2026-01-02Z', timestamptz '2026-01-02Z'
       FROM generate_series(1, 250) AS g`,
    );
    await insertDeliveries(40, 90, 'b');
    await insertDeliveries(55, 70, 'c');
    await db.transaction(async (tx) => {
      await tx.query(
        `UPDATE herald.recipients SET state = 'delivered', updated_at = timestamptz '2026-01-02T00:05Z'
         WHERE occurrence = 'run2'`,
      );
      // Every row of the job updated in place: no new index entry, no heap tuple on another page.
      const hot = await tx.query<{ updated: number; hot: number }>(
        `SELECT pg_stat_get_xact_tuples_updated('herald.recipients'::regclass)::int AS updated,
                pg_stat_get_xact_tuples_hot_updated('herald.recipients'::regclass)::int AS hot`,
      );
      expect(hot.rows).toEqual([{ updated: 250, hot: 250 }]);
    });
    await expectTalliesMatchRows();

    // The rare writes: rows of run1 settled to pending from the latest instants of their groups, then
    // deleted; the groups' latest instants are recounted without the index.
    await query(
      `UPDATE herald.recipients SET state = 'delivered', updated_at = timestamptz '2026-01-01T05:00Z'
       WHERE occurrence = 'run1' AND state = 'pending' AND user_id IN ('u1', 'u2', 'u3')`,
    );
    await query(
      `UPDATE herald.recipients SET state = 'pending', reason = NULL WHERE user_id IN ('u100', 'u95')`,
    );
    await query(`DELETE FROM herald.recipients WHERE occurrence = 'run1' AND user_id IN ('u1', 'u90')`);
    await query(`DELETE FROM herald.deliveries WHERE subscription_id IN ('s41a', 's41b', 's56c')`);
    await expectTalliesMatchRows();
  });
});
