import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { ConfigError } from '@herald/core';
import pg from 'pg';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { MIGRATIONS, migrate, postgresStorage } from '../src/index.js';
import { assertSupportedServer, MIN_SERVER_VERSION_NUM } from '../src/migrations/index.js';
import { realPostgresUrl, testPool, uniqueSchema } from './helpers.js';

// PGlite boots a WebAssembly Postgres (seconds; far more on a loaded CI box) and real-server
// cases wait on locks and connections, so this file allows more than the default timeouts.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 240_000 });

const LATEST = Math.max(...MIGRATIONS.map((m) => m.version));
const TABLES = [
  'audience_pages',
  'browser_tallies',
  'browser_users',
  'campaign_history',
  'campaigns',
  'conversions',
  'counters',
  'decisions',
  'deliveries',
  'delivery_tallies',
  'events',
  'interaction_tallies',
  'interaction_user_tallies',
  'interaction_users',
  'interactions',
  'jobs',
  'latest_events',
  'profiles',
  'recipient_tallies',
  'recipients',
  'schema_migrations',
  'segments',
  'subscriptions',
  'timeline_tallies',
];

async function tablesOf(
  query: (text: string, params: unknown[]) => Promise<{ rows: unknown[] }>,
  schema: string,
) {
  const { rows } = await query(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
    [schema],
  );
  return (rows as Array<{ table_name: string }>).map((row) => row.table_name);
}

describe('migrate on PGlite', () => {
  const db = new PGlite();
  afterAll(() => db.close());

  it('creates every table once and is a no-op the second time', async () => {
    expect(await migrate({ client: db, schema: 'herald' })).toEqual({
      applied: MIGRATIONS.map((m) => m.version),
      version: LATEST,
    });
    expect(await migrate({ client: db })).toEqual({ applied: [], version: LATEST });
    expect(await tablesOf((t, p) => db.query(t, p), 'herald')).toEqual(TABLES);
  });

  it('refuses schema names that would need quoting rules, before touching the database', async () => {
    for (const schema of ['Herald', 'a-b', '1abc', '', 'x'.repeat(64), 'a"; DROP SCHEMA public; --']) {
      await expect(migrate({ client: db, schema })).rejects.toBeInstanceOf(ConfigError);
      expect(() => postgresStorage({ client: db, schema })).toThrow(ConfigError);
    }
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM information_schema.schemata
       WHERE schema_name NOT IN ('public', 'information_schema', 'herald') AND schema_name NOT LIKE 'pg\\_%'`,
    );
    expect(rows[0]?.n).toBe(0);
  });
});

describe('the server version migrations need', () => {
  it('refuses PostgreSQL 13 by name and version, and takes 14 and the servers the tests run on', async () => {
    expect(() => assertSupportedServer({ num: '130016', version: '13.16 (Debian 13.16-0+deb11u1)' })).toThrow(
      new ConfigError(
        "Herald's Postgres adapter needs PostgreSQL 14 or newer; this server is 13.16 (Debian 13.16-0+deb11u1)",
      ),
    );
    expect(() => assertSupportedServer({ num: '140000', version: '14.0' })).not.toThrow();
    // Both servers the suite migrates (PGlite and the real one) report a version the check takes.
    const db = new PGlite();
    const { rows } = await db.query<{ num: string }>(`SELECT current_setting('server_version_num') AS num`);
    await db.close();
    expect(Number(rows[0]?.num)).toBeGreaterThanOrEqual(MIN_SERVER_VERSION_NUM);
  });
});

describe('migrate on Postgres', () => {
  const pool = testPool();
  const schemas: string[] = [];
  afterAll(async () => {
    for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  it('is safe when several processes start at once: one applies, the others wait and find it done', async () => {
    const schema = uniqueSchema('migrate');
    schemas.push(schema);
    // Separate connections, as separate processes would have.
    const clients = Array.from({ length: 6 }, () => new pg.Client({ connectionString: realPostgresUrl() }));
    await Promise.all(clients.map((c) => c.connect()));
    try {
      const results = await Promise.all(clients.map((client) => migrate({ client, schema })));
      expect(results.filter((r) => r.applied.length > 0)).toEqual([
        { applied: MIGRATIONS.map((m) => m.version), version: LATEST },
      ]);
      expect(results.every((r) => r.version === LATEST)).toBe(true);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
    expect(await tablesOf((t, p) => pool.query(t, p), schema)).toEqual(TABLES);
    const { rows } = await pool.query(`SELECT version FROM "${schema}".schema_migrations ORDER BY version`);
    expect(rows.map((row) => row.version)).toEqual(MIGRATIONS.map((m) => m.version));
  });

  it('keeps two schemas apart in one database', async () => {
    const [a, b] = [uniqueSchema('a'), uniqueSchema('b')];
    schemas.push(a, b);
    await migrate({ client: pool, schema: a });
    await migrate({ client: pool, schema: b });
    await pool.query(
      `INSERT INTO "${a}".profiles (user_id, created_at, updated_at) VALUES ('only-in-a', now(), now())`,
    );
    const count = (schema: string) =>
      postgresStorage({ client: pool, schema }).countAudience({ type: 'all' }, new Date());
    expect([await count(a), await count(b)]).toEqual([1, 0]);
  });
});

describe('herald-migrate bin', () => {
  const run = promisify(execFile);
  const bin = fileURLToPath(new URL('../src/bin/migrate.ts', import.meta.url));
  const tsx = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));
  const schema = uniqueSchema('bin');
  const pool = testPool(1);
  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  it('migrates the database at DATABASE_URL, then reports it current', async () => {
    const env = { ...process.env, DATABASE_URL: realPostgresUrl() };
    const first = await run(tsx, [bin, '--schema', schema], { env });
    expect(first.stdout).toContain(`migrated to version ${LATEST}`);
    const second = await run(tsx, [bin, '--schema', schema], { env });
    expect(second.stdout).toContain(`already at version ${LATEST}`);
    expect(await tablesOf((t, p) => pool.query(t, p), schema)).toEqual(TABLES);
  });

  it('explains itself and exits 2 without DATABASE_URL', async () => {
    const env = { ...process.env };
    delete env.DATABASE_URL;
    const failure = await run(tsx, [bin], { env }).catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({ code: 2 });
    expect((failure as { stderr: string }).stderr).toContain('DATABASE_URL');
  });
});
