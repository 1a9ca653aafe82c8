import { createHash } from 'node:crypto';
import {
  driverOf,
  type PGliteLike,
  type PgClientLike,
  type PgPoolLike,
  type PostgresClient,
  type SqlClient,
} from '../sql/client.js';

/**
 * The channel a schema's queue notifies on when jobs are enqueued. NOTIFY
 * channels are identifiers of at most 63 bytes; a schema name is at most 63
 * already, so a long one is hashed. Only a-z, 0-9 and _: safe to quote.
 */
export function jobsChannel(schemaName: string): string {
  const channel = `herald_jobs_${schemaName}`;
  if (channel.length <= 63) return channel;
  return `herald_jobs_${createHash('sha1').update(schemaName).digest('hex')}`;
}

/**
 * How long to wait before listening again after the connection was lost.
 * Real time, not the engine's clock: this is about the transport (a server
 * restarting), and workers poll meanwhile.
 */
const RELISTEN_MS = 1_000;

/** What a `pg` Client offers to LISTEN with (structural, so `pg` stays an optional peer). */
interface ListeningConnection extends PgClientLike {
  on(event: 'notification', listener: (message: { channel: string }) => void): unknown;
  on(event: 'error' | 'end', listener: (error?: unknown) => void): unknown;
  removeListener(event: string, listener: (...args: never[]) => void): unknown;
}

type PooledConnection = ListeningConnection & { release(error?: Error | boolean): void };

function canListen(connection: PgClientLike): connection is ListeningConnection {
  const candidate = connection as Partial<ListeningConnection>;
  return typeof candidate.on === 'function' && typeof candidate.removeListener === 'function';
}

/** One open LISTEN while anyone listens; `close` stops it. */
interface Link {
  close(): void;
}

/**
 * `Queue.onWake` for a Postgres queue: one LISTEN per queue while it has
 * listeners, on a connection of its own taken from the host's pool (held,
 * so the pool has one connection fewer for queries; not from a pool of
 * fewer than three), or on the host's single
 * Client, or through PGlite's own `listen`. A pool's connection is taken
 * again after a loss (a restart, a terminated backend), and listeners are
 * called once then, since notices sent meanwhile are gone. Undefined for a
 * client Herald cannot LISTEN on (a SqlClient passed in): polled only.
 */
export function postgresWakeups(
  client: PostgresClient | SqlClient,
  sql: SqlClient,
  channel: string,
): ((listener: () => void) => () => void) | undefined {
  const driver = driverOf(client);
  if (!driver) return undefined;
  const listeners = new Set<() => void>();
  const wakeAll = () => {
    for (const listener of [...listeners]) listener();
  };
  const open = (): Link => {
    switch (driver.kind) {
      case 'pool':
        return poolLink(driver.pool, channel, wakeAll);
      case 'client':
        return clientLink(driver.client, sql, channel, wakeAll);
      case 'pglite':
        return pgliteLink(driver.db, channel, wakeAll);
    }
  };
  let link: Link | null = null;
  return (listener) => {
    const entry = () => listener();
    listeners.add(entry);
    link ??= open();
    return () => {
      listeners.delete(entry);
      if (listeners.size === 0 && link) {
        link.close();
        link = null;
      }
    };
  };
}

/**
 * A pool smaller than this is not asked for a connection to hold: with one
 * or two connections, holding one would starve the worker's own queries.
 * Such a host's workers poll.
 */
const SMALLEST_POOL_TO_LISTEN = 3;

function poolLink(pool: PgPoolLike, channel: string, wake: () => void): Link {
  const max = (pool as { options?: { max?: unknown } }).options?.max;
  if (typeof max === 'number' && max < SMALLEST_POOL_TO_LISTEN) return { close: () => undefined };
  let closed = false;
  let lostOnce = false;
  let retry: ReturnType<typeof setTimeout> | null = null;
  let current: { drop: (error?: unknown) => void } | null = null;
  const onNotification = (message: { channel: string }) => {
    if (message.channel === channel) wake();
  };
  const listenLater = () => {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = null;
      void listen();
    }, RELISTEN_MS);
    retry.unref?.();
  };
  const listen = async (): Promise<void> => {
    if (closed) return;
    let pooled: Awaited<ReturnType<PgPoolLike['connect']>>;
    try {
      pooled = await pool.connect();
    } catch {
      listenLater();
      return;
    }
    if (!canListen(pooled)) {
      // Not a `pg` client: nothing to listen on, the workers poll.
      pooled.release();
      return;
    }
    const connection: PooledConnection = pooled;
    let dropped = false;
    const drop = (error?: unknown) => {
      if (dropped) return;
      dropped = true;
      connection.removeListener('notification', onNotification);
      if (current?.drop === drop) current = null;
      // Destroyed, not handed back: a connection still LISTENing must not serve the host's queries.
      connection.release(error instanceof Error ? error : true);
      if (!closed) {
        lostOnce = true;
        listenLater();
      }
    };
    connection.on('notification', onNotification);
    connection.on('error', drop);
    connection.on('end', drop);
    try {
      await connection.query(`LISTEN "${channel}"`);
    } catch (error) {
      drop(error);
      return;
    }
    if (dropped) return;
    if (closed) {
      drop();
      return;
    }
    current = { drop };
    // Jobs enqueued while nobody listened told no one: look once.
    if (lostOnce) wake();
  };
  void listen();
  return {
    close() {
      closed = true;
      if (retry) clearTimeout(retry);
      current?.drop();
    },
  };
}

/** The host's single Client: LISTEN on it (through `sql`, which keeps transactions apart); never reconnected. */
function clientLink(client: PgClientLike, sql: SqlClient, channel: string, wake: () => void): Link {
  if (!canListen(client)) return { close: () => undefined };
  const onNotification = (message: { channel: string }) => {
    if (message.channel === channel) wake();
  };
  client.on('notification', onNotification);
  void sql.query(`LISTEN "${channel}"`).catch(() => undefined);
  return {
    close() {
      client.removeListener('notification', onNotification);
      void sql.query(`UNLISTEN "${channel}"`).catch(() => undefined);
    },
  };
}

function pgliteLink(db: PGliteLike, channel: string, wake: () => void): Link {
  if (typeof db.listen !== 'function') return { close: () => undefined };
  const stopping = db.listen(`"${channel}"`, () => wake()).catch(() => null);
  return {
    close() {
      void stopping.then((stop) => stop?.()).catch(() => undefined);
    },
  };
}
