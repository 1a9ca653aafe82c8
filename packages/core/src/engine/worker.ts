import { HeraldError } from '../errors/index.js';
import type { ClaimedJob } from '../ports/index.js';
import type { EngineContext } from './context.js';
import { backoffDelay, deliverBatch, redeliverGroup } from './deliver/index.js';
import { fanOutPage } from './fanout/index.js';
import {
  AudiencePageJob,
  DeliverBatchJob,
  JobName,
  type JobResult,
  LiveFireJob,
  RedeliverGroupJob,
  RedeliverJob,
  redeliveryGroupOf,
} from './jobs.js';
import { fireLive } from './triggers/index.js';

const JOB_NAMES = Object.values(JobName);

export interface WorkerOptions {
  /**
   * @deprecated Ignored: a worker claims only as many jobs as it has free
   * slots (`concurrency`), so a killed or busy process never holds work it
   * has not begun.
   */
  claimLimit?: number;
  /** Jobs run at once, and so the most jobs a process holds. */
  concurrency: number;
  /**
   * How long a claim lasts without a heartbeat. The holder extends it every
   * leaseMs / 3 while the job runs, so this is how soon a killed worker's jobs
   * are taken over, not a bound on how long a job may run.
   */
  leaseMs: number;
  /** Attempts of a job that throws before it is failed for good. */
  maxJobAttempts: number;
  /** How long `stop()` lets running jobs finish before giving them back to the queue. */
  shutdownTimeoutMs: number;
}

/** What the worker needs from the engine: a narrow slice, so tests can drive it with any job runner. */
export type WorkerContext = Pick<EngineContext, 'queue' | 'clock' | 'logger' | 'retry' | 'random'>;
export type RunJob = (job: ClaimedJob) => Promise<JobResult>;

export function dispatchJob(ctx: EngineContext): RunJob {
  return (job) => {
    switch (job.name) {
      case JobName.audiencePage:
        return fanOutPage(ctx, AudiencePageJob.parse(job.payload));
      case JobName.deliverBatch:
        return deliverBatch(ctx, DeliverBatchJob.parse(job.payload));
      case JobName.redeliver:
        return redeliverGroup(ctx, redeliveryGroupOf(RedeliverJob.parse(job.payload)));
      case JobName.redeliverGroup:
        return redeliverGroup(ctx, RedeliverGroupJob.parse(job.payload));
      case JobName.liveFire:
        return fireLive(ctx, LiveFireJob.parse(job.payload));
      default:
        return Promise.reject(new Error(`unknown job ${job.name}`));
    }
  };
}

/**
 * Runs jobs in at most `concurrency` slots, claiming one job per free slot as
 * slots free up. Each running job's lease is kept alive by a heartbeat; on
 * stop, jobs that outlive the grace period are handed back to the queue.
 */
export interface WorkerPool {
  /** Claims as many due jobs as there are free slots and starts them; returns how many. */
  fill(): Promise<number>;
  /** How many jobs are running now. */
  running(): number;
  /** Resolves when a slot frees up (at once when none is taken), or when `signal` aborts. */
  slotFreed(signal?: AbortSignal): Promise<void>;
  /** Resolves when every running job has finished. */
  idle(): Promise<void>;
  /**
   * Waits up to shutdownTimeoutMs for running jobs, then gives back the rest
   * (due again now, lease dropped) so another worker takes them at once.
   * Returns how many were given back.
   */
  drain(): Promise<number>;
}

interface Running {
  job: ClaimedJob;
  done: Promise<void>;
  /** Set once the job is no longer ours: its outcome must not be recorded. */
  lost: boolean;
  stopHeartbeat: AbortController;
}

