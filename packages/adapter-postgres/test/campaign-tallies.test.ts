import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/index.js';

/**
 * The tallies kept by the triggers of migration 011 always equal a count of
 * the rows they summarise, whatever writes reached the tables.
 */
describe('campaign tallies (migration 011)', () => {
  let db: PGlite;
  const query = (text: string, params: unknown[] = []) => db.query<Record<string, unknown>>(text, params);

  beforeAll(async () => {
    db = new PGlite();
    await migrate({ client: db });
  });
  afterAll(async () => {
    await db.close();
  });

  async function expectTalliesMatchRows() {
    const recipients = await query(
      `SELECT campaign_id, occurrence, state, coalesce(reason, '') AS reason, count(*)::int AS n,
              max(updated_at) FILTER (WHERE state <> 'pending') AS settled_at
       FROM herald.recipients GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`,
    );
    const recipientTallies = await query(
      `SELECT campaign_id, occurrence, state, reason, n::int AS n, settled_at
       FROM herald.recipient_tallies WHERE n <> 0 ORDER BY 1, 2, 3, 4`,
    );
    expect(recipientTallies.rows).toEqual(recipients.rows);
    const deliveries = await query(
      `SELECT campaign_id, occurrence, status, count(*)::int AS n FROM herald.deliveries GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
    );
    const deliveryTallies = await query(
      `SELECT campaign_id, occurrence, status, n::int AS n FROM herald.delivery_tallies WHERE n <> 0 ORDER BY 1, 2, 3`,
    );
    expect(deliveryTallies.rows).toEqual(deliveries.rows);
  }

  it('follows inserts, updates, deletes and truncates', async () => {
    await query(
      `INSERT INTO herald.recipients (campaign_id, occurrence, user_id, state, reason, created_at, updated_at)
       SELECT 'c' || (g % 2), 'run' || (g % 3), 'u' || g, CASE WHEN g % 4 = 0 THEN 'skipped' ELSE 'pending' END,
              CASE WHEN g % 4 = 0 THEN 'capped' END, timestamptz '2026-01-01Z', timestamptz '2026-01-01Z' + g * interval '1 minute'
       FROM generate_series(1, 200) AS g`,
    );
    await expectTalliesMatchRows();
    // Pending to delivered, skipped ones back to pending (their group loses its latest instant).
    await query(
      `UPDATE herald.recipients SET state = 'delivered', updated_at = timestamptz '2026-01-02Z' WHERE state = 'pending' AND user_id LIKE '%1'`,
    );
    await query(
      `UPDATE herald.recipients SET state = 'pending', reason = NULL WHERE user_id IN ('u200', 'u196')`,
    );
    await expectTalliesMatchRows();
    await query(
      `INSERT INTO herald.deliveries (campaign_id, occurrence, subscription_id, user_id, status, status_code, reason, attempts, at)
       SELECT campaign_id, occurrence, 's' || user_id, user_id, 'sent', 201, NULL, 1, updated_at
       FROM herald.recipients WHERE state = 'delivered'`,
    );
    await query(`UPDATE herald.deliveries SET status = 'gone' WHERE user_id LIKE '%21'`);
    await query(`DELETE FROM herald.deliveries WHERE user_id LIKE '%31'`);
    await query(`DELETE FROM herald.recipients WHERE user_id LIKE '%2'`);
    await expectTalliesMatchRows();
    await query(`TRUNCATE herald.recipients, herald.deliveries`);
    await expectTalliesMatchRows();
    expect((await query(`SELECT count(*)::int AS n FROM herald.recipient_tallies`)).rows).toEqual([{ n: 0 }]);
  });
});
