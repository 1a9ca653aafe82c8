import { PGlite } from '@electric-sql/pglite';
import type { SegmentDefinition, Storage, UserEvent } from '@herald/core';
import { fixtures } from '@herald/core/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { migrate, postgresStorage, toSqlClient } from '../src/index.js';
import { MIGRATIONS } from '../src/migrations/index.js';
import {
  type Backend,
  openBackend,
  raceBehindOpenTransaction,
  truncateStorage,
  uniqueSchema,
} from './helpers.js';

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
 * Differences between latest_events and a recomputation from the events table, as "name/user"
 * (none when migration 006's triggers are right).
 */
async function drift(backend: Backend): Promise<string[]> {
  const quotedSchema = `"${backend.schema}"`;
  const { rows } = await backend.sql.query<{ pair: string }>(
    `SELECT coalesce(l.name, r.name) || '/' || coalesce(l.user_id, r.user_id) AS pair
     FROM ${quotedSchema}.latest_events l
     FULL JOIN (SELECT name, user_id, max("time") AS last_at FROM ${quotedSchema}.events GROUP BY name, user_id) r
       ON r.name = l.name AND r.user_id = l.user_id
     WHERE l.last_at IS DISTINCT FROM r.last_at
     ORDER BY 1`,
  );
  return rows.map((row) => row.pair);
}

/**
 * Migration 006 keeps the latest instant of every (event name, user),
 * maintained by triggers; counts and reach of behaviour segments read it.
 * These cases change events every way the Storage API can and the ways
 * only SQL can (updates, deletes, bulk statements, truncation), and check
 * both the segment counts and that the table equals a recomputation from
 * the events table.
 */
describe.each(['pglite', 'postgres'] as const)('latest events on %s', (kind) => {
  let backend: Backend;
  let storage: Storage;
  const quotedSchema = () => `"${backend.schema}"`;

  beforeAll(async () => {
    backend = await openBackend(kind, 'last_events');
    storage = postgresStorage({ client: backend.client, schema: backend.schema });
  });
  afterAll(() => backend.close());
  beforeEach(() => truncateStorage(backend));

  it('keeps the latest instant per name and user, whatever order events arrive in, to the microsecond', async () => {
    await storage.upsertProfile(profile('u1'));
    await storage.appendEvents([event('u1', 'Added', at(-2 * DAY)), event('u1', 'Charged', at(-40 * DAY))]);
    await storage.appendEvents([event('u1', 'Added', at(-10 * DAY))]); // older: changes nothing
    await backend.sql.query(
      `INSERT INTO ${quotedSchema()}.events (user_id, name, "time") VALUES ('u1', 'Charged', $1::timestamptz - interval '1 microsecond')`,
      [at(-5 * DAY).toISOString()],
    );
    const { rows } = await backend.sql.query<{ name: string; last: string }>(
      `SELECT name, to_char(last_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS last
       FROM ${quotedSchema()}.latest_events WHERE user_id = 'u1' ORDER BY name`,
    );
    expect(rows).toEqual([
      {
        name: 'Added',
        last: at(-2 * DAY)
          .toISOString()
          .replace('Z', '000'),
      },
      {
        name: 'Charged',
        last: at(-5 * DAY - 1)
          .toISOString()
          .replace('Z', '999'),
      },
    ]);
    expect(await storage.countAudience(didInLast('Charged', 5), T0)).toBe(0); // 1 µs too early
    expect(await storage.countAudience(didInLast('Charged', 6), T0)).toBe(1);
    expect(await drift(backend)).toEqual([]);
  });

  it('counts events stored before their profile', async () => {
    await storage.appendEvents([event('u1', 'Added', at(-1 * DAY)), event('u2', 'Added', at(-9 * DAY))]);
    expect(await storage.countAudience(didInLast('Added', 7), T0)).toBe(0);
    await storage.upsertProfile(profile('u1'));
    await storage.upsertProfile(profile('u2'));
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
      `INSERT INTO ${quotedSchema()}.profiles (user_id, created_at, updated_at)
       SELECT 'b' || lpad(i::text, 5, '0'), $1::timestamptz, $1::timestamptz FROM generate_series(1, ${users}) i`,
      [T0.toISOString()],
    );
    // Everyone viewed 20 days ago; every other user also 2 days ago.
    await backend.sql.query(
      `INSERT INTO ${quotedSchema()}.events (user_id, name, "time")
       SELECT 'b' || lpad(i::text, 5, '0'), 'Viewed', $1::timestamptz FROM generate_series(1, ${users}) i
       UNION ALL
       SELECT 'b' || lpad(i::text, 5, '0'), 'Viewed', $2::timestamptz FROM generate_series(2, ${users}, 2) i`,
      [at(-20 * DAY).toISOString(), at(-2 * DAY).toISOString()],
    );
    expect(await storage.countAudience(didInLast('Viewed', 7), T0)).toBe(users / 2);
    expect(await drift(backend)).toEqual([]);

    // Moving the recent views back a month: their users fall out of the week.
    await backend.sql.query(
      `UPDATE ${quotedSchema()}.events SET "time" = "time" - interval '30 days' WHERE "time" > $1::timestamptz AND user_id <= 'b01000'`,
      [at(-7 * DAY).toISOString()],
    );
    expect(await storage.countAudience(didInLast('Viewed', 7), T0)).toBe(users / 2 - 500);
    // Moving an event to another user and renaming one: both users' pairs change.
    await backend.sql.query(
      `UPDATE ${quotedSchema()}.events SET user_id = 'b00001' WHERE user_id = 'b02000' AND "time" > $1::timestamptz`,
      [at(-7 * DAY).toISOString()],
    );
    await backend.sql.query(
      `UPDATE ${quotedSchema()}.events SET name = 'Seen' WHERE user_id = 'b02002' AND "time" > $1::timestamptz`,
      [at(-7 * DAY).toISOString()],
    );
    expect(await storage.countAudience(didInLast('Viewed', 7), T0)).toBe(users / 2 - 500 - 1);
    expect(await storage.countAudience(didInLast('Seen', 7), T0)).toBe(1);
    expect(await drift(backend)).toEqual([]);

    await backend.sql.query(`DELETE FROM ${quotedSchema()}.events WHERE "time" > $1::timestamptz`, [
      at(-7 * DAY).toISOString(),
    ]);
    expect(await storage.countAudience(didInLast('Viewed', 7), T0)).toBe(0);
    expect(await storage.countAudience(didInLast('Viewed', 30), T0)).toBe(users);
    expect(await drift(backend)).toEqual([]);

    await backend.sql.query(`TRUNCATE ${quotedSchema()}.events`);
    expect(await storage.countAudience({ type: 'did', event: { name: 'Viewed', where: [] } }, T0)).toBe(0);
    expect(await drift(backend)).toEqual([]);
  });
});

