import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import pg from 'pg';

/**
 * The CPU the Postgres and Redis servers spend, read from /proc as the
 * servers' own accounting (user + system time): every Postgres backend, the
 * postmaster and its background processes, the backends that exited meanwhile
 * (their time is added to the postmaster's children's time once reaped); the
 * Redis process with all its threads. Null when the server is not a process
 * on this machine (a remote server, or /proc not readable).
 *
 * The figure is the whole server's: run the benchmark on servers nothing else
 * uses (`npm run bench:delivery` starts throwaway ones), or it counts others' work.
 */
export interface ServerCpu {
  /** CPU µs the server has used so far, or null when it cannot be read. */
  read(): Promise<number | null>;
}

const TICKS_PER_SECOND = clockTicks();

function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces): [state, ppid, …]. */
function statFields(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** utime + stime (+ cutime + cstime with `children`) of a process, in µs. */
function processCpuUs(fields: string[], children: boolean): number {
  // After the command: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
  const ticks =
    Number(fields[11]) + Number(fields[12]) + (children ? Number(fields[13]) + Number(fields[14]) : 0);
  return (ticks * 1e6) / TICKS_PER_SECOND;
}

export function postgresServerCpu(pool: pg.Pool): ServerCpu {
  let postmaster: number | null | undefined;
  return {
    async read() {
      if (postmaster === undefined) {
        const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        const backend = statFields(rows[0]?.pid ?? -1);
        postmaster = backend ? Number(backend[1]) : null;
      }
      if (postmaster === null) return null;
      const own = statFields(postmaster);
      if (!own) return null;
      let total = processCpuUs(own, true);
      for (const entry of readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        const fields = statFields(Number(entry));
        if (fields && Number(fields[1]) === postmaster) total += processCpuUs(fields, false);
      }
      return total;
    },
  };
}

/**
 * The CPU of the backends serving one application's connections (`application_name`), read from
 * /proc: what this benchmark's own statements cost the server, apart from other clients of a shared
 * one (the whole-server figure counts them). Background work (WAL writer, autovacuum) is left out,
 * and so is the time of a backend that exits between two reads; a backend's time is kept once seen.
 */
export function postgresBackendsCpu(pool: pg.Pool, applicationName: string): ServerCpu {
  const seen = new Map<number, number>();
  return {
    async read() {
      const { rows } = await pool.query<{ pid: number }>(
        'SELECT pid FROM pg_stat_activity WHERE application_name = $1',
        [applicationName],
      );
      for (const { pid } of rows) {
        const fields = statFields(pid);
        if (fields) seen.set(pid, processCpuUs(fields, false));
      }
      if (seen.size === 0) return null;
      let total = 0;
      for (const cpu of seen.values()) total += cpu;
      return total;
    },
  };
}

export function redisServerCpu(connection: Redis): ServerCpu {
  let pid: number | null | undefined;
  return {
    async read() {
      if (pid === undefined) {
        const info = await connection.info('server');
        const match = /process_id:(\d+)/.exec(info);
        pid = match && statFields(Number(match[1])) ? Number(match[1]) : null;
      }
      if (pid === null) return null;
      const fields = statFields(pid);
      return fields ? processCpuUs(fields, false) : null;
    },
  };
}

/** One statement's share of the server's time while a stack ran (pg_stat_statements). */
export interface StatementFigure {
  query: string;
  calls: number;
  total_ms: number;
  mean_ms: number;
  rows: number;
}

/**
 * pg_stat_statements, when the server preloads it (`shared_preload_libraries`):
 * reset before a stack's run, read after. Null when it is not available.
 */
export async function statementStats(pool: pg.Pool): Promise<{
  reset(): Promise<void>;
  top(limit: number): Promise<StatementFigure[]>;
} | null> {
  try {
    await pool.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await pool.query('SELECT pg_stat_statements_reset()');
  } catch {
    return null;
  }
  return {
    async reset() {
      await pool.query('SELECT pg_stat_statements_reset()');
    },
    async top(limit) {
      const { rows } = await pool.query<StatementFigure>(
        `SELECT regexp_replace(left(query, 160), '\\s+', ' ', 'g') AS query, calls::int,
           round(total_exec_time::numeric, 1)::float AS total_ms, round(mean_exec_time::numeric, 3)::float AS mean_ms,
           rows::int
         FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%'
         ORDER BY total_exec_time DESC LIMIT $1`,
        [limit],
      );
      return rows;
    },
  };
}

/** The servers one stack run uses, and how to leave them as they were. */
export interface BenchServers {
  pool: pg.Pool | null;
  redis: Redis | null;
  close(): Promise<void>;
}

export function openServers(pgUrl: string | undefined, redisUrl: string | undefined): BenchServers {
  const pool = pgUrl ? new pg.Pool({ connectionString: pgUrl, max: 2 }) : null;
  pool?.on('error', () => undefined);
  const redis = redisUrl ? new Redis(redisUrl, { maxRetriesPerRequest: null, lazyConnect: false }) : null;
  return {
    pool,
    redis,
    async close() {
      redis?.disconnect();
      await pool?.end();
    },
  };
}

/** Removes a run's Redis keys (its queue and counters prefix). */
export async function dropRedisPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

/** The settings that decide whether a commit waits for its WAL to reach the disk, as the server reports them. */
export interface PostgresDurability {
  fsync: string;
  synchronous_commit: string;
  full_page_writes: string;
  /** All three on: every commit is flushed before it returns, as a production server runs. */
  durable: boolean;
}

export async function postgresDurability(url: string): Promise<PostgresDurability> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string; setting: string }>(
      `SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes')`,
    );
    const setting = (name: string) => rows.find((row) => row.name === name)?.setting ?? 'unknown';
    const figures = {
      fsync: setting('fsync'),
      synchronous_commit: setting('synchronous_commit'),
      full_page_writes: setting('full_page_writes'),
    };
    return { ...figures, durable: Object.values(figures).every((value) => value === 'on') };
  } finally {
    await client.end();
  }
}

