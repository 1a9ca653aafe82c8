import { ConfigError, ValidationError } from '@herald/core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, postgresStorage } from '../src/index.js';
import { realPostgresUrl, uniqueSchema } from './helpers.js';

/**
 * The delivery path's statements run as named prepared statements on a `pg`
 * connection (postgresStorage's `preparedStatements`, default true): what the
 * server holds for the connection, the same answers either way, the option
 * turned off, and the error a pooler that swaps connections gets.
 */
const schema = uniqueSchema('prepared');
const at = new Date('2026-12-07T08:00:00Z');
let conn: pg.Client;

/** The names of the statements prepared on `conn`, the connection Herald runs on. */
async function preparedOnConnection(): Promise<string[]> {
  const { rows } = await conn.query<{ name: string }>(
    'SELECT name FROM pg_prepared_statements ORDER BY name',
  );
  return rows.map((row) => row.name);
}

beforeAll(async () => {
  conn = new pg.Client({ connectionString: realPostgresUrl() });
  await conn.connect();
  await migrate({ client: conn, schema });
  const storage = postgresStorage({ client: conn, schema, preparedStatements: false });
  await storage.upsertProfiles([
    {
      userId: 'ada',
      properties: { plan: 'pro' },
      timezone: 'Europe/Paris',
      test: false,
      createdAt: at,
      updatedAt: at,
    },
    { userId: 'bob', properties: {}, timezone: null, test: false, createdAt: at, updatedAt: at },
  ] as never);
});

afterAll(async () => {
  await conn.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await conn.end();
});

describe('postgresStorage preparedStatements', () => {
  it('prepares a delivery-path statement once per connection and answers as unprepared', async () => {
    await conn.query('DEALLOCATE ALL');
    const unprepared = await postgresStorage({ client: conn, schema, preparedStatements: false }).getProfiles(
      ['bob', 'ada'] as never,
    );
    expect(await preparedOnConnection()).toEqual([]);

    const storage = postgresStorage({ client: conn, schema });
    const first = await storage.getProfiles(['bob', 'ada'] as never);
    const names = await preparedOnConnection();
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(/^herald_\d+$/);
    const second = await storage.getProfiles(['ada', 'bob'] as never);
    expect(await preparedOnConnection()).toEqual(names);

    expect(first).toEqual(unprepared);
    expect(second.map((profile) => profile.userId)).toEqual(['ada', 'bob']);
    expect(second[0]?.properties).toEqual({ plan: 'pro' });
  });

  it('says what to change when the prepared statement is gone, as behind a pooler in transaction mode', async () => {
    const storage = postgresStorage({ client: conn, schema });
    await storage.getProfiles(['ada'] as never);
    // What a transaction-mode pooler does to a client: its next statement reaches a server
    // connection that never saw the Parse.
    await conn.query('DEALLOCATE ALL');
    const error = await storage.getProfiles(['ada'] as never).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/prepared statement "herald_\d+" does not exist/);
    expect((error as Error).message).toMatch(/pooler in transaction mode/);
    expect((error as Error).message).toMatch(/preparedStatements: false/);
  });

  it('refuses a misspelt option and a wrong type at once', () => {
    expect(() => postgresStorage({ client: conn, schema, preparedStatement: false } as never)).toThrow(
      ValidationError,
    );
    expect(() => postgresStorage({ client: conn, schema, preparedStatement: false } as never)).toThrow(
      /preparedStatement: unknown key; did you mean "preparedStatements"\?/,
    );
    expect(() => postgresStorage({ client: conn, schema, preparedStatements: 'no' } as never)).toThrow(
      /preparedStatements: must be true or false/,
    );
  });
});
