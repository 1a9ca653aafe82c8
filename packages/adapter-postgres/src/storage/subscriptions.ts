import { Subscription, type SubscriptionId, type UserId } from '@herald/core';
import type { SqlClient } from '../sql/client.js';
import { iso, optional, parseRow, unique } from './rows.js';

interface SubscriptionRow {
  id: string;
  user_id: string;
  target: string;
  endpoint: string | null;
  keys: unknown;
  expiration_time: number | null | undefined;
  has_expiration: boolean;
  device_token: string | null;
  timezone: string | null;
  user_agent: string | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `id, user_id, target, endpoint, keys, expiration_time, expiration_time IS NOT NULL AS has_expiration,
  device_token, timezone, user_agent, created_at, updated_at`;

function toSubscription(row: SubscriptionRow): Subscription {
  const common = {
    id: row.id,
    userId: row.user_id,
    target: row.target,
    ...optional('timezone', row.timezone),
    ...optional('userAgent', row.user_agent),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  const raw =
    row.target === 'safari'
      ? { ...common, deviceToken: row.device_token }
      : {
          ...common,
          endpoint: row.endpoint,
          keys: row.keys,
          // jsonb null comes back as JS null; SQL NULL (no expirationTime at all) leaves the key out.
          ...(row.has_expiration ? { expirationTime: row.expiration_time ?? null } : {}),
        };
  return parseRow(Subscription, 'subscriptions', row.id, raw);
}

export function subscriptions(sql: SqlClient, schema: string) {
  return {
    async upsertSubscription(sub: Subscription): Promise<void> {
      const web = sub.target === 'webpush' ? sub : null;
      await sql.query(
        `INSERT INTO ${schema}.subscriptions
           (id, user_id, target, endpoint, keys, expiration_time, device_token, timezone, created_at, updated_at,
            user_agent)
         VALUES ($1, $2, $3, $4, $5::text::jsonb, $6::text::jsonb, $7, $8, $9::timestamptz, $10::timestamptz, $11)
         ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, target = excluded.target,
           endpoint = excluded.endpoint, keys = excluded.keys, expiration_time = excluded.expiration_time,
           device_token = excluded.device_token, timezone = excluded.timezone, user_agent = excluded.user_agent,
           created_at = excluded.created_at, updated_at = excluded.updated_at`,
        [
          sub.id,
          sub.userId,
          sub.target,
          web?.endpoint ?? null,
          web ? JSON.stringify(web.keys) : null,
          web?.expirationTime === undefined ? null : JSON.stringify(web.expirationTime),
          sub.target === 'safari' ? sub.deviceToken : null,
          sub.timezone ?? null,
          iso(sub.createdAt),
          iso(sub.updatedAt),
          sub.userAgent ?? null,
        ],
      );
    },

    async getSubscription(id: SubscriptionId): Promise<Subscription | null> {
      const { rows } = await sql.query<SubscriptionRow>(
        `SELECT ${COLUMNS} FROM ${schema}.subscriptions WHERE id = $1`,
        [id],
      );
      return rows[0] ? toSubscription(rows[0]) : null;
    },

    async listSubscriptions(userIds: readonly UserId[]): Promise<Subscription[]> {
      const ids = unique(userIds);
      if (ids.length === 0) return [];
      const { rows } = await sql.query<SubscriptionRow>(
        `SELECT ${COLUMNS} FROM ${schema}.subscriptions WHERE user_id = ANY($1::text[]) ORDER BY user_id, id`,
        [ids],
      );
      return rows.map(toSubscription);
    },

    async removeSubscription(id: SubscriptionId, options?: { ifEndpoint?: string }): Promise<boolean> {
      const { rows } = await sql.query(
        `DELETE FROM ${schema}.subscriptions
         WHERE id = $1 AND ($2::text IS NULL OR coalesce(endpoint, device_token) = $2::text)
         RETURNING id`,
        [id, options?.ifEndpoint ?? null],
      );
      return rows.length > 0;
    },
  };
}
