import { expect } from 'vitest';

/** A query on a migrated `herald` schema (PGlite's or a pool's). */
type Query = (text: string) => Promise<{ rows: Record<string, unknown>[] }>;

/**
 * The recipient tallies (migrations 010, 014, 016) equal a count of `recipients` by (campaign,
 * run, state, reason), with each group's latest settled instant. Returns the counted groups.
 */
export async function expectRecipientTalliesMatchRows(query: Query): Promise<Record<string, unknown>[]> {
  const counted = await query(
    `SELECT campaign_id, occurrence, state, coalesce(reason, '') AS reason, count(*)::int AS n,
            max(updated_at) FILTER (WHERE state <> 'pending') AS settled_at
     FROM herald.recipients GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`,
  );
  const tallies = await query(
    `SELECT campaign_id, occurrence, state, reason, n::int AS n, settled_at
     FROM herald.recipient_tallies WHERE n <> 0 ORDER BY 1, 2, 3, 4`,
  );
  expect(tallies.rows).toEqual(counted.rows);
  return counted.rows;
}

/** Every browser figure by (campaign, run, browser, target), counted from the rows. */
const COUNTED_BY_BROWSER = `
  SELECT campaign_id, occurrence, browser, target, sum(users)::int AS users, sum(sent)::int AS sent,
         sum(failed)::int AS failed, sum(viewed)::int AS viewed, sum(clicked)::int AS clicked,
         sum(conversions)::int AS conversions, sum(revenue)::float8 AS revenue
  FROM (SELECT campaign_id, occurrence, coalesce(browser, 'other') AS browser,
               coalesce(browser_target, 'web-push') AS target,
               count(DISTINCT user_id) FILTER (WHERE status = 'sent') AS users,
               count(*) FILTER (WHERE status = 'sent') AS sent, count(*) FILTER (WHERE status <> 'sent') AS failed,
               0 AS viewed, 0 AS clicked, 0 AS conversions, 0::numeric AS revenue
        FROM herald.deliveries GROUP BY 1, 2, 3, 4
        UNION ALL
        SELECT campaign_id, occurrence, coalesce(browser, 'other'), coalesce(browser_target, 'web-push'), 0, 0, 0,
               (kind = 'viewed')::int, (kind = 'clicked')::int, 0, 0
        FROM herald.interactions
        UNION ALL
        SELECT campaign_id, occurrence, coalesce(browser, 'other'), coalesce(browser_target, 'web-push'), 0, 0, 0,
               0, 0, 1, coalesce(revenue, 0)
        FROM herald.conversions WHERE NOT control) rows
  GROUP BY 1, 2, 3, 4
  HAVING sum(users) + sum(sent) + sum(failed) + sum(viewed) + sum(clicked) + sum(conversions) <> 0
  ORDER BY 1, 2, 3, 4`;

/** The browser tallies (migrations 013, 016) equal a count of deliveries, reports and conversions; there are some. */
export async function expectBrowserTalliesMatchRows(query: Query): Promise<void> {
  const tallies = await query(
    `SELECT campaign_id, occurrence, browser, target, users::int AS users, sent::int AS sent, failed::int AS failed,
            viewed::int AS viewed, clicked::int AS clicked, conversions::int AS conversions, revenue::float8 AS revenue
     FROM herald.browser_tallies WHERE users + sent + failed + viewed + clicked + conversions <> 0
     ORDER BY 1, 2, 3, 4`,
  );
  const counted = await query(COUNTED_BY_BROWSER);
  expect(counted.rows.length).toBeGreaterThan(0);
  expect(tallies.rows).toEqual(counted.rows);
}