describe('latest events under concurrent writers on Postgres', () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await openBackend('postgres', 'latest_events_race');
  });
  afterAll(() => backend.close());

  it('a delete recomputing a pair while another transaction appends to it keeps the append', async () => {
    const quotedSchema = `"${backend.schema}"`;
    await backend.sql.query(
      `INSERT INTO ${quotedSchema}.events (user_id, name, "time") VALUES ('u1', 'Added', $1), ('u1', 'Added', $2)`,
      [at(-3 * DAY).toISOString(), at(-20 * DAY).toISOString()],
    );
    // Transaction 1 appends a newer event and stays open; transaction 2 deletes the -3 day one, which
    // recomputes the pair. 2 must wait for 1's row lock, then see 1's event, not write -20 days over it.
    await raceBehindOpenTransaction(
      (first) =>
        first.query(`INSERT INTO ${quotedSchema}.events (user_id, name, "time") VALUES ('u1', 'Added', $1)`, [
          at(-DAY).toISOString(),
        ]),
      (second) =>
        second.query(`DELETE FROM ${quotedSchema}.events WHERE user_id = 'u1' AND "time" = $1`, [
          at(-3 * DAY).toISOString(),
        ]),
    );
    const { rows } = await backend.sql.query<{ last_at: Date }>(
      `SELECT last_at FROM ${quotedSchema}.latest_events WHERE name = 'Added' AND user_id = 'u1'`,
    );
    expect(rows.map((row) => new Date(row.last_at).toISOString())).toEqual([at(-DAY).toISOString()]);
    expect(await drift(backend)).toEqual([]);
  });
});

describe('migration 006 on an installation with events already stored', () => {
  it('fills latest_events from the events already stored', async () => {
    const db = new PGlite();
    const schema = uniqueSchema('last_events_backfill');
    const sql = toSqlClient(db);
    const quotedSchema = `"${schema}"`;
    try {
      // The schema as migrations 1-5 left it, bookkept as migrate() does.
      await sql.query(`CREATE SCHEMA ${quotedSchema}`);
      await sql.query(
        `CREATE TABLE ${quotedSchema}.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      for (const migration of MIGRATIONS.filter((m) => m.version <= 5)) {
        for (const statement of migration.statements(quotedSchema)) await sql.query(statement);
        await sql.query(`INSERT INTO ${quotedSchema}.schema_migrations (version, name) VALUES ($1, $2)`, [
          migration.version,
          migration.name,
        ]);
      }
      await sql.query(
        `INSERT INTO ${quotedSchema}.profiles (user_id, created_at, updated_at) VALUES ('u1', $1, $1), ('u2', $1, $1)`,
        [T0.toISOString()],
      );
      await sql.query(
        `INSERT INTO ${quotedSchema}.events (user_id, name, "time") VALUES ('u1', 'Added', $1), ('u1', 'Added', $2), ('u2', 'Charged', $2)`,
        [at(-3 * DAY).toISOString(), at(-9 * DAY).toISOString()],
      );

      const later = MIGRATIONS.filter((m) => m.version > 5).map((m) => m.version);
      expect(await migrate({ client: db, schema })).toEqual({ applied: later, version: Math.max(...later) });
      const { rows } = await sql.query<{ name: string; user_id: string }>(
        `SELECT name, user_id FROM ${quotedSchema}.latest_events ORDER BY name, user_id`,
      );
      expect(rows).toEqual([
        { name: 'Added', user_id: 'u1' },
        { name: 'Charged', user_id: 'u2' },
      ]);
      const storage = postgresStorage({ client: db, schema });
      expect(await storage.countAudience(didInLast('Added', 7), T0)).toBe(1);
    } finally {
      await db.close();
    }
  });
});
