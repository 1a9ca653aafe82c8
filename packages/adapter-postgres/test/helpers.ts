import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import type {
  CountersSuiteOptions,
  QueueSuiteOptions,
  SegmentEquivalenceOptions,
  StorageInspector,
  StorageSuiteOptions,
} from '@herald/core/testing';
import pg from 'pg';
import {
  migrate,
  postgresCounters,
  postgresQueue,
  postgresStorage,
  type SqlClient,
  toSqlClient,
} from '../src/index.js';

/**
 * The real Postgres the suites run against. `npm test` starts a throwaway
 * cluster with scripts/services/postgres.sh and exports its URL; running
 * these files without it is a setup mistake, so they fail saying so.
 */
export function realPostgresUrl(): string {
  const url = process.env.HERALD_TEST_PG_URL;
  if (!url) {
    throw new Error(
      'HERALD_TEST_PG_URL is not set. Start a throwaway Postgres with\n' +
        '  eval "$(bash scripts/services/postgres.sh start)"\n' +
        'then run the tests again (npm test does this for you).',
    );
  }
  return url;
}

/** A pool on the test cluster; its `error` handler keeps a terminated idle connection from crashing the run. */
export function testPool(max = 5): pg.Pool {
  const pool = new pg.Pool({ connectionString: realPostgresUrl(), max });
  pool.on('error', () => undefined);
  return pool;
}

/**
 * Two writers racing on the real server: `first` runs in a transaction left
 * open, `second` starts on another connection and must wait on first's
 * locks (given 300 ms to get there), then first commits and second is
 * awaited. What a trigger's locking must make come out right.
 */
export async function raceBehindOpenTransaction(
  first: (client: pg.PoolClient) => Promise<unknown>,
  second: (client: pg.PoolClient) => Promise<unknown>,
): Promise<void> {
  const pool = testPool(2);
  const [a, b] = [await pool.connect(), await pool.connect()];
  try {
    await a.query('BEGIN');
    await first(a);
    const waiting = second(b);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await a.query('COMMIT');
    await waiting;
  } finally {
    a.release();
    b.release();
    await pool.end();
  }
}

/** A schema of its own per test file, so files running in parallel never share tables. */
export const uniqueSchema = (prefix: string): string => `t_${prefix}_${randomBytes(4).toString('hex')}`;

export interface Backend {
  name: string;
  client: pg.Pool | PGlite;
  sql: SqlClient;
  schema: string;
  close(): Promise<void>;
}

/** A migrated schema on PGlite (in memory) or on the real server. */
export async function openBackend(kind: 'pglite' | 'postgres', prefix: string): Promise<Backend> {
  const schema = uniqueSchema(prefix);
  if (kind === 'pglite') {
    const db = new PGlite();
    await migrate({ client: db, schema });
    return { name: 'PGlite', client: db, sql: toSqlClient(db), schema, close: () => db.close() };
  }
  const pool = testPool();
  await migrate({ client: pool, schema });
  return {
    name: 'Postgres',
    client: pool,
    sql: toSqlClient(pool),
    schema,
    async close() {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    },
  };
}

const STORAGE_TABLES = [
  'profiles',
  'subscriptions',
  'events',
  'campaigns',
  'recipients',
  'deliveries',
  'interactions',
  'segments',
  'decisions',
  'conversions',
  'audience_pages',
];

export async function truncateStorage(b: Backend): Promise<void> {
  await b.sql.query(`TRUNCATE ${STORAGE_TABLES.map((t) => `"${b.schema}".${t}`).join(', ')}`);
}

