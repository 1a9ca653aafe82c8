import type { CampaignId, StoredTimelineBucket } from '@herald/core';
import type { SqlClient } from '../sql/client.js';

/**
 * A campaign's figures over time, grouped by the server: sent deliveries,
 * viewed/clicked reports and recipients' conversions, each by its own `at`,
 * bucketed by local hour before the cutoff (first send's local hour + $3
 * hours) and by local day from it, in the zone $2.
 *
 * A local hour's start is the instant minus the time elapsed since the local
 * hour began, not `date_trunc(...) AT TIME ZONE` back: the local wall clock
 * repeats an hour when DST ends, and converting it back would merge two hours.
 * A local day's start converts back (midnight is not repeated), as luxon's
 * `startOf('day')` in the memory reference does.
 */
const HOUR_START = (at: string) =>
  `(${at} - ((${at} AT TIME ZONE $2::text) - date_trunc('hour', ${at} AT TIME ZONE $2::text)))`;
const DAY_START = (at: string) => `(date_trunc('day', ${at} AT TIME ZONE $2::text) AT TIME ZONE $2::text)`;

export function campaignTimeline(sql: SqlClient, s: string) {
  return {
    async campaignTimeline(
      campaignId: CampaignId,
      options: { zone: string; hourlyFor: number },
    ): Promise<StoredTimelineBucket[]> {
      const { rows } = await sql.query<{
        unit: 'hour' | 'day';
        start: Date;
        sent: number;
        viewed: number;
        clicked: number;
        conversions: number;
        revenue: number;
      }>(
        `WITH cut AS (
           SELECT ${HOUR_START('min(at)')} + make_interval(hours => $3::int) AS cutoff
           FROM ${s}.deliveries WHERE campaign_id = $1 AND status = 'sent'
           HAVING count(*) > 0
         ), facts AS (
           SELECT at, 1 AS sent, 0 AS viewed, 0 AS clicked, 0 AS conversions, 0::numeric AS revenue
           FROM ${s}.deliveries WHERE campaign_id = $1 AND status = 'sent'
           UNION ALL
           SELECT at, 0, (kind = 'viewed')::int, (kind = 'clicked')::int, 0, 0
           FROM ${s}.interactions WHERE campaign_id = $1 AND kind IN ('viewed', 'clicked')
           UNION ALL
           SELECT at, 0, 0, 0, 1, coalesce(revenue, 0)
           FROM ${s}.conversions WHERE campaign_id = $1 AND NOT control
         ), bucketed AS (
           SELECT CASE WHEN f.at < cut.cutoff THEN 'hour' ELSE 'day' END AS unit,
                  CASE WHEN f.at < cut.cutoff THEN ${HOUR_START('f.at')}
                       ELSE greatest(${DAY_START('f.at')}, cut.cutoff) END AS start,
                  f.sent, f.viewed, f.clicked, f.conversions, f.revenue
           FROM facts f CROSS JOIN cut
         )
         SELECT unit, start, sum(sent)::int AS sent, sum(viewed)::int AS viewed, sum(clicked)::int AS clicked,
                sum(conversions)::int AS conversions, sum(revenue)::float8 AS revenue
         FROM bucketed GROUP BY unit, start ORDER BY start, unit`,
        [campaignId, options.zone, options.hourlyFor],
      );
      return rows.map((row) => ({
        start: row.start instanceof Date ? row.start : new Date(row.start),
        unit: row.unit,
        sent: row.sent,
        viewed: row.viewed,
        clicked: row.clicked,
        conversions: row.conversions,
        revenue: row.revenue,
      }));
    },
  };
}
