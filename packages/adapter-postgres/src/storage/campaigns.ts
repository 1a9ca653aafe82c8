import { Campaign, type CampaignFilter, type CampaignId, ConflictError } from '@herald/core';
import type { SqlClient } from '../sql/client.js';
import { iso, parseRow } from './rows.js';

interface CampaignRow {
  id: string;
  doc: unknown;
}

/** The row values of a campaign: its indexed columns and the whole document. */
const values = (campaign: Campaign) => [
  campaign.id,
  campaign.status,
  campaign.nextRunAt ? iso(campaign.nextRunAt) : null,
  campaign.version,
  campaign.labels,
  iso(campaign.createdAt),
  iso(campaign.updatedAt),
  JSON.stringify(campaign),
];

const toCampaign = (row: CampaignRow): Campaign => parseRow(Campaign, 'campaigns', row.id, row.doc);

export function campaigns(sql: SqlClient, schema: string) {
  return {
    async insertCampaign(campaign: Campaign): Promise<void> {
      const { rows } = await sql.query(
        `INSERT INTO ${schema}.campaigns (id, status, next_run_at, version, labels, created_at, updated_at, doc)
         VALUES ($1, $2, $3::timestamptz, $4, $5::text[], $6::timestamptz, $7::timestamptz, $8::text::jsonb)
         ON CONFLICT (id) DO NOTHING RETURNING id`,
        values(campaign),
      );
      if (rows.length === 0) throw new ConflictError(`Campaign ${campaign.id} already exists`);
    },

    async getCampaign(id: CampaignId): Promise<Campaign | null> {
      const { rows } = await sql.query<CampaignRow>(`SELECT id, doc FROM ${schema}.campaigns WHERE id = $1`, [
        id,
      ]);
      return rows[0] ? toCampaign(rows[0]) : null;
    },

    /** Optimistic concurrency: the row is written only while its stored version is `expectedVersion`. */
    async updateCampaign(campaign: Campaign, expectedVersion: number): Promise<boolean> {
      const { rows } = await sql.query(
        `UPDATE ${schema}.campaigns SET status = $2, next_run_at = $3::timestamptz, version = $4, labels = $5::text[],
           created_at = $6::timestamptz, updated_at = $7::timestamptz, doc = $8::text::jsonb
         WHERE id = $1 AND version = $9 RETURNING id`,
        [...values(campaign), expectedVersion],
      );
      return rows.length > 0;
    },

    /** Oldest first (then by id), as the memory storage lists them. */
    async listCampaigns(filter: CampaignFilter = {}): Promise<Campaign[]> {
      const params: unknown[] = [];
      const where: string[] = [];
      if (filter.status !== undefined)
        where.push(`status = ANY($${params.push([...filter.status])}::text[])`);
      if (filter.label !== undefined) where.push(`labels @> ARRAY[$${params.push(filter.label)}::text]`);
      if (filter.dueBy !== undefined)
        where.push(`next_run_at <= $${params.push(iso(filter.dueBy))}::timestamptz`);
      const { rows } = await sql.query<CampaignRow>(
        `SELECT id, doc FROM ${schema}.campaigns ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY created_at, id`,
        params,
      );
      return rows.map(toCampaign);
    },
  };
}
