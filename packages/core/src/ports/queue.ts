/**
 * A durable job queue with run-at times, leases and dedupe keys.
 * Backoff and attempt rules live in the engine, not in adapters: an adapter
 * only stores what it is told. Every call that takes a lease token does
 * nothing (and returns false) when the token is stale.
 */
export interface JobInput {
  /** What kind of job; workers dispatch on it. */
  name: string;
  /** JSON-serialisable; parsed by the worker with a zod schema. */
  payload: unknown;
  runAt: Date;
  /**
   * At most one unfinished job per dedupe key: enqueueing a key that is
   * already waiting or running is ignored (or replaces the waiting job with
   * `onDuplicate: 'replace'`). Once the job completes the key is free again.
   */
  dedupeKey?: string;
  onDuplicate?: 'ignore' | 'replace';
}

export interface ClaimedJob {
  id: string;
  name: string;
  payload: unknown;
  runAt: Date;
  /** How many times this job has been claimed, this claim included. */
  attempts: number;
  /** Proof of the lease; complete / retry / fail / extendLease need it. */
  token: string;
  dedupeKey: string | null;
}

export interface ClaimOptions {
  limit: number;
  leaseMs: number;
  now: Date;
  /** Only jobs with these names; all when absent. */
  names?: readonly string[];
}

/** One bounded batch of a retention pass: rows older than `before`, at most `limit` of them. */
export interface PruneBatch {
  before: Date;
  limit: number;
}

export interface QueueCounts {
  waiting: number;
  active: number;
  failed: number;
}

export interface Queue {
  /**
   * Enqueues jobs in one round trip (one statement, one script); returns how
   * many were added (dedupe may drop some). Within one call, a key's first
   * job holds it, and a later `onDuplicate: 'replace'` job replaces it.
   */
  enqueue(jobs: readonly JobInput[]): Promise<number>;
  /**
   * `enqueue`, telling for each job whether it was added (false: its key was held, or a later job of
   * the call took its key). Optional: the engine falls back to one `enqueue` per job, so a queue
   * without it works, with a statement per job where one would do.
   */
  enqueueEach?(jobs: readonly JobInput[]): Promise<boolean[]>;
  /** Leases up to `limit` jobs whose runAt <= now, or whose lease expired. Oldest runAt first. */
  claim(options: ClaimOptions): Promise<ClaimedJob[]>;
  complete(jobId: string, token: string): Promise<boolean>;
  /** Puts the job back to run at `runAt`, keeping its attempt count. */
  retry(jobId: string, token: string, runAt: Date, error: string): Promise<boolean>;
  /** Gives up on the job for good (kept for inspection as failed). */
  fail(jobId: string, token: string, error: string): Promise<boolean>;
  extendLease(jobId: string, token: string, leaseMs: number, now: Date): Promise<boolean>;
  /** Removes a waiting (not running) job by dedupe key; true when one was removed. */
  cancel(dedupeKey: string): Promise<boolean>;
  /**
   * `cancel` of several keys at once, true for each key whose waiting job was removed (a key named
   * twice is removed once: its later mention answers false). Optional, as `enqueueEach`.
   */
  cancelEach?(dedupeKeys: readonly string[]): Promise<boolean[]>;
  counts(): Promise<QueueCounts>;
  /**
   * Deletes up to `limit` failed jobs whose last run was due before `before`
   * (their `runAt`); returns how many. Waiting and active jobs are never
   * touched. A retention pass calls it until it returns less than `limit`.
   */
  pruneFailed(batch: PruneBatch): Promise<number>;
  /**
   * Calls `listener` soon after jobs are enqueued on this queue by any
   * process sharing it, so an idle worker claims them within milliseconds
   * instead of at its next poll; returns a function that stops listening.
   * A hint, not a guarantee: a notice can be lost (a dropped connection,
   * a job due later), so workers keep polling as well. Optional: a queue
   * without it is polled only.
   */
  onWake?(listener: () => void): () => void;
}
