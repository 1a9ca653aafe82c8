import type { PruneBatch } from '@herald/core';
import type { SqlClient } from '../sql/client.js';
import { iso } from './rows.js';

/**
 * Retention batches: each call is one DELETE of at most `limit` rows, its own
 * short transaction, so workers appending events or decisions meanwhile
 * never wait long on a prune. The rows are picked by the instant's index
 * (BRIN on events.time from migration 001, on decisions.at from migration
 * 012) without ORDER BY: sorting every old row to take the oldest
 * thousand would cost the whole backlog per batch, and the pass removes
 * them all anyway. SKIP LOCKED lets two prune runs share the work instead of
 * queueing on each other's rows.
 */
export function retention(sql: SqlClient, schema: string) {
  const prune = async (table: string, column: string, { before, limit }: PruneBatch): Promise<number> => {
    if (limit <= 0) return 0;
    const { rows } = await sql.query<{ n: number }>(
      `WITH gone AS (
         DELETE FROM ${schema}.${table} WHERE id IN (
           SELECT id FROM ${schema}.${table} WHERE ${column} < $1::timestamptz LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [iso(before), limit],
    );
    return rows[0]?.n ?? 0;
  };
  return {
    /** The events table's delete trigger (migration 006) recomputes the latest instants of the pairs it removes. */
    pruneEvents: (batch: PruneBatch) => prune('events', '"time"', batch),
    pruneDecisions: (batch: PruneBatch) => prune('decisions', 'at', batch),
  };
}
