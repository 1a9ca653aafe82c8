import { BrowserClass, type CampaignId, type StoredBrowserTally } from '@herald/core';
import type { SqlClient } from '../sql/client.js';
import { parseRow } from './rows.js';

/**
 * A campaign's deliveries by browser and target, grouped by the server.
 * Messages and (run, user) pairs come from one index-only scan of
 * `deliveries_browser_idx` (migration 011); reports and conversions are
 * matched to the (run, user) pairs that were sent the message, by hash join.
 */
export function campaignBrowsers(sql: SqlClient, schema: string) {
  return {
    async campaignBrowsers(campaignId: CampaignId): Promise<StoredBrowserTally[]> {
      const { rows } = await sql.query<{
        browser: string;
        target: string;
        users: number;
        sent: number;
        failed: number;
        viewed: number;
        clicked: number;
        conversions: number;
        revenue: number;
      }>(
        `WITH classified AS (
           SELECT coalesce(browser, 'other') AS browser, coalesce(browser_target, 'web-push') AS target,
                  status, occurrence, user_id
           FROM ${schema}.deliveries WHERE campaign_id = $1
         ), messages AS (
           SELECT browser, target, count(*) FILTER (WHERE status = 'sent') AS sent,
                  count(*) FILTER (WHERE status <> 'sent') AS failed
           FROM classified GROUP BY 1, 2
         ), reached AS (
           SELECT DISTINCT browser, target, occurrence, user_id FROM classified WHERE status = 'sent'
         ), users AS (
           SELECT browser, target, count(*) AS users FROM reached GROUP BY 1, 2
         ), reports AS (
           SELECT r.browser, r.target, count(*) FILTER (WHERE i.kind = 'viewed') AS viewed,
                  count(*) FILTER (WHERE i.kind = 'clicked') AS clicked
           FROM ${schema}.interactions i JOIN reached r ON r.occurrence = i.occurrence AND r.user_id = i.user_id
           WHERE i.campaign_id = $1 AND i.kind IN ('viewed', 'clicked') GROUP BY 1, 2
         ), converted AS (
           SELECT r.browser, r.target, count(*) AS conversions, sum(coalesce(c.revenue, 0)) AS revenue
           FROM ${schema}.conversions c JOIN reached r ON r.occurrence = c.occurrence AND r.user_id = c.user_id
           WHERE c.campaign_id = $1 AND NOT c.control GROUP BY 1, 2
         )
         SELECT m.browser, m.target, coalesce(u.users, 0)::int AS users, m.sent::int AS sent,
                m.failed::int AS failed, coalesce(p.viewed, 0)::int AS viewed, coalesce(p.clicked, 0)::int AS clicked,
                coalesce(c.conversions, 0)::int AS conversions, coalesce(c.revenue, 0)::float8 AS revenue
         FROM messages m
         LEFT JOIN users u USING (browser, target)
         LEFT JOIN reports p USING (browser, target)
         LEFT JOIN converted c USING (browser, target)`,
        [campaignId],
      );
      return rows.map(({ browser, target, ...figures }) => ({
        ...parseRow(BrowserClass, 'deliveries', `${campaignId}/${browser}/${target}`, {
          name: browser,
          target,
        }),
        ...figures,
      }));
    },
  };
}
