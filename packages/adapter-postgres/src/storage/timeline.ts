import type { CampaignId, StoredTimelineBucket } from '@herald/core';
import type { SqlClient } from '../sql/client.js';

/**
 * A campaign's figures over time, grouped by the server from the quarter-hour
 * tallies kept by triggers (migration 011): sent deliveries, viewed/clicked
 * reports and recipients' conversions, each by its own `at`, bucketed by
 * local hour before the cutoff (first send's local hour + $3 hours) and by
 * local day from it, in the zone $2. A quarter hour's figures fall in one
 * bucket whole, as a local hour or day starts on a UTC quarter hour in every
 * zone whose offset is a whole number of quarter hours (all since 1972); the
 * first send's local hour is its quarter's.
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
           SELECT ${HOUR_START('min(quarter)')} + make_interval(hours => $3::int) AS cutoff
           FROM ${s}.timeline_tallies WHERE campaign_id = $1 AND sent > 0
           HAVING count(*) > 0
         ), bucketed AS (
           SELECT CASE WHEN f.quarter < cut.cutoff THEN 'hour' ELSE 'day' END AS unit,
                  CASE WHEN f.quarter < cut.cutoff THEN ${HOUR_START('f.quarter')}
                       ELSE greatest(${DAY_START('f.quarter')}, cut.cutoff) END AS start,
                  f.sent, f.viewed, f.clicked, f.conversions, f.revenue
           FROM ${s}.timeline_tallies f CROSS JOIN cut WHERE f.campaign_id = $1
         )
         SELECT unit, start, sum(sent)::int AS sent, sum(viewed)::int AS viewed, sum(clicked)::int AS clicked,
                sum(conversions)::int AS conversions, sum(revenue)::float8 AS revenue
         FROM bucketed GROUP BY unit, start
         -- Quarter hours whose rows were all deleted hold zeros: an empty bucket is left out.
         HAVING sum(sent) + sum(viewed) + sum(clicked) + sum(conversions) > 0
         ORDER BY start, unit`,
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
