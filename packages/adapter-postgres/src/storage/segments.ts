import { ConflictError, SavedSegment, type SegmentId } from '@herald/core';
import type { SqlClient } from '../sql/client.js';
import { iso, parseRow } from './rows.js';

interface SegmentRow {
  id: string;
  doc: unknown;
}

const toSegment = (row: SegmentRow): SavedSegment => parseRow(SavedSegment, 'segments', row.id, row.doc);

/** Saved segments: the document is the SavedSegment; name and times are columns for listing. */
export function savedSegments(sql: SqlClient, schema: string) {
  const values = (seg: SavedSegment) => [
    seg.id,
    seg.name,
    iso(seg.createdAt),
    iso(seg.updatedAt),
    JSON.stringify(seg),
  ];
  return {
    async insertSegment(seg: SavedSegment): Promise<void> {
      const { rows } = await sql.query(
        `INSERT INTO ${schema}.segments (id, name, created_at, updated_at, doc)
         VALUES ($1, $2, $3::timestamptz, $4::timestamptz, $5::text::jsonb) ON CONFLICT (id) DO NOTHING RETURNING id`,
        values(seg),
      );
      if (rows.length === 0) throw new ConflictError(`Segment ${seg.id} already exists`);
    },

    async getSegment(id: SegmentId): Promise<SavedSegment | null> {
      const { rows } = await sql.query<SegmentRow>(`SELECT id, doc FROM ${schema}.segments WHERE id = $1`, [
        id,
      ]);
      return rows[0] ? toSegment(rows[0]) : null;
    },

    async updateSegment(seg: SavedSegment): Promise<boolean> {
      const { rows } = await sql.query(
        `UPDATE ${schema}.segments SET name = $2, created_at = $3::timestamptz, updated_at = $4::timestamptz,
           doc = $5::text::jsonb WHERE id = $1 RETURNING id`,
        values(seg),
      );
      return rows.length > 0;
    },

    async listSegments(): Promise<SavedSegment[]> {
      const { rows } = await sql.query<SegmentRow>(
        `SELECT id, doc FROM ${schema}.segments ORDER BY name, id`,
      );
      return rows.map(toSegment);
    },

    async deleteSegment(id: SegmentId): Promise<boolean> {
      const { rows } = await sql.query(`DELETE FROM ${schema}.segments WHERE id = $1 RETURNING id`, [id]);
      return rows.length > 0;
    },
  };
}