export function createWorkerPool(ctx: WorkerContext, options: WorkerOptions, run: RunJob): WorkerPool {
  const slots = Math.max(1, Math.floor(options.concurrency));
  const running = new Map<string, Running>();

  async function heartbeat(entry: Running): Promise<void> {
    const signal = entry.stopHeartbeat.signal;
    const every = Math.max(1, Math.floor(options.leaseMs / 3));
    for (;;) {
      await ctx.clock.sleep(every, signal);
      if (signal.aborted) return;
      try {
        const kept = await ctx.queue.extendLease(
          entry.job.id,
          entry.job.token,
          options.leaseMs,
          ctx.clock.now(),
        );
        if (signal.aborted) return;
        if (!kept) {
          entry.lost = true;
          ctx.logger.warn('job lease lost; its outcome will not be recorded', {
            job: entry.job.name,
            jobId: entry.job.id,
          });
          return;
        }
      } catch (error) {
        // A queue hiccup: try again next beat; the lease has two more beats of margin.
        ctx.logger.warn('job lease extension failed', {
          job: entry.job.name,
          jobId: entry.job.id,
          message: (error as Error).message,
        });
      }
    }
  }

  async function settle(entry: Running, record: () => Promise<boolean>): Promise<void> {
    if (entry.lost) {
      ctx.logger.warn('job finished after its lease was lost; outcome left to the new holder', {
        job: entry.job.name,
        jobId: entry.job.id,
      });
      return;
    }
    const recorded = await record();
    if (!recorded) {
      ctx.logger.warn('job outcome not recorded: lease no longer held', {
        job: entry.job.name,
        jobId: entry.job.id,
      });
    }
  }

  async function runOne(entry: Running): Promise<void> {
    const { job } = entry;
    const beating = heartbeat(entry);
    try {
      const result = await run(job);
      entry.stopHeartbeat.abort();
      await beating;
      if (result.kind === 'later')
        await settle(entry, () => ctx.queue.retry(job.id, job.token, result.runAt, 'postponed'));
      else await settle(entry, () => ctx.queue.complete(job.id, job.token));
    } catch (error) {
      entry.stopHeartbeat.abort();
      await beating;
      const message = error instanceof Error ? error.message : String(error);
      const code = error instanceof HeraldError ? error.code : 'unexpected';
      if (job.attempts >= options.maxJobAttempts) {
        ctx.logger.error('job failed for good', {
          job: job.name,
          jobId: job.id,
          attempts: job.attempts,
          code,
          message,
        });
        await settle(entry, () => ctx.queue.fail(job.id, job.token, message)).catch(() => undefined);
        return;
      }
      const runAt = new Date(ctx.clock.now().getTime() + backoffDelay(ctx.retry, job.attempts, ctx.random));
      ctx.logger.warn('job failed; will retry', {
        job: job.name,
        jobId: job.id,
        attempts: job.attempts,
        code,
        message,
      });
      // If the queue itself is down the lease simply expires and the job is claimed again.
      await settle(entry, () => ctx.queue.retry(job.id, job.token, runAt, message)).catch(() => undefined);
    } finally {
      running.delete(job.id);
    }
  }

  function start(job: ClaimedJob): void {
    const entry: Running = {
      job,
      done: Promise.resolve(),
      lost: false,
      stopHeartbeat: new AbortController(),
    };
    running.set(job.id, entry);
    entry.done = runOne(entry).catch((error: unknown) => {
      ctx.logger.error('job runner failed', { jobId: job.id, message: (error as Error).message });
    });
  }

  const anyDone = (): Promise<void> =>
    running.size === 0 ? Promise.resolve() : Promise.race([...running.values()].map((entry) => entry.done));
  const idle = async (): Promise<void> => {
    while (running.size > 0) await anyDone();
  };

  return {
    async fill() {
      const free = slots - running.size;
      if (free <= 0) return 0;
      const jobs = await ctx.queue.claim({
        limit: free,
        leaseMs: options.leaseMs,
        now: ctx.clock.now(),
        names: JOB_NAMES,
      });
      for (const job of jobs) start(job);
      return jobs.length;
    },
    running: () => running.size,
    slotFreed(signal) {
      if (running.size === 0 || signal?.aborted) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const done = () => {
          signal?.removeEventListener('abort', done);
          resolve();
        };
        signal?.addEventListener('abort', done, { once: true });
        void anyDone().then(done);
      });
    },
    idle,
    async drain() {
      if (running.size === 0) return 0;
      const timeUp = new AbortController();
      const allDone = idle().then(() => timeUp.abort());
      await Promise.race([allDone, ctx.clock.sleep(options.shutdownTimeoutMs, timeUp.signal)]);
      timeUp.abort();
      let released = 0;
      for (const entry of [...running.values()]) {
        if (entry.lost) continue;
        // Ours no longer, whatever the queue answers: the job's own outcome must not land on top.
        entry.lost = true;
        entry.stopHeartbeat.abort();
        const given = await ctx.queue
          .retry(entry.job.id, entry.job.token, ctx.clock.now(), 'released at shutdown')
          .catch(() => false);
        if (given) released += 1;
        ctx.logger.warn('job still running at shutdown; given back to the queue', {
          job: entry.job.name,
          jobId: entry.job.id,
          released: given,
        });
      }
      return released;
    },
  };
}

/** Claims and runs one pass of due jobs (one per slot, run to the end); returns how many were claimed. */
export async function runWorkerPass(pool: WorkerPool): Promise<number> {
  const claimed = await pool.fill();
  await pool.idle();
  return claimed;
}
