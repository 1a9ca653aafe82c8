import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/index.js';
import { expectRecipientTalliesMatchRows } from './tallies-match.js';

/**
 * The tallies kept by the triggers of migrations 010 and 011 always equal a
 * count of the rows they summarise, whatever writes reached the tables.
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
    await expectRecipientTalliesMatchRows(query);
    const deliveries = await query(
      `SELECT campaign_id, occurrence, status, count(*)::int AS n FROM herald.deliveries GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
    );
    const deliveryTallies = await query(
      `SELECT campaign_id, occurrence, status, n::int AS n FROM herald.delivery_tallies WHERE n <> 0 ORDER BY 1, 2, 3`,
    );
    expect(deliveryTallies.rows).toEqual(deliveries.rows);
    await expectReportTalliesMatchRows();
  }

  async function expectReportTalliesMatchRows() {
    const reports = await query(
      `SELECT campaign_id, occurrence, kind, coalesce(action, '') AS action, count(*)::int AS n
       FROM herald.interactions GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`,
    );
    const reportTallies = await query(
      `SELECT campaign_id, occurrence, kind, action, n::int AS n FROM herald.interaction_tallies
       WHERE n <> 0 ORDER BY 1, 2, 3, 4`,
    );
    expect(reportTallies.rows).toEqual(reports.rows);
    const reporters = await query(
      `SELECT campaign_id, occurrence, kind, count(DISTINCT user_id)::int AS n
       FROM herald.interactions GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
    );
    const reporterTallies = await query(
      `SELECT campaign_id, occurrence, kind, n::int AS n FROM herald.interaction_user_tallies
       WHERE n <> 0 ORDER BY 1, 2, 3`,
    );
    expect(reporterTallies.rows).toEqual(reporters.rows);
    const quarters = await query(
      `SELECT campaign_id, quarter, sum(sent)::int AS sent, sum(viewed)::int AS viewed, sum(clicked)::int AS clicked,
              sum(conversions)::int AS conversions, sum(revenue)::float8 AS revenue
       FROM (SELECT campaign_id, to_timestamp(floor(extract(epoch FROM at) / 900) * 900) AS quarter,
                    1 AS sent, 0 AS viewed, 0 AS clicked, 0 AS conversions, 0::numeric AS revenue
             FROM herald.deliveries WHERE status = 'sent'
             UNION ALL
             SELECT campaign_id, to_timestamp(floor(extract(epoch FROM at) / 900) * 900), 0,
                    (kind = 'viewed')::int, (kind = 'clicked')::int, 0, 0
             FROM herald.interactions WHERE kind <> 'closed'
             UNION ALL
             SELECT campaign_id, to_timestamp(floor(extract(epoch FROM at) / 900) * 900), 0, 0, 0, 1, coalesce(revenue, 0)
             FROM herald.conversions WHERE NOT control) facts
       GROUP BY 1, 2 ORDER BY 1, 2`,
    );
    const quarterTallies = await query(
      `SELECT campaign_id, quarter, sent::int AS sent, viewed::int AS viewed, clicked::int AS clicked,
              conversions::int AS conversions, revenue::float8 AS revenue
       FROM herald.timeline_tallies WHERE sent + viewed + clicked + conversions > 0 ORDER BY 1, 2`,
    );
    expect(quarterTallies.rows).toEqual(quarters.rows);
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

  it('follows reports and conversions: kinds and actions, distinct users, quarter hours', async () => {
    // 300 reports of 40 users over two runs: many users report the same kind more than once.
    await query(
      `INSERT INTO herald.interactions (report_id, campaign_id, occurrence, user_id, kind, action, at)
       SELECT 'r' || g, 'c' || (g % 2), 'run' || (g % 3), 'u' || (g % 40),
              (ARRAY['viewed', 'clicked', 'closed'])[1 + g % 3], CASE WHEN g % 5 = 0 THEN 'buy' END,
              timestamptz '2026-01-01Z' + g * interval '7 minutes'
       FROM generate_series(1, 300) AS g`,
    );
    // One report at a time, as the HTTP handler records them; repeats of a user and kind add no user.
    for (const n of [301, 302, 303, 304]) {
      await query(
        `INSERT INTO herald.interactions (report_id, campaign_id, occurrence, user_id, kind, action, at)
         VALUES ($1, 'c0', 'run0', 'u_new', 'clicked', NULL, timestamptz '2026-01-03Z')`,
        [`r${n}`],
      );
    }
    await query(
      `INSERT INTO herald.conversions (campaign_id, occurrence, user_id, control, at, event_name, revenue)
       SELECT 'c' || (g % 2), 'run' || (g % 3), 'u' || g, g % 4 = 0, timestamptz '2026-01-01Z' + g * interval '11 minutes',
              'Charged', CASE WHEN g % 3 = 0 THEN g + 0.25 END
       FROM generate_series(1, 60) AS g`,
    );
    await query(
      `INSERT INTO herald.deliveries (campaign_id, occurrence, subscription_id, user_id, status, status_code, reason, attempts, at)
       SELECT 'c' || (g % 2), 'run' || (g % 3), 's' || g, 'u' || g, CASE WHEN g % 4 = 0 THEN 'failed' ELSE 'sent' END,
              201, NULL, 1, timestamptz '2026-01-01Z' + g * interval '5 minutes'
       FROM generate_series(1, 100) AS g`,
    );
    await expectTalliesMatchRows();
    // A user's last report of a kind goes, then one of two; a kind changes; sends move in time.
    await query(`DELETE FROM herald.interactions WHERE report_id IN ('r1', 'r302', 'r303')`);
    await query(`DELETE FROM herald.interactions WHERE user_id = 'u7' AND occurrence = 'run1'`);
    await query(
      `UPDATE herald.interactions SET kind = 'viewed', at = at + interval '1 day' WHERE report_id LIKE 'r1_'`,
    );
    await query(
      `UPDATE herald.deliveries SET at = at + interval '20 minutes', status = 'sent' WHERE user_id LIKE 'u%4'`,
    );
    await query(`UPDATE herald.conversions SET control = NOT control, revenue = 5 WHERE user_id LIKE 'u%2'`);
    await query(`DELETE FROM herald.conversions WHERE user_id LIKE 'u%3'`);
    await query(`DELETE FROM herald.deliveries WHERE user_id LIKE 'u%5'`);
    await expectTalliesMatchRows();
    await query(`TRUNCATE herald.interactions`);
    await expectTalliesMatchRows();
    await query(`TRUNCATE herald.deliveries, herald.conversions`);
    await expectTalliesMatchRows();
    expect((await query(`SELECT count(*)::int AS n FROM herald.timeline_tallies`)).rows).toEqual([{ n: 0 }]);
    expect((await query(`SELECT count(*)::int AS n FROM herald.interaction_users`)).rows).toEqual([{ n: 0 }]);
  });
});
