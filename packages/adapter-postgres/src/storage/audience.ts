import type { AudiencePage, SegmentDefinition, UserId } from '@herald/core';
import { segmentPredicate } from '../segments/compile.js';
import type { SqlClient } from '../sql/client.js';

/**
 * Audiences are evaluated inside Postgres: the segment compiles to a
 * parameterised predicate over profiles, pages come by keyset on the
 * primary key (never OFFSET), so each page costs the same however deep
 * into the audience it is.
 */
export function audience(sql: SqlClient, s: string) {
  return {
    async selectAudience(segment: SegmentDefinition, page: AudiencePage): Promise<UserId[]> {
      if (page.limit <= 0) return [];
      const { where, params } = segmentPredicate(segment, { schema: s, profile: 'p', now: page.now });
      const keyset = page.after === null ? '' : `p.user_id > ${params.add(page.after)} AND `;
      const { rows } = await sql.query<{ user_id: UserId }>(
        `SELECT p.user_id FROM ${s}.profiles p WHERE ${keyset}${where} ORDER BY p.user_id LIMIT ${params.add(page.limit)}`,
        params.values,
      );
      return rows.map((row) => row.user_id);
    },

    async countAudience(segment: SegmentDefinition, now: Date): Promise<number> {
      const { where, params } = segmentPredicate(segment, { schema: s, profile: 'p', now });
      const { rows } = await sql.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${s}.profiles p WHERE ${where}`,
        params.values,
      );
      return rows[0]?.n ?? 0;
    },
  };
}
