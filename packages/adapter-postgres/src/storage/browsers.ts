import { BrowserClass, type CampaignId, type StoredBrowserTally } from '@herald/core';
import type { SqlClient } from '../sql/client.js';
import { parseRow } from './rows.js';

/**
 * A campaign's figures by browser and target: the sum over its runs of the
 * tallies kept by migration 013's triggers (a few rows per run), not a
 * grouping of its messages and reports. Entries whose figures all went back
 * to zero (rows deleted) are left out, as if never written.
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
        `SELECT browser, target, sum(users)::int AS users, sum(sent)::int AS sent, sum(failed)::int AS failed,
                sum(viewed)::int AS viewed, sum(clicked)::int AS clicked, sum(conversions)::int AS conversions,
                sum(revenue)::float8 AS revenue
         FROM ${schema}.browser_tallies WHERE campaign_id = $1 GROUP BY browser, target
         HAVING sum(users) <> 0 OR sum(sent) <> 0 OR sum(failed) <> 0 OR sum(viewed) <> 0 OR sum(clicked) <> 0
           OR sum(conversions) <> 0 OR sum(revenue) <> 0`,
        [campaignId],
      );
      return rows.map(({ browser, target, ...figures }) => ({
        ...parseRow(BrowserClass, 'browser_tallies', `${campaignId}/${browser}/${target}`, {
          name: browser,
          target,
        }),
        ...figures,
      }));
    },
  };
}
