import { type CampaignId, Decision, type UserId } from '@herald/core';
import type { SqlClient } from '../sql/client.js';
import { iso, parseRow } from './rows.js';

interface DecisionRow {
  id: string;
  campaign_id: string;
  occurrence: string;
  user_id: string;
  at: Date;
  outcome: string;
  reason: string | null;
  facts: unknown;
}

/** A decision as a JSON row for `jsonb_to_recordset` / `jsonb_to_record`. */
export const decisionRow = (decision: Decision) => ({
  campaign_id: decision.campaignId,
  occurrence: decision.occurrence,
  user_id: decision.userId,
  at: iso(decision.at),
  outcome: decision.outcome,
  reason: decision.reason,
  facts: decision.facts,
});

/** The decision log: why each recipient was sent, skipped or held back, appended and read back per user. */
export function decisionLog(sql: SqlClient, schema: string) {
  return {
    /** A log: every decision is a new row, in one statement; the identity keeps append order. */
    async appendDecisions(decisions: readonly Decision[]): Promise<void> {
      if (decisions.length === 0) return;
      const rows = decisions.map(decisionRow);
      await sql.query(
        `INSERT INTO ${schema}.decisions (campaign_id, occurrence, user_id, at, outcome, reason, facts)
         SELECT r.campaign_id, r.occurrence, r.user_id, r.at, r.outcome, r.reason, r.facts
         FROM ROWS FROM (jsonb_to_recordset($1::text::jsonb) AS (campaign_id text, occurrence text, user_id text,
           at timestamptz, outcome text, reason text, facts jsonb))
           WITH ORDINALITY AS r(campaign_id, occurrence, user_id, at, outcome, reason, facts, ord)
         ORDER BY r.ord`,
        [JSON.stringify(rows)],
      );
    },

    async listDecisions(query: {
      userId: UserId;
      campaignId?: CampaignId;
      since?: Date;
    }): Promise<Decision[]> {
      const params: unknown[] = [query.userId];
      const where = ['user_id = $1'];
      if (query.campaignId !== undefined) where.push(`campaign_id = $${params.push(query.campaignId)}`);
      if (query.since !== undefined) where.push(`at >= $${params.push(iso(query.since))}::timestamptz`);
      const { rows } = await sql.query<DecisionRow>(
        `SELECT id::text AS id, campaign_id, occurrence, user_id, at, outcome, reason, facts FROM ${schema}.decisions
         WHERE ${where.join(' AND ')} ORDER BY at, id`,
        params,
      );
      return rows.map((row) =>
        parseRow(Decision, 'decisions', row.id, {
          campaignId: row.campaign_id,
          occurrence: row.occurrence,
          userId: row.user_id,
          at: row.at,
          outcome: row.outcome,
          reason: row.reason,
          facts: row.facts,
        }),
      );
    },
  };
}