/** One progress line: which kind of server a run measures. */
export function describeDurability(durability: PostgresDurability): string {
  return `Postgres ${durability.durable ? 'durable' : 'not durable'}: fsync ${durability.fsync}, synchronous_commit ${durability.synchronous_commit}, full_page_writes ${durability.full_page_writes}`;
}

/**
 * Brings a Postgres server to rest before a stack's campaign starts, so that
 * one stack does not pay for work another left behind (or for its own
 * import): the fresh schema's tables vacuumed and analyzed, as autovacuum
 * would have them a minute after the import; a checkpoint, so the dirty
 * buffers of earlier runs are not written during this one; and no
 * autovacuum worker running (a dropped schema leaves the catalogs to vacuum).
 * What the campaign itself makes the server do stays in its figures.
 */
export async function settlePostgres(pool: pg.Pool, schema: string): Promise<void> {
  const { rows: tables } = await pool.query<{ name: string }>(
    `SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables WHERE schemaname = $1`,
    [schema],
  );
  // A VACUUM without a table list would take every table of the database, other schemas' too.
  if (tables.length > 0) await pool.query(`VACUUM (ANALYZE) ${tables.map((table) => table.name).join(', ')}`);
  try {
    await pool.query('CHECKPOINT');
  } catch (error) {
    // Only superusers and pg_checkpoint may: on a server of one's own without either, go on unsettled.
    if ((error as { code?: string }).code !== '42501') throw error;
  }
  const deadline = Date.now() + 120_000;
  for (;;) {
    const { rows } = await pool.query<{ busy: number }>(
      `SELECT count(*)::int AS busy FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'`,
    );
    if ((rows[0]?.busy ?? 0) === 0 || Date.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
