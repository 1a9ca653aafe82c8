import type { ClaimedJob, ClaimOptions, JobInput, PruneBatch, Queue, QueueCounts } from '@herald/core';
import {
  parseClaimOptions,
  parseDedupeKey,
  parseDedupeKeys,
  parseJobInputs,
  parseLease,
  parsePruneBatch,
  parseRetryAt,
} from '@herald/core';
import { ClientOptions, parseOptions } from '../options.js';
import { type PostgresClient, type SqlClient, toSqlClient } from '../sql/client.js';
import { quoteSchema } from '../sql/identifiers.js';
import { jobsChannel, postgresWakeups } from './wakeups.js';

export interface PostgresQueueOptions {
  /** A `pg` Pool (or connected Client) or a PGlite instance. Herald never closes it. */
  client: PostgresClient | SqlClient;
  /** The schema holding the jobs table, created by `migrate()`. Default `herald`. */
  schema?: string;
}

interface JobRow {
  id: string;
  name: string;
  payload: unknown;
  run_at: Date;
  attempts: number;
  lock_token: string;
  dedupe_key: string | null;
}

/** A job as the enqueue statement reads it (jsonb_to_recordset), and whether it replaces its key's waiting job. */
interface EnqueueRow {
  /** The job's place in the enqueue call. */
  index: number;
  name: string;
  payload: unknown;
  run_at: string;
  dedupe_key: string | null;
  replace: boolean;
}

/**
 * The jobs of one enqueue call that can end up in the queue, in call order,
 * resolved here so that one INSERT can take them all: per dedupe key, the
 * call's last 'replace' job if it has one (it replaces the key's waiting
 * holder and every earlier job of the call), otherwise its first job (kept
 * only if no job holds the key). The rule memoryQueue applies job by job.
 */
function survivors(jobs: readonly JobInput[]): EnqueueRow[] {
  const chosen = new Map<string, number>();
  jobs.forEach((job, index) => {
    if (job.dedupeKey === undefined) return;
    if (!chosen.has(job.dedupeKey) || job.onDuplicate === 'replace') chosen.set(job.dedupeKey, index);
  });
  return jobs.flatMap((job, index): EnqueueRow[] => {
    const dedupeKey = job.dedupeKey ?? null;
    if (dedupeKey !== null && chosen.get(dedupeKey) !== index) return [];
    return [
      {
        index,
        name: job.name,
        payload: job.payload,
        run_at: job.runAt.toISOString(),
        dedupe_key: dedupeKey,
        replace: dedupeKey !== null && job.onDuplicate === 'replace',
      },
    ];
  });
}

/** Job ids are bigint identities; anything else cannot name a job, so it is a stale call, not an error. */
const JOB_ID = /^[1-9][0-9]{0,18}$/;

/**
 * The Queue port on a jobs table, in the manner of graphile-worker: a claim
 * is one statement that picks due rows with FOR UPDATE SKIP LOCKED (so
 * workers never wait on each other) and sets the lease token, lease end
 * and attempt count on them. Every token-taking call matches on
 * (id, token, state = 'active') in its WHERE clause, so a stale token
 * updates nothing. Time is always the caller's `now`, never SQL now().
 * Semantics follow core's memoryQueue, the port's executable spec.
 *
 * An enqueue that adds jobs sends NOTIFY on the schema's channel
 * (wakeups.ts), so idle workers elsewhere claim them at once: `onWake`.
 */
