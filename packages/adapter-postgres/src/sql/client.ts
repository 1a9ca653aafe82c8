import { ConfigError, TransientStorageError } from '@herald/core';

/**
 * The one seam between Herald's SQL and a driver. Every statement the
 * adapter runs goes through this, so the same SQL runs on a `pg` Pool, a
 * single `pg` Client and PGlite.
 */
export interface SqlClient {
  query<Row = Record<string, unknown>>(
    text: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<{ rows: Row[] }>;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
}

export interface QueryOptions {
  /**
   * Run as a named prepared statement on `pg` connections, when the client was
   * made with `prepare` on: each connection parses the text once and, after
   * Postgres's first five custom plans, reuses a generic plan. Only for a text
   * fixed per adapter instance (every distinct text prepared stays on each
   * connection): the delivery path's statements, never compiled segments.
   */
  prepare?: boolean;
}

/** The statement names this process gave (text → name): one text, one name, on every connection. */
const statementNames = new Map<string, string>();
const STATEMENT_PREFIX = 'herald_';
/** A Postgres error message naming one of those statements. */
const NAMES_OUR_STATEMENT = new RegExp(`${STATEMENT_PREFIX}\\d+`);

function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `${STATEMENT_PREFIX}${statementNames.size}`;
    statementNames.set(text, name);
  }
  return name;
}

interface QueryResultLike {
  rows: unknown[];
}

/** What Herald needs of a `pg` PoolClient (structural, so `pg` stays an optional peer). */
export interface PgClientLike {
  query(text: string, params?: unknown[]): Promise<QueryResultLike>;
}

/** A `pg` Pool: queries, and clients checked out for transactions. */
export interface PgPoolLike extends PgClientLike {
  connect(): Promise<PgClientLike & { release(err?: Error | boolean): void }>;
  readonly totalCount: number;
}

/** What Herald needs of a PGlite instance (`@electric-sql/pglite`). */
export interface PGliteLike {
  query(text: string, params?: unknown[]): Promise<QueryResultLike>;
  transaction<T>(
    fn: (tx: { query(text: string, params?: unknown[]): Promise<QueryResultLike> }) => Promise<T>,
  ): Promise<T>;
  /** LISTEN with a callback; resolves to the function that stops it. */
  listen?(channel: string, callback: (payload: string) => void): Promise<() => Promise<void>>;
}

/**
 * The driver behind a client, for what the SqlClient seam cannot carry: a
 * connection of its own that stays open to LISTEN (queue/wakeups.ts).
 * Null for a SqlClient handed in already wrapped.
 */
export function driverOf(
  client: PostgresClient | SqlClient,
):
  | { kind: 'pool'; pool: PgPoolLike }
  | { kind: 'client'; client: PgClientLike }
  | { kind: 'pglite'; db: PGliteLike }
  | null {
  if (isSqlClient(client)) return null;
  if (isPGlite(client)) return { kind: 'pglite', db: client };
  if (isPool(client)) return { kind: 'pool', pool: client };
  return { kind: 'client', client };
}

/** A `pg` Pool, a connected `pg` Client, or a PGlite instance. The host owns it and closes it. */
export type PostgresClient = PgPoolLike | PgClientLike | PGliteLike;

/**
 * The SqlClient for a host's client. `prepare` (default off; postgresStorage
 * turns it on) lets statements asking for it run as named prepared statements
 * on a `pg` Pool or Client; PGlite and an already wrapped SqlClient run every
 * statement as given.
 */
export function toSqlClient(
  client: PostgresClient | SqlClient,
  options: { prepare?: boolean } = {},
): SqlClient {
  if (isSqlClient(client)) return client;
  if (isPGlite(client)) return pgliteClient(client);
  const prepare = options.prepare ?? false;
  if (isPool(client)) return poolClient(client, prepare);
  return singleClient(client, prepare);
}

function isSqlClient(client: object): client is SqlClient {
  return (client as { [SQL_CLIENT]?: true })[SQL_CLIENT] === true;
}

function isPGlite(client: PostgresClient): client is PGliteLike {
  return typeof (client as PGliteLike).transaction === 'function';
}

function isPool(client: PostgresClient): client is PgPoolLike {
  return typeof (client as PgPoolLike).connect === 'function' && 'totalCount' in client;
}

const SQL_CLIENT = Symbol.for('herald.sqlClient');
const EMBEDDED = Symbol.for('herald.embeddedSql');

/**
 * True for PGlite: a database inside this process, which no other process
 * can open. A Pool or Client reaches a server other processes share.
 */
export function isEmbedded(client: PostgresClient | SqlClient): boolean {
  if (isSqlClient(client)) return (client as { [EMBEDDED]?: true })[EMBEDDED] === true;
  return isPGlite(client);
}

function brand(client: SqlClient): SqlClient {
  return Object.assign(client, { [SQL_CLIENT]: true as const });
}

/** What `pg` also accepts: a query config naming a prepared statement. */
interface NamedQueryTarget {
  query(config: { name: string; text: string; values: unknown[] }): Promise<QueryResultLike>;
}

/** Whether a statement runs named: the client was made to prepare, and the call asks it. */
const named = (prepare: boolean, options: QueryOptions | undefined): boolean =>
  prepare && options?.prepare === true;

function run(
  target: { query(text: string, params?: unknown[]): Promise<QueryResultLike> },
  text: string,
  params: readonly unknown[] | undefined,
  prepared = false,
) {
  const values = params ? [...params] : [];
  const pending = prepared
    ? (target as unknown as NamedQueryTarget).query({ name: statementName(text), text, values })
    : target.query(text, values);
  return pending.then(
    (result) => ({ rows: result.rows as never[] }),
    (error: unknown) => {
      throw translateError(error);
    },
  );
}

