import { Profile, type UserId } from '@herald/core';
import type { SqlClient } from '../sql/client.js';
import { iso, lastById, optional, parseRow, unique } from './rows.js';

interface ProfileRow {
  user_id: string;
  properties: unknown;
  timezone: string | null;
  test: boolean;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'user_id, properties, timezone, test, created_at, updated_at';

const toProfile = (row: ProfileRow): Profile =>
  parseRow(Profile, 'profiles', row.user_id, {
    userId: row.user_id,
    properties: row.properties,
    ...optional('timezone', row.timezone),
    test: row.test,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });

export function profiles(sql: SqlClient, schema: string) {
  return {
    async upsertProfile(profile: Profile): Promise<void> {
      await sql.query(
        `INSERT INTO ${schema}.profiles (${COLUMNS}) VALUES ($1, $2::text::jsonb, $3, $4, $5::timestamptz, $6::timestamptz)
         ON CONFLICT (user_id) DO UPDATE SET properties = excluded.properties, timezone = excluded.timezone,
           test = excluded.test, created_at = excluded.created_at, updated_at = excluded.updated_at`,
        [
          profile.userId,
          JSON.stringify(profile.properties),
          profile.timezone ?? null,
          profile.test,
          iso(profile.createdAt),
          iso(profile.updatedAt),
        ],
      );
    },

    /**
     * One statement per batch, the rows as one JSON parameter. A user id given
     * twice keeps the last: one INSERT … ON CONFLICT cannot update a row twice.
     */
    async upsertProfiles(batch: readonly Profile[]): Promise<void> {
      const rows = [...lastById(batch, (profile) => profile.userId)].map((profile) => ({
        user_id: profile.userId,
        properties: profile.properties,
        timezone: profile.timezone ?? null,
        test: profile.test,
        created_at: iso(profile.createdAt),
        updated_at: iso(profile.updatedAt),
      }));
      if (rows.length === 0) return;
      await sql.query(
        `INSERT INTO ${schema}.profiles (${COLUMNS})
         SELECT user_id, properties, timezone, test, created_at, updated_at
         FROM jsonb_to_recordset($1::text::jsonb) AS r(user_id text, properties jsonb, timezone text, test boolean,
           created_at timestamptz, updated_at timestamptz)
         ON CONFLICT (user_id) DO UPDATE SET properties = excluded.properties, timezone = excluded.timezone,
           test = excluded.test, created_at = excluded.created_at, updated_at = excluded.updated_at`,
        [JSON.stringify(rows)],
      );
    },

    async getProfile(userId: UserId): Promise<Profile | null> {
      const { rows } = await sql.query<ProfileRow>(
        `SELECT ${COLUMNS} FROM ${schema}.profiles WHERE user_id = $1`,
        [userId],
      );
      return rows[0] ? toProfile(rows[0]) : null;
    },

    /** In the order asked, each once; ids without a profile are left out. */
    async getProfiles(userIds: readonly UserId[]): Promise<Profile[]> {
      const ids = unique(userIds);
      if (ids.length === 0) return [];
      const { rows } = await sql.query<ProfileRow>(
        `SELECT ${COLUMNS} FROM ${schema}.profiles WHERE user_id = ANY($1::text[])`,
        [ids],
        { prepare: true },
      );
      const byId = new Map(rows.map((row) => [row.user_id, row]));
      return ids.flatMap((id) => {
        const row = byId.get(id);
        return row ? [toProfile(row)] : [];
      });
    },

    /** Two text columns, not whole rows: no properties sent over or parsed. */
    async getProfileZones(userIds: readonly UserId[]): Promise<Map<UserId, string | null>> {
      const ids = unique(userIds);
      if (ids.length === 0) return new Map();
      const { rows } = await sql.query<{ user_id: UserId; timezone: string | null }>(
        `SELECT user_id, timezone FROM ${schema}.profiles WHERE user_id = ANY($1::text[])`,
        [ids],
      );
      return new Map(rows.map((row) => [row.user_id, row.timezone]));
    },

    /** Test profiles by id, through the partial index on test profiles. */
    async listTestProfiles(limit: number): Promise<Profile[]> {
      if (limit <= 0) return [];
      const { rows } = await sql.query<ProfileRow>(
        `SELECT ${COLUMNS} FROM ${schema}.profiles WHERE test ORDER BY user_id LIMIT $1`,
        [limit],
      );
      return rows.map(toProfile);
    },
  };
}
