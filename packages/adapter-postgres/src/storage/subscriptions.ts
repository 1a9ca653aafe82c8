import {
  type Profile,
  Subscription,
  type SubscriptionId,
  type SubscriptionRemoval,
  type UserId,
} from '@herald/core';
import type { SqlClient } from '../sql/client.js';
import { profiles } from './profiles.js';
import { iso, lastById, optional, parseRow, unique } from './rows.js';

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

    /**
     * One statement per batch, the rows as one JSON parameter; an id given twice keeps the last.
     * With profiles, both statements run in one transaction, so a batch is never half-written.
     */
    async upsertSubscriptions(
      batch: readonly Subscription[],
      options?: { profiles?: readonly Profile[] },
    ): Promise<void> {
      const subscribers = options?.profiles ?? [];
      if (subscribers.length === 0) return writeSubscriptions(sql, schema, batch);
      await sql.transaction(async (tx) => {
        await profiles(tx, schema).upsertProfiles(subscribers);
        await writeSubscriptions(tx, schema, batch);
      });
    },

    /** In the order asked, each once; unknown ids are left out. */
    async getSubscriptions(ids: readonly SubscriptionId[]): Promise<Subscription[]> {
      const wanted = unique(ids);
      if (wanted.length === 0) return [];
      const { rows } = await sql.query<SubscriptionRow>(
        `SELECT ${COLUMNS} FROM ${schema}.subscriptions WHERE id = ANY($1::text[])`,
        [wanted],
      );
      const byId = new Map(rows.map((row) => [row.id, row]));
      return wanted.flatMap((id) => {
        const row = byId.get(id);
        return row ? [toSubscription(row)] : [];
      });
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
        { prepare: true },
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

    async removeSubscriptions(removals: readonly SubscriptionRemoval[]): Promise<boolean[]> {
      if (removals.length === 0) return [];
      // One DELETE for the whole group, so the reach trigger runs once for its users. Each removed row
      // comes back with its address, to tell which mention removed it (as one removal after another).
      const { rows } = await sql.query<{ id: string; address: string }>(
        `DELETE FROM ${schema}.subscriptions s
         USING unnest($1::text[], $2::text[]) AS r(id, if_endpoint)
         WHERE s.id = r.id AND (r.if_endpoint IS NULL OR coalesce(s.endpoint, s.device_token) = r.if_endpoint)
         RETURNING s.id, coalesce(s.endpoint, s.device_token) AS address`,
        [removals.map((removal) => removal.id), removals.map((removal) => removal.ifEndpoint ?? null)],
        { prepare: true },
      );
      const addressOf = new Map(rows.map((row) => [row.id, row.address]));
      return removals.map(({ id, ifEndpoint }) => {
        const address = addressOf.get(id);
        if (address === undefined || (ifEndpoint !== undefined && ifEndpoint !== address)) return false;
        addressOf.delete(id);
        return true;
      });
    },
  };
}

/** The rows as one JSON parameter in one INSERT … ON CONFLICT; an id given twice keeps the last. */
async function writeSubscriptions(
  sql: SqlClient,
  schema: string,
  batch: readonly Subscription[],
): Promise<void> {
  const rows = [...lastById(batch, (sub) => sub.id)].map((sub) => {
    const web = sub.target === 'webpush' ? sub : null;
    return {
      id: sub.id,
      user_id: sub.userId,
      target: sub.target,
      endpoint: web?.endpoint ?? null,
      keys: web?.keys ?? null,
      // As text, cast below: a JSON null here must stay jsonb 'null' (an explicit null), not SQL NULL (none).
      expiration_time: web?.expirationTime === undefined ? null : JSON.stringify(web.expirationTime),
      device_token: sub.target === 'safari' ? sub.deviceToken : null,
      timezone: sub.timezone ?? null,
      user_agent: sub.userAgent ?? null,
      created_at: iso(sub.createdAt),
      updated_at: iso(sub.updatedAt),
    };
  });
  if (rows.length === 0) return;
  await sql.query(
    `INSERT INTO ${schema}.subscriptions
       (id, user_id, target, endpoint, keys, expiration_time, device_token, timezone, user_agent, created_at,
        updated_at)
     SELECT id, user_id, target, endpoint, keys, expiration_time::jsonb, device_token, timezone, user_agent,
       created_at, updated_at
     FROM jsonb_to_recordset($1::text::jsonb) AS r(id text, user_id text, target text, endpoint text, keys jsonb,
       expiration_time text, device_token text, timezone text, user_agent text, created_at timestamptz,
       updated_at timestamptz)
     ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, target = excluded.target,
       endpoint = excluded.endpoint, keys = excluded.keys, expiration_time = excluded.expiration_time,
       device_token = excluded.device_token, timezone = excluded.timezone, user_agent = excluded.user_agent,
       created_at = excluded.created_at, updated_at = excluded.updated_at`,
    [JSON.stringify(rows)],
  );
}