/** Reads rows straight from the tables, bypassing the adapter (as the conformance suite requires). */
export function postgresInspector(backend: () => Backend): StorageInspector {
  const s = () => `"${backend().schema}"`;
  const sql = () => backend().sql;
  return {
    async countRows(table) {
      if (!STORAGE_TABLES.includes(table)) throw new Error(`unknown table ${table}`);
      const { rows } = await sql().query<{ n: number }>(`SELECT count(*)::int AS n FROM ${s()}.${table}`);
      return rows[0]?.n ?? 0;
    },
    async recipientState(campaignId, occurrence, userId) {
      const { rows } = await sql().query<{ state: string; reason: string | null }>(
        `SELECT state, reason FROM ${s()}.recipients WHERE campaign_id = $1 AND occurrence = $2 AND user_id = $3`,
        [campaignId, occurrence, userId],
      );
      return rows[0] ?? null;
    },
    async subscriptionAddress(subscriptionId) {
      const { rows } = await sql().query<{ address: string }>(
        `SELECT coalesce(endpoint, device_token) AS address FROM ${s()}.subscriptions WHERE id = $1`,
        [subscriptionId],
      );
      return rows[0]?.address ?? null;
    },
    async corruptCampaign(campaignId) {
      await sql().query(
        `UPDATE ${s()}.campaigns SET doc = doc || '{"status": "exploded", "when": "tomorrow"}'::jsonb WHERE id = $1`,
        [campaignId],
      );
    },
  };
}

/**
 * The backend a conformance suite works on: opened by the suite's `create`,
 * reached by its other hooks afterwards.
 */
function suiteBackend(kind: 'pglite' | 'postgres', prefix: string) {
  let backend: Backend | undefined;
  return {
    label: kind === 'pglite' ? 'PGlite' : 'Postgres',
    async open(): Promise<Backend> {
      backend = await openBackend(kind, prefix);
      return backend;
    },
    current(): Backend {
      if (!backend) throw new Error('backend not open yet');
      return backend;
    },
  };
}

/** A postgresStorage on its own backend, as the storage and segment-equivalence suites both take it. */
function storageOnBackend(kind: 'pglite' | 'postgres', prefix: string) {
  const backend = suiteBackend(kind, prefix);
  return {
    backend,
    options: {
      name: `postgresStorage on ${backend.label}`,
      async create() {
        const { client, schema } = await backend.open();
        return postgresStorage({ client, schema });
      },
      reset: () => truncateStorage(backend.current()),
      close: () => backend.current().close(),
    },
  };
}

/** The storage conformance suite's options for one backend kind. */
export function storageSuiteOptions(kind: 'pglite' | 'postgres'): StorageSuiteOptions {
  const { backend, options } = storageOnBackend(kind, 'storage');
  return { ...options, inspect: postgresInspector(backend.current) };
}

/** The queue conformance suite's options for one backend kind. */
export function queueSuiteOptions(kind: 'pglite' | 'postgres'): QueueSuiteOptions {
  const backend = suiteBackend(kind, 'queue');
  return {
    name: `postgresQueue on ${backend.label}`,
    async create() {
      const { client, schema } = await backend.open();
      return postgresQueue({ client, schema });
    },
    reset: async () => {
      await backend.current().sql.query(`TRUNCATE "${backend.current().schema}".jobs`);
    },
    close: () => backend.current().close(),
  };
}

/** The counters conformance suite's options for one backend kind. */
export function countersSuiteOptions(kind: 'pglite' | 'postgres'): CountersSuiteOptions {
  const backend = suiteBackend(kind, 'counters');
  return {
    name: `postgresCounters on ${backend.label}`,
    async create() {
      const { client, schema } = await backend.open();
      return postgresCounters({ client, schema });
    },
    reset: async () => {
      await backend.current().sql.query(`TRUNCATE "${backend.current().schema}".counters`);
    },
    close: () => backend.current().close(),
  };
}

/** Options for core's segment equivalence suite on one backend kind (generated worlds of users, events, subscriptions). */
export function segmentEquivalenceOptions(kind: 'pglite' | 'postgres'): SegmentEquivalenceOptions {
  return storageOnBackend(kind, 'equivalence').options;
}