export function postgresQueue(options: PostgresQueueOptions): Queue {
  const { client, schema: schemaOption } = parseOptions(ClientOptions, options, 'postgresQueue');
  const sql = toSqlClient(client);
  const schemaName = schemaOption ?? 'herald';
  const schema = quoteSchema(schemaName);
  const channel = jobsChannel(schemaName);
  const onWake = postgresWakeups(client, sql, channel);

  /** Updates the job if the lease is still ours; true when it was. */
  const withLease = async (
    jobId: string,
    token: string,
    set: string,
    params: unknown[],
  ): Promise<boolean> => {
    if (!JOB_ID.test(jobId)) return false;
    const { rows } = await sql.query(
      `UPDATE ${schema}.jobs SET ${set} WHERE id = $1::bigint AND lock_token = $2 AND state = 'active' RETURNING id`,
      [jobId, token, ...params],
    );
    return rows.length > 0;
  };

  async function enqueueEach(inputs: readonly JobInput[]): Promise<boolean[]> {
    // Parsed before the statement, so a bad job refuses the call with its path (a bad runAt or a NUL
    // in the payload would otherwise fail the one statement with a driver error naming no job).
    const jobs = parseJobInputs(inputs);
    if (jobs.length === 0) return [];
    const rows = survivors(jobs);
    const replacing = rows.flatMap((row) => (row.replace && row.dedupe_key !== null ? [row.dedupe_key] : []));
    // One statement for the whole batch, replacing or not. Rows go in in call order (ids keep it:
    // claim's tie-breaker). A JSON null payload reads back as SQL NULL from the recordset: stored as
    // JSON null again. DO NOTHING on a key held by a waiting or running job; pg_notify is sent at
    // commit, and only when something was added (the CTE is read by the final SELECT, so it runs).
    // The keys added tell which keyed jobs went in (a call's survivors have distinct keys); unkeyed
    // ones always do.
    //
    // A 'replace' first removes the waiting holders of its keys (a running one is never touched).
    // Why that is sound in the same statement: the INSERT reads `removed` (an uncorrelated
    // sub-select, run once before its first row), so every DELETE is done before any row is
    // inserted; and a row this transaction deleted does not hold its key any more, for the unique
    // index and ON CONFLICT alike (they check against the dirty snapshot, which does not see a
    // tuple deleted by the current transaction). Why not a transaction of two statements, as
    // before: four round trips (BEGIN, DELETE, INSERT, COMMIT) for every batch of reminders.
    const result = await sql.query<{ keys: string[]; unkeyed: number }>(
      `WITH removed AS (
         DELETE FROM ${schema}.jobs WHERE dedupe_key = ANY($3::text[]) AND state = 'waiting' RETURNING 1
       ),
       added AS (
         INSERT INTO ${schema}.jobs (name, payload, run_at, dedupe_key, state)
         SELECT job.name, COALESCE(job.payload, 'null'::jsonb), job.run_at, job.dedupe_key, 'waiting'
         FROM jsonb_to_recordset($1::jsonb)
           AS job(position integer, name text, payload jsonb, run_at timestamptz, dedupe_key text)
         WHERE (SELECT count(*) FROM removed) >= 0
         ORDER BY job.position
         ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL AND state IN ('waiting', 'active') DO NOTHING
         RETURNING dedupe_key
       ),
       told AS (
         SELECT pg_notify($2, '')::text AS notified FROM (SELECT 1 FROM added LIMIT 1) AS any_added
       )
       SELECT COALESCE((SELECT array_agg(dedupe_key) FROM added WHERE dedupe_key IS NOT NULL), '{}') AS keys,
              (SELECT count(*)::int FROM added WHERE dedupe_key IS NULL) AS unkeyed,
              (SELECT count(*)::int FROM told) AS told`,
      [
        JSON.stringify(
          rows.map(({ replace: _replace, index: _index, ...row }, position) => ({ position, ...row })),
        ),
        channel,
        replacing,
      ],
    );
    const addedKeys = new Set(result.rows[0]?.keys ?? []);
    const added = jobs.map(() => false);
    for (const row of rows) added[row.index] = row.dedupe_key === null || addedKeys.has(row.dedupe_key);
    return added;
  }

  return {
    async enqueue(jobs: readonly JobInput[]): Promise<number> {
      return (await enqueueEach(jobs)).filter(Boolean).length;
    },

    enqueueEach,

    async claim(options: ClaimOptions): Promise<ClaimedJob[]> {
      const { limit, leaseMs, now, names } = parseClaimOptions(options);
      if (limit === 0 || names?.length === 0) return [];
      const { rows } = await sql.query<JobRow>(
        `WITH due AS (
           SELECT id FROM ${schema}.jobs
           WHERE ((state = 'waiting' AND run_at <= $1::timestamptz) OR (state = 'active' AND locked_until <= $1::timestamptz))
             AND ($4::text[] IS NULL OR name = ANY($4::text[]))
           ORDER BY run_at, id
           LIMIT $2
           FOR UPDATE SKIP LOCKED
         )
         UPDATE ${schema}.jobs j
         SET state = 'active', attempts = j.attempts + 1, lock_token = gen_random_uuid()::text,
             locked_until = $1::timestamptz + $3::float8 * interval '1 millisecond'
         FROM due WHERE j.id = due.id
         RETURNING j.id::text AS id, j.name, j.payload, j.run_at, j.attempts, j.lock_token, j.dedupe_key`,
        [now.toISOString(), limit, leaseMs, names ? [...names] : null],
      );
      return rows
        .map(
          (row): ClaimedJob => ({
            id: row.id,
            name: row.name,
            payload: row.payload,
            runAt: row.run_at,
            attempts: row.attempts,
            token: row.lock_token,
            dedupeKey: row.dedupe_key,
          }),
        )
        .sort((a, b) => a.runAt.getTime() - b.runAt.getTime() || Number(BigInt(a.id) - BigInt(b.id)));
    },

    complete: async (jobId, token) => {
      if (!JOB_ID.test(jobId)) return false;
      const { rows } = await sql.query(
        `DELETE FROM ${schema}.jobs WHERE id = $1::bigint AND lock_token = $2 AND state = 'active' RETURNING id`,
        [jobId, token],
      );
      return rows.length > 0;
    },

    retry: async (jobId, token, runAt, error) =>
      withLease(
        jobId,
        token,
        `state = 'waiting', run_at = $3::timestamptz, last_error = $4, lock_token = NULL, locked_until = NULL`,
        [parseRetryAt(runAt).toISOString(), error],
      ),

    fail: (jobId, token, error) =>
      withLease(jobId, token, `state = 'failed', last_error = $3, lock_token = NULL, locked_until = NULL`, [
        error,
      ]),

    extendLease: async (jobId, token, ms, at) => {
      const { leaseMs, now } = parseLease(ms, at);
      return withLease(
        jobId,
        token,
        `locked_until = $3::timestamptz + $4::float8 * interval '1 millisecond'`,
        [now.toISOString(), leaseMs],
      );
    },

    async cancelEach(keys: readonly string[]): Promise<boolean[]> {
      const dedupeKeys = parseDedupeKeys(keys);
      if (dedupeKeys.length === 0) return [];
      const { rows } = await sql.query<{ dedupe_key: string }>(
        `DELETE FROM ${schema}.jobs WHERE dedupe_key = ANY($1::text[]) AND state = 'waiting' RETURNING dedupe_key`,
        [dedupeKeys],
      );
      // A key named twice was removed once: its first mention says so.
      const removed = new Set(rows.map((row) => row.dedupe_key));
      return dedupeKeys.map((key) => removed.delete(key));
    },

    async cancel(dedupeKey: string): Promise<boolean> {
      const { rows } = await sql.query(
        `DELETE FROM ${schema}.jobs WHERE dedupe_key = $1 AND state = 'waiting' RETURNING id`,
        [parseDedupeKey(dedupeKey)],
      );
      return rows.length > 0;
    },

    /** One bounded DELETE over `jobs_failed_idx` (migration 012); waiting and active rows are never in it. */
    async pruneFailed(batch: PruneBatch): Promise<number> {
      const { before, limit } = parsePruneBatch(batch);
      if (limit === 0) return 0;
      const { rows } = await sql.query<{ n: number }>(
        `WITH gone AS (
           DELETE FROM ${schema}.jobs WHERE state = 'failed' AND id IN (
             SELECT id FROM ${schema}.jobs WHERE state = 'failed' AND run_at < $1::timestamptz
             ORDER BY run_at LIMIT $2 FOR UPDATE SKIP LOCKED)
           RETURNING 1)
         SELECT count(*)::int AS n FROM gone`,
        [before.toISOString(), limit],
      );
      return rows[0]?.n ?? 0;
    },

    async counts(): Promise<QueueCounts> {
      const { rows } = await sql.query<{ state: keyof QueueCounts; n: number }>(
        `SELECT state, count(*)::int AS n FROM ${schema}.jobs GROUP BY state`,
      );
      const counts: QueueCounts = { waiting: 0, active: 0, failed: 0 };
      for (const row of rows) counts[row.state] = row.n;
      return counts;
    },

    ...(onWake ? { onWake } : {}),
  };
}
