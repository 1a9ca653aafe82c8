import { BrowserClass, type CampaignId, type StoredBrowserTally } from '@herald/core';
import type { SqlClient } from '../sql/client.js';
import { parseRow } from './rows.js';

/**
 * A campaign's deliveries by browser and target, grouped by the server.
 * Messages, and the (run, user) pairs sent a message on each browser, come
 * from the campaign's entries of `deliveries_browser_idx` (migration 011);
 * each pair is then matched to its reports (grouped per run and user) and
 * conversion by hash join. Unlike the per-run figures this reads every
 * message and report of the campaign (reports name a user, not a browser,
 * so no tally can be kept by report alone): seconds at a million recipients,
 * measured in bench/README.md, "Stats".
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
        `WITH messages AS (
           SELECT coalesce(browser, 'other') AS browser, coalesce(browser_target, 'web-push') AS target,
                  count(*) FILTER (WHERE status = 'sent') AS sent, count(*) FILTER (WHERE status <> 'sent') AS failed
           FROM ${schema}.deliveries WHERE campaign_id = $1 GROUP BY 1, 2
         ), reached AS (
           SELECT DISTINCT coalesce(browser, 'other') AS browser, coalesce(browser_target, 'web-push') AS target,
                  occurrence, user_id
           FROM ${schema}.deliveries WHERE campaign_id = $1 AND status = 'sent'
         ), reports AS (
           SELECT occurrence, user_id, count(*) FILTER (WHERE kind = 'viewed') AS viewed,
                  count(*) FILTER (WHERE kind = 'clicked') AS clicked
           FROM ${schema}.interactions WHERE campaign_id = $1 AND kind IN ('viewed', 'clicked') GROUP BY 1, 2
         ), per_browser AS (
           SELECT r.browser, r.target, count(*) AS users, sum(coalesce(p.viewed, 0)) AS viewed,
                  sum(coalesce(p.clicked, 0)) AS clicked, count(c.user_id) AS conversions,
                  sum(coalesce(c.revenue, 0)) AS revenue
           FROM reached r
           LEFT JOIN reports p ON p.occurrence = r.occurrence AND p.user_id = r.user_id
           LEFT JOIN ${schema}.conversions c
             ON c.campaign_id = $1 AND NOT c.control AND c.occurrence = r.occurrence AND c.user_id = r.user_id
           GROUP BY 1, 2
         )
         SELECT m.browser, m.target, coalesce(b.users, 0)::int AS users, m.sent::int AS sent, m.failed::int AS failed,
                coalesce(b.viewed, 0)::int AS viewed, coalesce(b.clicked, 0)::int AS clicked,
                coalesce(b.conversions, 0)::int AS conversions, coalesce(b.revenue, 0)::float8 AS revenue
         FROM messages m LEFT JOIN per_browser b USING (browser, target)`,
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