function poolClient(pool: PgPoolLike, prepare: boolean): SqlClient {
  return brand({
    query: (text, params, options) => run(pool, text, params, named(prepare, options)),
    async transaction(fn) {
      const conn = await pool.connect().catch((error: unknown) => {
        throw translateError(error);
      });
      let broken: Error | undefined;
      try {
        await run(conn, 'BEGIN', undefined);
        // Nested transaction() calls join this one.
        const inside: SqlClient = brand({
          query: (text, params, options) => run(conn, text, params, named(prepare, options)),
          transaction: (inner) => inner(inside),
        });
        const result = await fn(inside);
        await run(conn, 'COMMIT', undefined);
        return result;
      } catch (error) {
        if (error instanceof TransientStorageError) broken = error;
        else await conn.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
        throw error;
      } finally {
        // A connection that failed mid-transaction is destroyed, not handed back to the pool.
        conn.release(broken ?? false);
      }
    },
  });
}

/**
 * One connected client serves one statement stream, so transactions take a
 * lock that plain queries also wait on; otherwise a concurrent query would
 * run inside someone else's transaction.
 */
function singleClient(conn: PgClientLike, prepare: boolean): SqlClient {
  let tail: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const next = tail.then(work, work);
    tail = next.catch(() => undefined);
    return next;
  };
  const inside: SqlClient = brand({
    query: (text, params, options) => run(conn, text, params, named(prepare, options)),
    transaction: (fn) => fn(inside),
  });
  return brand({
    query: (text, params, options) => exclusive(() => run(conn, text, params, named(prepare, options))),
    transaction: (fn) =>
      exclusive(async () => {
        await run(conn, 'BEGIN', undefined);
        try {
          const result = await fn(inside);
          await run(conn, 'COMMIT', undefined);
          return result;
        } catch (error) {
          await conn.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
      }),
  });
}

function pgliteClient(db: PGliteLike): SqlClient {
  const client = brand({
    query: (text, params) => run(db, text, params),
    transaction: (fn) =>
      db
        .transaction((tx) => {
          const inside: SqlClient = brand({
            query: (text, params) => run(tx, text, params),
            transaction: (inner) => inner(inside),
          });
          return fn(inside);
        })
        .catch((error: unknown) => {
          throw translateError(error);
        }),
  });
  return Object.assign(client, { [EMBEDDED]: true as const });
}

/**
 * SQLSTATE classes and codes a retry can fix: the connection went away
 * (08, 57P01-57P03 — what pg_terminate_backend and a restart produce),
 * serialization failures and deadlocks (40001, 40P01), and server overload
 * (53300 too many connections).
 */
const TRANSIENT_CODES = new Set(['40001', '40P01', '53300', '57P01', '57P02', '57P03', '55P03']);
const TRANSIENT_NODE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
const TRANSIENT_MESSAGES = [
  /Connection terminated/i,
  /connection timeout/i,
  /Client has encountered a connection error/i,
  /terminating connection/i,
  /timeout exceeded when trying to connect/i,
];

/**
 * 26000: a statement Herald prepared on this connection is not there; 42P05: one it has not
 * prepared is. Both mean the connection under Herald changes between statements: a pooler in
 * transaction mode (PgBouncer before 1.21, or without `max_prepared_statements`).
 */
const PREPARED_STATEMENT_CODES = new Set(['26000', '42P05']);

/**
 * A table, function or schema that does not exist: every statement of the adapter names only its own,
 * so this is a schema never migrated, or one other than the one migrated (`schema` left out on one
 * factory). Postgres's own words do not say which step was missed. 42883 also covers a missing
 * operator (a typing mistake in SQL, no missing migration): only "function … does not exist" counts.
 */
const NOT_MIGRATED_CODES = new Set(['42P01', '42883', '3F000']);
const notMigrated = (code: string, message: string): boolean =>
  NOT_MIGRATED_CODES.has(code) && (code !== '42883' || message.startsWith('function '));

export function translateError(error: unknown): unknown {
  if (error instanceof TransientStorageError) return error;
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  if (
    typeof code === 'string' &&
    PREPARED_STATEMENT_CODES.has(code) &&
    NAMES_OUR_STATEMENT.test((error as Error).message)
  ) {
    return new ConfigError(
      `Postgres answered "${(error as Error).message}": the connection under Herald changed between its statements, ` +
        "as behind a pooler in transaction mode. Turn on the pooler's prepared statements " +
        '(PgBouncer 1.21 or later: max_prepared_statements), or pass preparedStatements: false to postgresStorage.',
    );
  }
  if (typeof code === 'string' && notMigrated(code, (error as Error).message)) {
    return new ConfigError(
      `Postgres answered "${(error as Error).message}": Herald's schema is not there. Run migrate({ client, schema }) ` +
        '(or herald-migrate, with --schema) before Herald starts, and give postgresStorage, postgresQueue and ' +
        'postgresCounters the schema you migrated.',
    );
  }
  if (isTransient(error)) {
    const message = error instanceof Error ? error.message : String(error);
    return new TransientStorageError(`Postgres is unavailable: ${message}`, { cause: error });
  }
  return error;
}

function isTransient(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (code.startsWith('08') || TRANSIENT_CODES.has(code) || TRANSIENT_NODE_CODES.has(code)) return true;
  }
  return TRANSIENT_MESSAGES.some((pattern) => pattern.test(error.message));
}
