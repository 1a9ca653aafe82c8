import {
  type CampaignId,
  type Conversion,
  type ConversionTallies,
  Decision,
  type Interaction,
  type UserId,
} from '@herald/core';
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

interface InteractionRow {
  report_id: string;
  campaign_id: string;
  occurrence: string;
  user_id: string;
  kind: Interaction['kind'];
  action: string | null;
  at: Date;
}

/** The decision log, per-user report history and conversions. */
export function brain(sql: SqlClient, s: string) {
  return {
    /** A log: every decision is a new row, in one statement; the identity keeps append order. */
    async appendDecisions(decisions: readonly Decision[]): Promise<void> {
      if (decisions.length === 0) return;
      const rows = decisions.map((d) => ({
        campaign_id: d.campaignId,
        occurrence: d.occurrence,
        user_id: d.userId,
        at: iso(d.at),
        outcome: d.outcome,
        reason: d.reason,
        facts: d.facts,
      }));
      await sql.query(
        `INSERT INTO ${s}.decisions (campaign_id, occurrence, user_id, at, outcome, reason, facts)
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
        `SELECT id::text AS id, campaign_id, occurrence, user_id, at, outcome, reason, facts FROM ${s}.decisions
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

    async listInteractions(query: { userId: UserId; since?: Date }): Promise<Interaction[]> {
      const params: unknown[] = [query.userId];
      const since =
        query.since === undefined ? '' : ` AND at >= $${params.push(iso(query.since))}::timestamptz`;
      const { rows } = await sql.query<InteractionRow>(
        `SELECT report_id, campaign_id, occurrence, user_id, kind, action, at FROM ${s}.interactions
         WHERE user_id = $1${since} ORDER BY at, report_id`,
        params,
      );
      return rows.map((row) => ({
        reportId: row.report_id,
        campaignId: row.campaign_id as CampaignId,
        occurrence: row.occurrence,
        userId: row.user_id as UserId,
        kind: row.kind,
        action: row.action,
        at: row.at,
      }));
    },

    async recordConversion(c: Conversion): Promise<boolean> {
      const { rows } = await sql.query(
        `INSERT INTO ${s}.conversions (campaign_id, occurrence, user_id, control, at, event_name, revenue)
         VALUES ($1, $2, $3, $4, $5::timestamptz, $6, $7::numeric)
         ON CONFLICT (campaign_id, occurrence, user_id) DO NOTHING RETURNING user_id`,
        [
          c.campaignId,
          c.occurrence,
          c.userId,
          c.control,
          iso(c.at),
          c.eventName,
          c.revenue === null ? null : String(c.revenue),
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
         FROM ${s}.conversions WHERE campaign_id = $1 GROUP BY control`,
        [campaignId],
      );
      for (const row of rows) {
        tallies[row.control ? 'control' : 'recipients'] = { conversions: row.n, revenue: row.revenue };
      }
      return tallies;
    },
  };
}
