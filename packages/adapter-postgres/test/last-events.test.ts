import { PGlite } from '@electric-sql/pglite';
import type { SegmentDefinition, Storage, UserEvent } from '@herald/core';
import { fixtures } from '@herald/core/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { migrate, postgresStorage, toSqlClient } from '../src/index.js';
import { MIGRATIONS } from '../src/migrations/index.js';
import { type Backend, openBackend, testPool, truncateStorage, uniqueSchema } from './helpers.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 240_000 });

const { T0, DAY, at, uid, profile } = fixtures;

const event = (userId: string, name: string, time: Date): UserEvent => ({
  userId: uid(userId),
  name,
  time,
  properties: {},
});
const didInLast = (name: string, days: number): SegmentDefinition => ({
  type: 'did',
  event: { name, where: [] },
  window: { inLast: { amount: days, unit: 'days' } },
});

/**
 * Profiles whose stored `last_event_us` differs from a recomputation from the events table (none when
 * migration 006's triggers are right).
 */
async function drift(backend: Backend): Promise<string[]> {
  const s = `"${backend.schema}"`;
  const { rows } = await backend.sql.query<{ user_id: string }>(
    `SELECT p.user_id FROM ${s}.profiles p
     LEFT JOIN LATERAL (
       SELECT coalesce(jsonb_object_agg(g.name, g.at), '{}') AS latest
       FROM (SELECT e.name, max(${s}.epoch_us(e."time")) AS at FROM ${s}.events e
             WHERE e.user_id = p.user_id GROUP BY e.name) g
     ) r ON true
     WHERE p.last_event_us <> r.latest
     ORDER BY p.user_id`,
  );
  return rows.map((row) => row.user_id);
}

/**
 * Migration 006 keeps each profile's latest event of every name on its row,
 * maintained by triggers; behaviour segments read it. These cases change
 * events every way the Storage API can and the ways only SQL can (updates,
 * deletes, bulk statements, truncation), and check both the segment counts
 * and that the stored maps equal a recomputation from the events table.
 */
