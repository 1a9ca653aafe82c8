import { randomUUID } from 'node:crypto';
import {
  parseClaimOptions,
  parseDedupeKey,
  parseDedupeKeys,
  parseJobInputs,
  parseLease,
  parsePruneBatch,
  parseRetryAt,
} from '../ports/job-input.js';
import type { ClaimedJob, JobInput, Queue } from '../ports/queue.js';

type JobState = 'waiting' | 'active' | 'failed';

interface StoredJob {
  id: string;
  name: string;
  payload: unknown;
  runAt: Date;
  attempts: number;
  state: JobState;
  token: string | null;
  /** When the current lease ends; the job is claimable again from that instant. */
  leaseUntil: Date | null;
  dedupeKey: string | null;
  lastError: string | null;
  /** Enqueue order, the tie-breaker between equal runAt. */
  seq: number;
}

/**
 * A queue in process memory, for tests and single-process hosts. It keeps
 * the port's rules to the letter, so it doubles as their executable spec:
 *
 * - `claim` takes waiting jobs with runAt <= now and active jobs whose lease
 *   ended (leaseUntil <= now), oldest runAt first (enqueue order on ties),
 *   and gives each a fresh random token; `attempts` counts every claim.
 * - A token stays valid until the job is claimed again or leaves the active
 *   state; calls with any other token do nothing and return false.
 * - A dedupe key is held while its job is waiting or active. A duplicate is
 *   ignored, or with `onDuplicate: 'replace'` replaces a waiting job (new id,
 *   new payload and runAt, attempts from zero). A running job is never
 *   replaced: 'replace' is ignored then too, since the worker holding it
 *   cannot be told. Completing, failing or cancelling frees the key.
 * - `fail` keeps the job as failed, out of every claim, for inspection,
 *   until `pruneFailed` removes it: failed jobs whose runAt (the last run's
 *   due instant) is before the cutoff, oldest first.
 * - `onWake` listeners are called after an enqueue that added a job.
 * - Input is parsed before anything changes (job-input.ts): a bad job
 *   refuses its whole call, and a payload is kept in its JSON form, the one
 *   Postgres and Redis store (a Date in it comes back as its ISO string).
 */
export function memoryQueue(): Queue {
  const jobs = new Map<string, StoredJob>();
  const wakeListeners = new Set<() => void>();
  let seq = 0;

  const holderOf = (dedupeKey: string): StoredJob | undefined => {
    for (const job of jobs.values()) {
      if (job.dedupeKey === dedupeKey && job.state !== 'failed') return job;
    }
    return undefined;
  };

  /** The active job with this id and token, or undefined when the token is stale. */
  const leased = (jobId: string, token: string): StoredJob | undefined => {
    const job = jobs.get(jobId);
    return job && job.state === 'active' && job.token === token ? job : undefined;
  };

  const release = (job: StoredJob) => {
    job.token = null;
    job.leaseUntil = null;
  };

  const cancelOne = (dedupeKey: string): boolean => {
    const holder = holderOf(dedupeKey);
    if (holder?.state !== 'waiting') return false;
    return jobs.delete(holder.id);
  };

  /** Adds the jobs one after the other by the dedupe rules; the id of each job added, null for one dropped. */
  const insert = (inputs: readonly JobInput[]): Array<string | null> => {
    const parsed = parseJobInputs(inputs);
    const ids = parsed.map((input): string | null => {
      const dedupeKey = input.dedupeKey ?? null;
      if (dedupeKey !== null) {
        const holder = holderOf(dedupeKey);
        if (holder) {
          if (input.onDuplicate !== 'replace' || holder.state !== 'waiting') return null;
          jobs.delete(holder.id);
        }
      }
      const job: StoredJob = {
        id: randomUUID(),
        name: input.name,
        payload: JSON.parse(JSON.stringify(input.payload)),
        runAt: new Date(input.runAt),
        attempts: 0,
        state: 'waiting',
        token: null,
        leaseUntil: null,
        dedupeKey,
        lastError: null,
        seq: seq++,
      };
      jobs.set(job.id, job);
      return job.id;
    });
    if (ids.some((id) => id !== null)) for (const listener of [...wakeListeners]) listener();
    return ids;
  };

  return {
    async enqueue(inputs: readonly JobInput[]) {
      return insert(inputs).filter((id) => id !== null).length;
    },

    async enqueueEach(inputs: readonly JobInput[]) {
      // A job that a later 'replace' of the same call took the place of is not in the queue.
      return insert(inputs).map((id) => id !== null && jobs.has(id));
    },

    async claim(options) {
      const { limit, leaseMs, now, names } = parseClaimOptions(options);
      const due = [...jobs.values()]
        .filter(
          (job) =>
            (names === undefined || names.includes(job.name)) &&
            ((job.state === 'waiting' && job.runAt <= now) ||
              (job.state === 'active' && job.leaseUntil !== null && job.leaseUntil <= now)),
        )
        .sort((a, b) => a.runAt.getTime() - b.runAt.getTime() || a.seq - b.seq)
        .slice(0, Math.max(0, limit));
      return due.map((job): ClaimedJob => {
        job.state = 'active';
        job.attempts += 1;
        job.token = randomUUID();
        job.leaseUntil = new Date(now.getTime() + leaseMs);
        return {
          id: job.id,
          name: job.name,
          payload: structuredClone(job.payload),
          runAt: new Date(job.runAt),
          attempts: job.attempts,
          token: job.token,
          dedupeKey: job.dedupeKey,
        };
      });
    },

    async complete(jobId, token) {
      if (!leased(jobId, token)) return false;
      return jobs.delete(jobId);
    },

    async retry(jobId, token, at, error) {
      const runAt = parseRetryAt(at);
      const job = leased(jobId, token);
      if (!job) return false;
      release(job);
      job.state = 'waiting';
      job.runAt = new Date(runAt);
      job.lastError = error;
      return true;
    },

    async fail(jobId, token, error) {
      const job = leased(jobId, token);
      if (!job) return false;
      release(job);
      job.state = 'failed';
      job.lastError = error;
      return true;
    },

    async extendLease(jobId, token, ms, at) {
      const { leaseMs, now } = parseLease(ms, at);
      const job = leased(jobId, token);
      if (!job) return false;
      job.leaseUntil = new Date(now.getTime() + leaseMs);
      return true;
    },

    async cancel(dedupeKey) {
      return cancelOne(parseDedupeKey(dedupeKey));
    },

    async cancelEach(dedupeKeys) {
      return parseDedupeKeys(dedupeKeys).map(cancelOne);
    },

    async pruneFailed(batch) {
      const { before, limit } = parsePruneBatch(batch);
      const old = [...jobs.values()]
        .filter((job) => job.state === 'failed' && job.runAt < before)
        .sort((a, b) => a.runAt.getTime() - b.runAt.getTime() || a.seq - b.seq)
        .slice(0, Math.max(0, limit));
      for (const job of old) jobs.delete(job.id);
      return old.length;
    },

    async counts() {
      const counts = { waiting: 0, active: 0, failed: 0 };
      for (const job of jobs.values()) counts[job.state] += 1;
      return counts;
    },

    onWake(listener) {
      // Wrapped, so one listener subscribed twice is two subscriptions, each removed on its own.
      const entry = () => listener();
      wakeListeners.add(entry);
      return () => {
        wakeListeners.delete(entry);
      };
    },
  };
}
