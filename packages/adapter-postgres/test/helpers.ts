import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import type {
  CountersSuiteOptions,
  QueueSuiteOptions,
  StorageInspector,
  StorageSuiteOptions,
} from '@herald/core/testing';
import type { SegmentEquivalenceOptions } from '@herald/core/testing/fuzz';
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
 * open, `second` starts on another connection and must block on first's
 * locks (the test waits until the server says it does), then first commits
 * and second is awaited. What a trigger's locking must make come out right.
 */
export async function raceBehindOpenTransaction(
  first: (client: pg.PoolClient) => Promise<unknown>,
  second: (client: pg.PoolClient) => Promise<unknown>,
): Promise<void> {
  const pool = testPool(3);
  const [open, waiter] = [await pool.connect(), await pool.connect()];
  try {
    await open.query('BEGIN');
    await first(open);
    const waiterPid = await backendPid(waiter);
    const waiting = second(waiter);
    await waitForLockWaiter(pool, { pid: waiterPid });
    await open.query('COMMIT');
    await waiting;
  } finally {
    open.release();
    waiter.release();
    await pool.end();
  }
}

/** Which statements {@link waitForLockWaiter} waits for: one backend, or any whose query matches. */
export type LockWaiter = { pid: number } | { queryLike: string };

/**
 * Polls pg_stat_activity until a backend matching `waiter` is waiting on a
 * lock, and returns its pid: a test acts on a statement it knows is blocked
 * instead of sleeping and hoping it got there.
 */
export async function waitForLockWaiter(admin: pg.Pool, waiter: LockWaiter): Promise<number> {
  const deadline = Date.now() + LOCK_WAIT_TIMEOUT_MS;
  const [condition, parameter] =
    'pid' in waiter
      ? ['pid = $1', waiter.pid]
      : ['query LIKE $1 AND pid <> pg_backend_pid()', waiter.queryLike];
  while (Date.now() < deadline) {
    const { rows } = await admin.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND ${condition}`,
      [parameter],
    );
    if (rows[0]) return rows[0].pid;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(
    `no statement blocked on a lock within ${LOCK_WAIT_TIMEOUT_MS} ms (${JSON.stringify(waiter)})`,
  );
}

const LOCK_WAIT_TIMEOUT_MS = 30_000;
const SETTLE_TIMEOUT_MS = 30_000;

/**
 * Holds an exclusive lock on `table` (schema-qualified) so the statement
 * `call` runs blocks on it, finds that statement's backend by `blockedQueryLike`,
 * terminates it, and returns what `call` settled with: a connection lost
 * mid-statement, on demand.
 */
export async function terminateWhileBlocked(options: {
  admin: pg.Pool;
  table: string;
  blockedQueryLike: string;
  call: () => Promise<unknown>;
}): Promise<unknown> {
  const { admin, table, blockedQueryLike, call } = options;
  const locker = await admin.connect();
  try {
    await locker.query('BEGIN');
    // Blocks every other statement on the table too; only the one matching blockedQueryLike is cut off.
    await locker.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
    const settled = call().then(
      (value) => ({ resolved: value }),
      (error: unknown) => error,
    );
    const pid = await waitForLockWaiter(admin, { queryLike: blockedQueryLike });
    const { rows } = await admin.query<{ done: boolean }>('SELECT pg_terminate_backend($1) AS done', [pid]);
    if (rows[0]?.done !== true) throw new Error(`could not terminate backend ${pid}`);
    // Never hang the file on a call that does not settle: fail it (and release the lock) in time.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `the call blocked on ${table} did not settle ${SETTLE_TIMEOUT_MS} ms after its backend was terminated`,
            ),
          ),
        SETTLE_TIMEOUT_MS,
      );
    });
    try {
      return await Promise.race([settled, late]);
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await locker.query('ROLLBACK').catch(() => undefined);
    locker.release();
  }
}

async function backendPid(client: pg.PoolClient): Promise<number> {
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const pid = rows[0]?.pid;
  if (pid === undefined) throw new Error('pg_backend_pid() returned no row');
  return pid;
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

/**
 * Every row of every table of the backend's schema but `except`, as one string: equal before and
 * after a refused request when it stored nothing. `counters` and `migrations` are left out by
 * default (idempotency keys and rate limits write them on any request, by design).
 */
export async function tablesSnapshot(
  backend: Backend,
  except: readonly string[] = ['counters', 'migrations'],
): Promise<string> {
  const { rows: tables } = await backend.sql.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND NOT (table_name = ANY($2)) ORDER BY 1`,
    [backend.schema, except],
  );
  const dump: Record<string, unknown> = {};
  for (const { table_name: table } of tables) {
    const { rows } = await backend.sql.query(`SELECT * FROM "${backend.schema}"."${table}"`);
    dump[table] = rows.map((row) => JSON.stringify(row)).sort();
  }
  return JSON.stringify(dump);
}

const STORAGE_TABLES = [
  'campaign_history',
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

export async function truncateStorage(backend: Backend): Promise<void> {
  await backend.sql.query(
    `TRUNCATE ${STORAGE_TABLES.map((table) => `"${backend.schema}".${table}`).join(', ')}`,
  );
}

/** Reads rows straight from the tables, bypassing the adapter (as the conformance suite requires). */
export function postgresInspector(backend: () => Backend): StorageInspector {
  const quotedSchema = () => `"${backend().schema}"`;
  const sql = () => backend().sql;
  return {
    async countRows(table) {
      if (!STORAGE_TABLES.includes(table)) throw new Error(`unknown table ${table}`);
      const { rows } = await sql().query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${quotedSchema()}.${table}`,
      );
      return rows[0]?.n ?? 0;
    },
    async recipientState(campaignId, occurrence, userId) {
      const { rows } = await sql().query<{ state: string; reason: string | null }>(
        `SELECT state, reason FROM ${quotedSchema()}.recipients WHERE campaign_id = $1 AND occurrence = $2 AND user_id = $3`,
        [campaignId, occurrence, userId],
      );
      return rows[0] ?? null;
    },
    async subscriptionAddress(subscriptionId) {
      const { rows } = await sql().query<{ address: string }>(
        `SELECT coalesce(endpoint, device_token) AS address FROM ${quotedSchema()}.subscriptions WHERE id = $1`,
        [subscriptionId],
      );
      return rows[0]?.address ?? null;
    },
    async corruptCampaign(campaignId) {
      await sql().query(
        `UPDATE ${quotedSchema()}.campaigns SET doc = doc || '{"status": "exploded", "when": "tomorrow"}'::jsonb WHERE id = $1`,
        [campaignId],
      );
    },
    async campaignHistoryRows(campaignId) {
      const { rows } = await sql().query<{ actor: string; action: string; version: number }>(
        `SELECT actor, action, version FROM ${quotedSchema()}.campaign_history WHERE campaign_id = $1 ORDER BY id`,
        [campaignId],
      );
      return rows;
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
  /** The peer's own pool, as another process would have (PGlite: the same database, which no other process can open). */
  let peerPool: pg.Pool | undefined;
  return {
    name: `postgresQueue on ${backend.label}`,
    async create() {
      const { client, schema } = await backend.open();
      return postgresQueue({ client, schema });
    },
    async createPeer() {
      const { client, schema } = backend.current();
      if (kind === 'pglite') return postgresQueue({ client, schema });
      peerPool = testPool(3);
      return postgresQueue({ client: peerPool, schema });
    },
    reset: async () => {
      await backend.current().sql.query(`TRUNCATE "${backend.current().schema}".jobs`);
    },
    close: async () => {
      await peerPool?.end();
      await backend.current().close();
    },
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