describe.each(['pglite', 'postgres'] as const)('latest events per profile on %s', (kind) => {
  let backend: Backend;
  let storage: Storage;
  const s = () => `"${backend.schema}"`;

  beforeAll(async () => {
    backend = await openBackend(kind, 'last_events');
    storage = postgresStorage({ client: backend.client, schema: backend.schema });
  });
  afterAll(() => backend.close());
  beforeEach(() => truncateStorage(backend));

  it('keeps the latest instant per name, whatever order events arrive in, to the microsecond', async () => {
    await storage.upsertProfile(profile('u1'));
    await storage.appendEvents([event('u1', 'Added', at(-2 * DAY)), event('u1', 'Charged', at(-40 * DAY))]);
    await storage.appendEvents([event('u1', 'Added', at(-10 * DAY))]); // older: changes nothing
    await backend.sql.query(
      `INSERT INTO ${s()}.events (user_id, name, "time") VALUES ('u1', 'Charged', $1::timestamptz - interval '1 microsecond')`,
      [at(-5 * DAY).toISOString()],
    );
    const { rows } = await backend.sql.query<{ latest: Record<string, number> }>(
      `SELECT last_event_us AS latest FROM ${s()}.profiles WHERE user_id = 'u1'`,
    );
    expect(rows[0]?.latest).toEqual({
      Added: at(-2 * DAY).getTime() * 1000,
      Charged: at(-5 * DAY).getTime() * 1000 - 1,
    });
    expect(await storage.countAudience(didInLast('Charged', 5), T0)).toBe(0); // 1 µs too early
    expect(await storage.countAudience(didInLast('Charged', 6), T0)).toBe(1);
    expect(await drift(backend)).toEqual([]);
  });

  it('gives a profile created after its events their latest instants', async () => {
    await storage.appendEvents([event('u1', 'Added', at(-1 * DAY)), event('u2', 'Added', at(-9 * DAY))]);
    expect(await storage.countAudience(didInLast('Added', 7), T0)).toBe(0);
    await storage.upsertProfile(profile('u1'));
    await storage.upsertProfile(profile('u2'));
    expect(await storage.countAudience(didInLast('Added', 7), T0)).toBe(1);
    await storage.upsertProfile(profile('u1', { plan: 'pro' })); // an update keeps the map
    expect(await storage.countAudience(didInLast('Added', 7), T0)).toBe(1);
    expect(await drift(backend)).toEqual([]);
  });

  it('looks past an event later than now to the events inside the window', async () => {
    await storage.upsertProfile(profile('u1'));
    await storage.upsertProfile(profile('u2'));
    // Both last did it tomorrow (a clock ahead); only u1 also did it inside the last week.
    await storage.appendEvents([
      event('u1', 'Added', at(-3 * DAY)),
      event('u1', 'Added', at(DAY)),
      event('u2', 'Added', at(-30 * DAY)),
      event('u2', 'Added', at(DAY)),
    ]);
    expect(await storage.countAudience(didInLast('Added', 7), T0)).toBe(1);
    expect(
      await storage.estimateReach(
        {
          type: 'didNot',
          event: { name: 'Added', where: [] },
          window: { inLast: { amount: 7, unit: 'days' } },
        },
        T0,
      ),
    ).toMatchObject({ qualified: 1 });
  });

  it('follows updates, deletes, bulk statements above the per-user lock threshold, and truncation', async () => {
    const users = 2500;
    await backend.sql.query(
      `INSERT INTO ${s()}.profiles (user_id, created_at, updated_at)
       SELECT 'b' || lpad(i::text, 5, '0'), $1::timestamptz, $1::timestamptz FROM generate_series(1, ${users}) i`,
      [T0.toISOString()],
    );
    // Everyone viewed 20 days ago; every other user also 2 days ago.
    await backend.sql.query(
      `INSERT INTO ${s()}.events (user_id, name, "time")
       SELECT 'b' || lpad(i::text, 5, '0'), 'Viewed', $1::timestamptz FROM generate_series(1, ${users}) i
       UNION ALL
       SELECT 'b' || lpad(i::text, 5, '0'), 'Viewed', $2::timestamptz FROM generate_series(2, ${users}, 2) i`,
      [at(-20 * DAY).toISOString(), at(-2 * DAY).toISOString()],
    );
    expect(await storage.countAudience(didInLast('Viewed', 7), T0)).toBe(users / 2);
    expect(await drift(backend)).toEqual([]);

    // Moving the recent views back a month: their users fall out of the week.
    await backend.sql.query(
      `UPDATE ${s()}.events SET "time" = "time" - interval '30 days' WHERE "time" > $1::timestamptz AND user_id <= 'b01000'`,
      [at(-7 * DAY).toISOString()],
    );
    expect(await storage.countAudience(didInLast('Viewed', 7), T0)).toBe(users / 2 - 500);
    // Moving an event to another user and renaming one: both users' maps change.
    await backend.sql.query(
      `UPDATE ${s()}.events SET user_id = 'b00001' WHERE user_id = 'b02000' AND "time" > $1::timestamptz`,
      [at(-7 * DAY).toISOString()],
    );
    await backend.sql.query(
      `UPDATE ${s()}.events SET name = 'Seen' WHERE user_id = 'b02002' AND "time" > $1::timestamptz`,
      [at(-7 * DAY).toISOString()],
    );
    expect(await storage.countAudience(didInLast('Viewed', 7), T0)).toBe(users / 2 - 500 - 1);
    expect(await storage.countAudience(didInLast('Seen', 7), T0)).toBe(1);
    expect(await drift(backend)).toEqual([]);

    await backend.sql.query(`DELETE FROM ${s()}.events WHERE "time" > $1::timestamptz`, [
      at(-7 * DAY).toISOString(),
    ]);
    expect(await storage.countAudience(didInLast('Viewed', 7), T0)).toBe(0);
    expect(await storage.countAudience(didInLast('Viewed', 30), T0)).toBe(users);
    expect(await drift(backend)).toEqual([]);

    await backend.sql.query(`TRUNCATE ${s()}.events`);
    expect(await storage.countAudience({ type: 'did', event: { name: 'Viewed', where: [] } }, T0)).toBe(0);
    expect(await drift(backend)).toEqual([]);
  });
});

