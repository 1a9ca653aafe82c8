import type { AudiencePageRecord, CampaignId, StoredOccurrenceTallies } from '@herald/core';
import { RecipientState } from '@herald/core';
import type { SqlClient } from '../sql/client.js';
import { iso } from './rows.js';

/**
 * Campaign statistics per occurrence. Recipients, deliveries (migration 010)
 * and reports with their distinct users (migration 011) are read from the
 * tallies kept by triggers: a few rows per occurrence, whatever the
 * audience. Conversions (one in tens of recipients) and audience pages (one
 * per page) are grouped by the server; nothing is listed into Node.
 */
/**
 * The instant in a live occurrence id, without a regular expression over the
 * whole id (too slow per row at a million rows): after `event:`
 * (`event:<instant>:<fingerprint>`), else its last 24 characters
 * (`inaction:<instant>`, `reminder:<key>:<instant>`, a scheduled run's id).
 * For every id Herald mints this is the last ISO instant in it, as the memory
 * reference reads it.
 */
const INSTANT = `(CASE WHEN occurrence LIKE 'event:%' THEN substr(occurrence, 7, 24) ELSE right(occurrence, 24) END)`;
/** The day (YYYY-MM-DD) in the zone $2 of that instant; the id itself when it holds none. LIKE, not a regex: cheaper per row. */
const DAY = `(CASE WHEN ${INSTANT} LIKE '____-__-__T__:__:__.___Z' THEN to_char(${INSTANT}::timestamptz AT TIME ZONE $2, 'YYYY-MM-DD') ELSE occurrence END)`;

/**
 * Distinct users with a report of each kind, per day (in the zone $2) of the
 * occurrences. A day of one occurrence (every scheduled run; most days) sums
 * that occurrence's tally; a day of several (live triggers) counts its
 * distinct users in `interaction_users`, reading only those occurrences'
 * rows, since a user reached twice that day is one user.
 */
const reportersByDay = (s: string) => `
  WITH runs AS (
    SELECT occurrence, ${DAY} AS day FROM ${s}.interaction_user_tallies
    WHERE campaign_id = $1 AND n <> 0 GROUP BY occurrence
  ), shared AS (
    SELECT day FROM runs GROUP BY day HAVING count(*) > 1
  )
  SELECT r.day AS occurrence, t.kind, sum(t.n)::int AS users
  FROM ${s}.interaction_user_tallies t JOIN runs r USING (occurrence)
  WHERE t.campaign_id = $1 AND t.n <> 0 AND r.day NOT IN (SELECT day FROM shared)
  GROUP BY 1, 2
  UNION ALL
  SELECT r.day, u.kind, count(DISTINCT u.user_id)::int
  FROM ${s}.interaction_users u JOIN runs r USING (occurrence)
  WHERE u.campaign_id = $1 AND r.day IN (SELECT day FROM shared)
  GROUP BY 1, 2`;

