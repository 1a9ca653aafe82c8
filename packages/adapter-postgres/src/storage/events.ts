import { UserEvent, type UserId } from '@herald/core';
import type { SqlClient } from '../sql/client.js';
import { iso, parseRow } from './rows.js';

interface EventRow {
  id: string;
  user_id: string;
  name: string;
  time: Date;
  properties: unknown;
}

export function events(sql: SqlClient, schema: string) {
  return {
    /** All events in one statement; the identity column keeps their order for equal times. */
    async appendEvents(batch: readonly UserEvent[]): Promise<void> {
      if (batch.length === 0) return;
      const rows = batch.map((event) => ({
        user_id: event.userId,
        name: event.name,
        time: iso(event.time),
        properties: event.properties,
      }));
      await sql.query(
        `INSERT INTO ${schema}.events (user_id, name, "time", properties)
         SELECT r.user_id, r.name, r."time", r.properties
         FROM ROWS FROM (jsonb_to_recordset($1::text::jsonb) AS (user_id text, name text, "time" timestamptz, properties jsonb))
           WITH ORDINALITY AS r(user_id, name, "time", properties, ord)
         ORDER BY r.ord`,
        [JSON.stringify(rows)],
      );
    },

    async listEvents(query: { userId: UserId; name?: string; from?: Date; to?: Date }): Promise<UserEvent[]> {
      const params: unknown[] = [query.userId];
      const where = ['user_id = $1'];
      if (query.name !== undefined) where.push(`name = $${params.push(query.name)}`);
      if (query.from !== undefined) where.push(`"time" >= $${params.push(iso(query.from))}::timestamptz`);
      if (query.to !== undefined) where.push(`"time" < $${params.push(iso(query.to))}::timestamptz`);
      const { rows } = await sql.query<EventRow>(
        `SELECT id::text AS id, user_id, name, "time", properties FROM ${schema}.events
         WHERE ${where.join(' AND ')} ORDER BY "time", id`,
        params,
      );
      return rows.map((row) =>
        parseRow(UserEvent, 'events', row.id, {
          userId: row.user_id,
          name: row.name,
          time: row.time,
          properties: row.properties,
        }),
      );
    },
  };
}
