import type { CampaignId, Conversion, ConversionTallies } from '@herald/core';
import type { SqlClient } from '../sql/client.js';
import { iso } from './rows.js';

/** Conversions attributed to a campaign (one per recipient and occurrence) and their tallies for stats. */
export function conversions(sql: SqlClient, schema: string) {
  return {
    async recordConversion(conversion: Conversion): Promise<boolean> {
      const { rows } = await sql.query(
        `INSERT INTO ${schema}.conversions (campaign_id, occurrence, user_id, control, at, event_name, revenue, browser,
           browser_target)
         VALUES ($1, $2, $3, $4, $5::timestamptz, $6, $7::numeric, $8, $9)
         ON CONFLICT (campaign_id, occurrence, user_id) DO NOTHING RETURNING user_id`,
        [
          conversion.campaignId,
          conversion.occurrence,
          conversion.userId,
          conversion.control,
          iso(conversion.at),
          conversion.eventName,
          conversion.revenue === null ? null : String(conversion.revenue),
          conversion.browser?.name ?? null,
          conversion.browser?.target ?? null,
        ],
      );
      return rows.length > 0;
    },

    async conversionTallies(campaignId: CampaignId): Promise<ConversionTallies> {
      const tallies: ConversionTallies = {
        recipients: { conversions: 0, revenue: 0 },
        control: { conversions: 0, revenue: 0 },
      };
      const { rows } = await sql.query<{ control: boolean; n: number; revenue: number }>(
        `SELECT control, count(*)::int AS n, coalesce(sum(revenue), 0)::float8 AS revenue
         FROM ${schema}.conversions WHERE campaign_id = $1 GROUP BY control`,
        [campaignId],
      );
      for (const row of rows) {
        tallies[row.control ? 'control' : 'recipients'] = { conversions: row.n, revenue: row.revenue };
      }
      return tallies;
    },
  };
}