export function campaignStatistics(sql: SqlClient, s: string) {
  return {
    async recordAudiencePage(page: AudiencePageRecord): Promise<boolean> {
      const { rows } = await sql.query(
        `INSERT INTO ${s}.audience_pages (campaign_id, occurrence, after, users, last, at)
         VALUES ($1, $2, $3, $4, $5, $6::timestamptz) ON CONFLICT DO NOTHING RETURNING 1`,
        [page.campaignId, page.occurrence, page.after, page.users, page.last, iso(page.at)],
      );
      return rows.length > 0;
    },

    async getAudiencePage(
      page: Pick<AudiencePageRecord, 'campaignId' | 'occurrence' | 'after'>,
    ): Promise<AudiencePageRecord | null> {
      const { rows } = await sql.query<{ users: number; last: boolean; at: Date }>(
        `SELECT users, last, at FROM ${s}.audience_pages WHERE campaign_id = $1 AND occurrence = $2 AND after = $3`,
        [page.campaignId, page.occurrence, page.after],
      );
      const row = rows[0];
      return row
        ? {
            campaignId: page.campaignId,
            occurrence: page.occurrence,
            after: page.after,
            users: row.users,
            last: row.last,
            at: row.at,
          }
        : null;
    },

    async occurrenceTallies(
      campaignId: CampaignId,
      options?: { dayIn?: string },
    ): Promise<StoredOccurrenceTallies[]> {
      // The group: the occurrence, or the day (in the zone, $2) of the instant in its id.
      const key = options?.dayIn === undefined ? 'occurrence' : DAY;
      const params = options?.dayIn === undefined ? [campaignId] : [campaignId, options.dayIn];
      const [recipients, deliveries, interactions, reporters, conversions, pages] = await Promise.all([
        sql.query<{
          occurrence: string;
          state: string;
          reason: string | null;
          n: number;
          settled: Date | null;
        }>(
          `SELECT ${key} AS occurrence, state, nullif(reason, '') AS reason, sum(n)::int AS n,
             max(settled_at) FILTER (WHERE state <> 'pending') AS settled
           FROM ${s}.recipient_tallies WHERE campaign_id = $1 AND n <> 0 GROUP BY 1, state, reason`,
          params,
        ),
        sql.query<{ occurrence: string; status: string; n: number }>(
          `SELECT ${key} AS occurrence, status, sum(n)::int AS n FROM ${s}.delivery_tallies
           WHERE campaign_id = $1 AND n <> 0 GROUP BY 1, status`,
          params,
        ),
        sql.query<{ occurrence: string; kind: string; action: string | null; n: number }>(
          `SELECT ${key} AS occurrence, kind, nullif(action, '') AS action, sum(n)::int AS n
           FROM ${s}.interaction_tallies WHERE campaign_id = $1 AND n <> 0 GROUP BY 1, kind, action`,
          params,
        ),
        sql.query<{ occurrence: string; kind: string; users: number }>(
          options?.dayIn === undefined
            ? `SELECT occurrence, kind, sum(n)::int AS users FROM ${s}.interaction_user_tallies
               WHERE campaign_id = $1 AND n <> 0 GROUP BY 1, kind`
            : reportersByDay(s),
          params,
        ),
        sql.query<{ occurrence: string; control: boolean; n: number; revenue: number }>(
          `SELECT ${key} AS occurrence, control, count(*)::int AS n, coalesce(sum(revenue), 0)::float8 AS revenue
           FROM ${s}.conversions WHERE campaign_id = $1 GROUP BY 1, control`,
          params,
        ),
        sql.query<{ occurrence: string; users: number; last: boolean }>(
          `SELECT ${key} AS occurrence, sum(users)::int AS users, bool_or(last) AS last FROM ${s}.audience_pages
           WHERE campaign_id = $1 GROUP BY 1`,
          params,
        ),
      ]);

      const byOccurrence = new Map<string, StoredOccurrenceTallies>();
      const tally = (occurrence: string): StoredOccurrenceTallies => {
        const found = byOccurrence.get(occurrence);
        if (found) return found;
        const created: StoredOccurrenceTallies = {
          occurrence,
          recipients: { pending: 0, delivered: 0, undeliverable: 0, skipped: 0, control: 0 },
          skipped: {},
          deliveries: { sent: 0, failed: 0, gone: 0 },
          interactions: { viewed: 0, clicked: 0, closed: 0, clickedByAction: {} },
          interactionUsers: { viewed: 0, clicked: 0, closed: 0 },
          conversions: {
            recipients: { conversions: 0, revenue: 0 },
            control: { conversions: 0, revenue: 0 },
          },
          paged: 0,
          pagedAll: false,
          lastSettledAt: null,
        };
        byOccurrence.set(occurrence, created);
        return created;
      };

      for (const row of recipients.rows) {
        const state = RecipientState.safeParse(row.state);
        if (!state.success) continue;
        const counts = tally(row.occurrence);
        counts.recipients[state.data] += row.n;
        if (state.data === 'skipped' && row.reason !== null) add(counts.skipped, row.reason, row.n);
        if (row.settled !== null && (counts.lastSettledAt === null || row.settled > counts.lastSettledAt))
          counts.lastSettledAt = row.settled;
      }
      for (const row of deliveries.rows) {
        if (row.status === 'sent' || row.status === 'failed' || row.status === 'gone')
          tally(row.occurrence).deliveries[row.status] += row.n;
      }
      for (const row of interactions.rows) {
        if (row.kind !== 'viewed' && row.kind !== 'clicked' && row.kind !== 'closed') continue;
        const counts = tally(row.occurrence);
        counts.interactions[row.kind] += row.n;
        if (row.kind === 'clicked' && row.action !== null)
          add(counts.interactions.clickedByAction, row.action, row.n);
      }
      for (const row of reporters.rows) {
        if (row.kind === 'viewed' || row.kind === 'clicked' || row.kind === 'closed')
          tally(row.occurrence).interactionUsers[row.kind] = row.users;
      }
      for (const row of conversions.rows) {
        tally(row.occurrence).conversions[row.control ? 'control' : 'recipients'] = {
          conversions: row.n,
          revenue: row.revenue,
        };
      }
      for (const row of pages.rows) {
        const counts = tally(row.occurrence);
        counts.paged = row.users;
        counts.pagedAll = row.last;
      }
      // Code-point order, as the memory reference sorts (the columns' collations differ).
      return [...byOccurrence.values()].sort((a, b) =>
        a.occurrence < b.occurrence ? -1 : a.occurrence > b.occurrence ? 1 : 0,
      );
    },
  };
}

function add(counts: Record<string, number>, key: string, n: number): void {
  counts[key] = (counts[key] ?? 0) + n;
}
