import { PGlite } from '@electric-sql/pglite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, migrate } from '../src/index.js';
import { schemaBefore } from './schema-before.js';
import { expectBrowserTalliesMatchRows } from './tallies-match.js';

/**
 * The browser tallies of migration 013 always equal a count of the rows they
 * summarise, whatever writes reached the tables; and the migration gives
 * reports and conversions stored before it the browser of the run's latest
 * sent message.
 */
// PGlite runs every migration in each test: slow on a loaded machine.
describe('browser tallies (migration 013)', { timeout: 90_000 }, () => {
  let db: PGlite;
  const query = (text: string, params: unknown[] = []) => db.query<Record<string, unknown>>(text, params);

  beforeEach(async () => {
    db = new PGlite();
  });
  afterEach(async () => {
    await db.close();
  });

  const expectTalliesMatchRows = () => expectBrowserTalliesMatchRows(query);

  /** A browser (NULL one time in four: unknown) and its target, picked by an integer expression. */
  const browserBy = (pick: string) =>
    `(ARRAY['chrome', 'firefox', 'edge', NULL])[1 + (${pick}) % 4], CASE WHEN (${pick}) % 4 <> 3 THEN 'web-push' END`;

  it('follows inserts, updates, deletes and truncates, counting each user once per run and browser', async () => {
    await migrate({ client: db });
    // 40 users with up to three subscriptions each, two of them often on one browser, stored in
    // several statements as outcome groups are; some failed or gone.
    for (const part of [0, 1, 2]) {
      await query(
        `INSERT INTO herald.deliveries (campaign_id, occurrence, subscription_id, user_id, status, status_code, reason,
           attempts, at, browser, browser_target)
         SELECT 'c' || (g % 2), 'run' || (g % 3), 's' || g || '-' || $1::int, 'u' || (g % 40),
                (ARRAY['sent', 'sent', 'sent', 'failed', 'gone'])[1 + (g + $1::int) % 5], 201, NULL, 1,
                timestamptz '2026-01-01Z' + g * interval '1 minute', ${browserBy('g / 7 + $1::int')}
         FROM generate_series(1, 120) AS g`,
        [part],
      );
    }
    await query(
      `INSERT INTO herald.interactions (report_id, campaign_id, occurrence, user_id, kind, action, at, browser, browser_target)
       SELECT 'r' || g, 'c' || (g % 2), 'run' || (g % 3), 'u' || (g % 40), (ARRAY['viewed', 'clicked', 'closed'])[1 + g % 3],
              NULL, timestamptz '2026-01-02Z', ${browserBy('g')}
       FROM generate_series(1, 90) AS g`,
    );
    // One report at a time, as the HTTP handler records them.
    for (const n of [91, 92, 93]) {
      await query(
        `INSERT INTO herald.interactions (report_id, campaign_id, occurrence, user_id, kind, action, at, browser, browser_target)
         VALUES ($1, 'c0', 'run0', 'u1', 'clicked', NULL, timestamptz '2026-01-03Z', 'safari', 'safari-legacy')`,
        [`r${n}`],
      );
    }
    await query(
      `INSERT INTO herald.conversions (campaign_id, occurrence, user_id, control, at, event_name, revenue, browser,
         browser_target)
       SELECT 'c' || (g % 2), 'run' || (g % 3), 'u' || g, g % 5 = 0, timestamptz '2026-01-02Z', 'Charged',
              CASE WHEN g % 3 = 0 THEN g + 0.25 END, ${browserBy('g')}
       FROM generate_series(1, 40) AS g`,
    );
    await expectTalliesMatchRows();

    // Outcomes and browsers change, a user's last sent message on a browser goes, a report moves.
    await query(`UPDATE herald.deliveries SET status = 'sent' WHERE subscription_id LIKE 's1%'`);
    await query(`UPDATE herald.deliveries SET browser = 'firefox' WHERE subscription_id LIKE '%-2'`);
    await query(`DELETE FROM herald.deliveries WHERE user_id LIKE 'u%3'`);
    await query(
      `UPDATE herald.interactions SET browser = 'edge', kind = 'viewed' WHERE report_id LIKE 'r1_'`,
    );
    await query(`DELETE FROM herald.interactions WHERE report_id LIKE 'r2_'`);
    await query(
      `UPDATE herald.conversions SET control = NOT control, browser = 'chrome' WHERE user_id LIKE 'u%2'`,
    );
    await query(`DELETE FROM herald.conversions WHERE user_id LIKE 'u%7'`);
    await expectTalliesMatchRows();

    await query(`TRUNCATE herald.interactions`);
    await expectTalliesMatchRows();
    await query(`TRUNCATE herald.deliveries, herald.conversions`);
    expect((await query(`SELECT count(*)::int AS n FROM herald.browser_tallies`)).rows).toEqual([{ n: 0 }]);
  });

  it("gives earlier reports and conversions the browser of the run's latest sent message, and counts them", async () => {
    // The schema as it was before migration 013, with rows in it.
    await schemaBefore(db, 13);
    await query(
      `INSERT INTO herald.deliveries (campaign_id, occurrence, subscription_id, user_id, status, status_code, reason,
         attempts, at, browser, browser_target)
       VALUES ('c1', 'run1', 's1', 'u1', 'sent', 201, NULL, 1, timestamptz '2026-01-01T10:00Z', 'chrome', 'web-push'),
              ('c1', 'run1', 's2', 'u1', 'sent', 201, NULL, 1, timestamptz '2026-01-01T10:05Z', 'firefox', 'web-push'),
              ('c1', 'run1', 's3', 'u1', 'failed', 400, 'bad', 1, timestamptz '2026-01-01T10:09Z', 'edge', 'web-push'),
              ('c1', 'run1', 's4', 'u2', 'sent', 201, NULL, 1, timestamptz '2026-01-01T10:00Z', 'chrome', 'web-push')`,
    );
    await query(
      `INSERT INTO herald.interactions (report_id, campaign_id, occurrence, user_id, kind, action, at)
       VALUES ('r1', 'c1', 'run1', 'u1', 'clicked', NULL, timestamptz '2026-01-01T11:00Z'),
              ('r2', 'c1', 'run1', 'u2', 'viewed', NULL, timestamptz '2026-01-01T11:00Z'),
              ('r3', 'c1', 'run1', 'u9', 'viewed', NULL, timestamptz '2026-01-01T11:00Z')`,
    );
    await query(
      `INSERT INTO herald.conversions (campaign_id, occurrence, user_id, control, at, event_name, revenue)
       VALUES ('c1', 'run1', 'u1', false, timestamptz '2026-01-01T12:00Z', 'Charged', 12.5),
              ('c1', 'run1', 'u2', true, timestamptz '2026-01-01T12:00Z', 'Charged', 3)`,
    );

    const later = MIGRATIONS.filter((migration) => migration.version >= 13).map(
      (migration) => migration.version,
    );
    expect(await migrate({ client: db })).toEqual({ applied: later, version: later.at(-1) });

    expect(
      (await query(`SELECT report_id, browser, browser_target FROM herald.interactions ORDER BY 1`)).rows,
    ).toEqual([
      // u1's latest sent message of the run went to Firefox (the later failed one to Edge does not count).
      { report_id: 'r1', browser: 'firefox', browser_target: 'web-push' },
      { report_id: 'r2', browser: 'chrome', browser_target: 'web-push' },
      // No message of the run was sent to u9: unknown, counted as other.
      { report_id: 'r3', browser: null, browser_target: null },
    ]);
    expect((await query(`SELECT user_id, browser FROM herald.conversions ORDER BY 1`)).rows).toEqual([
      { user_id: 'u1', browser: 'firefox' },
      { user_id: 'u2', browser: null },
    ]);
    await expectTalliesMatchRows();
  });
});