describe('latest events per profile under concurrent writers on Postgres', () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await openBackend('postgres', 'last_events_race');
  });
  afterAll(() => backend.close());

  it('a profile inserted while another transaction appends its events still sees them', async () => {
    const s = `"${backend.schema}"`;
    const pool = testPool(2);
    const first = await pool.connect();
    const second = await pool.connect();
    try {
      // Transaction 1 appends u1's event and stays open; transaction 2 then creates u1's profile. Without
      // the per-user lock, 2's trigger would read events before 1 commits, and 1's would find no profile.
      await first.query('BEGIN');
      await first.query(`INSERT INTO ${s}.events (user_id, name, "time") VALUES ('u1', 'Added', $1)`, [
        at(-DAY).toISOString(),
      ]);
      const inserting = second.query(
        `INSERT INTO ${s}.profiles (user_id, created_at, updated_at) VALUES ('u1', $1, $1)`,
        [T0.toISOString()],
      );
      await new Promise((resolve) => setTimeout(resolve, 300)); // 2 is now waiting on 1's lock
      await first.query('COMMIT');
      await inserting;
      const storage = postgresStorage({ client: backend.client, schema: backend.schema });
      expect(await storage.countAudience(didInLast('Added', 7), T0)).toBe(1);
      expect(await drift(backend)).toEqual([]);
    } finally {
      first.release();
      second.release();
      await pool.end();
    }
  });
});

describe('migration 006 on an installation with events already stored', () => {
  it('fills every profile’s latest events from the events table', async () => {
    const db = new PGlite();
    const schema = uniqueSchema('last_events_backfill');
    const sql = toSqlClient(db);
    const s = `"${schema}"`;
    try {
      // The schema as migrations 1-5 left it, bookkept as migrate() does.
      await sql.query(`CREATE SCHEMA ${s}`);
      await sql.query(
        `CREATE TABLE ${s}.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      for (const migration of MIGRATIONS.filter((m) => m.version <= 5)) {
        for (const statement of migration.statements(s)) await sql.query(statement);
        await sql.query(`INSERT INTO ${s}.schema_migrations (version, name) VALUES ($1, $2)`, [
          migration.version,
          migration.name,
        ]);
      }
      await sql.query(
        `INSERT INTO ${s}.profiles (user_id, created_at, updated_at) VALUES ('u1', $1, $1), ('u2', $1, $1)`,
        [T0.toISOString()],
      );
      await sql.query(
        `INSERT INTO ${s}.events (user_id, name, "time") VALUES ('u1', 'Added', $1), ('u1', 'Added', $2), ('u2', 'Charged', $2)`,
        [at(-3 * DAY).toISOString(), at(-9 * DAY).toISOString()],
      );

      const later = MIGRATIONS.filter((m) => m.version > 5).map((m) => m.version);
      expect(await migrate({ client: db, schema })).toEqual({ applied: later, version: Math.max(...later) });
      const { rows } = await sql.query<{ user_id: string; latest: object }>(
        `SELECT user_id, last_event_us AS latest FROM ${s}.profiles ORDER BY user_id`,
      );
      expect(rows).toEqual([
        { user_id: 'u1', latest: { Added: at(-3 * DAY).getTime() * 1000 } },
        { user_id: 'u2', latest: { Charged: at(-9 * DAY).getTime() * 1000 } },
      ]);
      const storage = postgresStorage({ client: db, schema });
      expect(await storage.countAudience(didInLast('Added', 7), T0)).toBe(1);
    } finally {
      await db.close();
    }
  });
});
