import type { JobInput } from './job-input.js';

export type { JobInput } from './job-input.js';

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

/**
 * A durable job queue with run-at times, leases and dedupe keys.
 * Backoff and attempt rules live in the engine, not in adapters: an adapter
 * only stores what it is told. Every call that takes a lease token does
 * nothing (and returns false) when the token is stale.
 *
 * What a queue accepts is one rule for every adapter (job-input.ts): a job
 * is a `JobInput` (a non-empty name, a JSON payload, a valid runAt, a
 * non-empty dedupe key when it has one), and a dedupe key given to `cancel`
 * is non-empty too; a claim, retry, lease or prune takes whole-number limits,
 * leases above zero and valid Dates. Anything else is refused with a
 * ValidationError before anything is written.
 */
export interface Queue {
  /**
   * Enqueues jobs in one round trip (one statement, one script); returns how
   * many were added (dedupe may drop some). Within one call, a key's first
   * job holds it, and a later `onDuplicate: 'replace'` job replaces it.
   * Every job is parsed first (`parseJobInputs`): one bad job throws a
   * ValidationError naming it (`jobs[2].dedupeKey: must not be empty`) and
   * none of the call's jobs is written. A claim hands the payload back in
   * its JSON form (a Date as its ISO string).
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
  /**
   * Removes a waiting (not running) job by dedupe key; true when one was removed. A key that no
   * job may hold ('', which `enqueue` refuses) throws a ValidationError rather than answering false:
   * it is a caller's bug, not a job that is gone.
   */
  cancel(dedupeKey: string): Promise<boolean>;
  /**
   * `cancel` of several keys at once, true for each key whose waiting job was removed (a key named
   * twice is removed once: its later mention answers false). Optional, as `enqueueEach`. Every key
   * is parsed first, as `cancel`'s: one '' throws (`dedupeKeys[1]: must not be empty`) and nothing
   * is removed.
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
