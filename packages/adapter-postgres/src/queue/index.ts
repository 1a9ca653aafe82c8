import type { ClaimedJob, ClaimOptions, JobInput, PruneBatch, Queue, QueueCounts } from '@herald/core';
import { type PostgresClient, type SqlClient, toSqlClient } from '../sql/client.js';
import { quoteSchema } from '../sql/identifiers.js';

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
 */
export function postgresQueue(options: PostgresQueueOptions): Queue {
  const sql = toSqlClient(options.client);
  const schema = quoteSchema(options.schema ?? 'herald');

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

  return {
    async enqueue(jobs: readonly JobInput[]): Promise<number> {
      if (jobs.length === 0) return 0;
      // One transaction, one statement per job: a later job in the batch may replace an earlier one by dedupe key.
      return sql.transaction(async (tx) => {
        let added = 0;
        for (const job of jobs) {
          const dedupeKey = job.dedupeKey ?? null;
          if (dedupeKey !== null && job.onDuplicate === 'replace') {
            // A waiting holder is replaced (new id, attempts from zero); a running one is never touched.
            await tx.query(`DELETE FROM ${schema}.jobs WHERE dedupe_key = $1 AND state = 'waiting'`, [
              dedupeKey,
            ]);
          }
          const { rows } = await tx.query(
            `INSERT INTO ${schema}.jobs (name, payload, run_at, dedupe_key, state)
             VALUES ($1, $2::text::jsonb, $3::timestamptz, $4, 'waiting')
             ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL AND state IN ('waiting', 'active') DO NOTHING
             RETURNING id`,
            [job.name, JSON.stringify(job.payload ?? null), job.runAt.toISOString(), dedupeKey],
          );
          added += rows.length;
        }
        return added;
      });
    },

    async claim({ limit, leaseMs, now, names }: ClaimOptions): Promise<ClaimedJob[]> {
      if (limit <= 0) return [];
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

    retry: (jobId, token, runAt, error) =>
      withLease(
        jobId,
        token,
        `state = 'waiting', run_at = $3::timestamptz, last_error = $4, lock_token = NULL, locked_until = NULL`,
        [runAt.toISOString(), error],
      ),

    fail: (jobId, token, error) =>
      withLease(jobId, token, `state = 'failed', last_error = $3, lock_token = NULL, locked_until = NULL`, [
        error,
      ]),

    extendLease: (jobId, token, leaseMs, now) =>
      withLease(jobId, token, `locked_until = $3::timestamptz + $4::float8 * interval '1 millisecond'`, [
        now.toISOString(),
        leaseMs,
      ]),

    async cancel(dedupeKey: string): Promise<boolean> {
      const { rows } = await sql.query(
        `DELETE FROM ${schema}.jobs WHERE dedupe_key = $1 AND state = 'waiting' RETURNING id`,
        [dedupeKey],
      );
      return rows.length > 0;
    },

    /** One bounded DELETE over `jobs_failed_idx` (migration 012); waiting and active rows are never in it. */
    async pruneFailed({ before, limit }: PruneBatch): Promise<number> {
      if (limit <= 0) return 0;
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
  };
}
