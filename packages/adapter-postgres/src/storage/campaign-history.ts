import { CampaignHistoryEntry, type CampaignId } from '@herald/core';
import type { SqlClient } from '../sql/client.js';
import { iso, parseRow } from './rows.js';

/** Campaign history and deletion (Storage port block "campaign history and deletion"). */
export function campaignHistory(sql: SqlClient, s: string) {
  return {
    async appendCampaignHistory(entry: CampaignHistoryEntry): Promise<void> {
      await sql.query(
        `INSERT INTO ${s}.campaign_history (campaign_id, version, at, actor, action, doc)
         VALUES ($1, $2, $3::timestamptz, $4, $5, $6::text::jsonb)`,
        [entry.campaignId, entry.version, iso(entry.at), entry.actor, entry.action, JSON.stringify(entry)],
      );
    },

    async listCampaignHistory(campaignId: CampaignId): Promise<CampaignHistoryEntry[]> {
      const { rows } = await sql.query<{ id: string; doc: unknown }>(
        `SELECT id::text AS id, doc FROM ${s}.campaign_history WHERE campaign_id = $1 ORDER BY id`,
        [campaignId],
      );
      return rows.map((row) => parseRow(CampaignHistoryEntry, 'campaign_history', row.id, row.doc));
    },

    /** One statement: the campaign row at the expected version, and its history only if that row went. */
    async deleteCampaign(id: CampaignId, expectedVersion: number): Promise<boolean> {
      const { rows } = await sql.query<{ deleted: number }>(
        `WITH gone AS (
           DELETE FROM ${s}.campaigns WHERE id = $1 AND version = $2 RETURNING id
         ), history AS (
           DELETE FROM ${s}.campaign_history WHERE campaign_id IN (SELECT id FROM gone)
         )
         SELECT count(*)::int AS deleted FROM gone`,
        [id, expectedVersion],
      );
      return (rows[0]?.deleted ?? 0) > 0;
    },
  };
}
