import { HeraldError } from '../errors/index.js';
import type { ClaimedJob } from '../ports/index.js';
import { mapLimit } from './collections.js';
import type { EngineContext } from './context.js';
import { backoffDelay, deliverBatch, redeliver } from './deliver/index.js';
import { fanOutPage } from './fanout/index.js';
import {
  AudiencePageJob,
  DeliverBatchJob,
  JobName,
  type JobResult,
  LiveFireJob,
  RedeliverJob,
} from './jobs.js';
import { fireLive } from './triggers/index.js';

const JOB_NAMES = Object.values(JobName);

export interface WorkerOptions {
  /** Jobs claimed per pass. */
  claimLimit: number;
  /** Jobs run at once. */
  concurrency: number;
  /** How long a claimed job is ours before another worker may take it over. */
  leaseMs: number;
  /** Attempts of a job that throws before it is failed for good. */
  maxJobAttempts: number;
}

async function dispatch(ctx: EngineContext, job: ClaimedJob): Promise<JobResult> {
  switch (job.name) {
    case JobName.audiencePage:
      return fanOutPage(ctx, AudiencePageJob.parse(job.payload));
    case JobName.deliverBatch:
      return deliverBatch(ctx, DeliverBatchJob.parse(job.payload));
    case JobName.redeliver:
      return redeliver(ctx, RedeliverJob.parse(job.payload));
    case JobName.liveFire:
      return fireLive(ctx, LiveFireJob.parse(job.payload));
    default:
      throw new Error(`unknown job ${job.name}`);
  }
}

/** Claims and runs one pass of due jobs; returns how many were claimed. */
export async function runWorkerPass(ctx: EngineContext, options: WorkerOptions): Promise<number> {
  const jobs = await ctx.queue.claim({
    limit: options.claimLimit,
    leaseMs: options.leaseMs,
    now: ctx.clock.now(),
    names: JOB_NAMES,
  });
  await mapLimit(jobs, options.concurrency, (job) => runJob(ctx, job, options));
  return jobs.length;
}

async function runJob(ctx: EngineContext, job: ClaimedJob, options: WorkerOptions): Promise<void> {
  try {
    const result = await dispatch(ctx, job);
    if (result.kind === 'later') await ctx.queue.retry(job.id, job.token, result.runAt, 'postponed');
    else await ctx.queue.complete(job.id, job.token);
  } catch (error) {
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
      await ctx.queue.fail(job.id, job.token, message).catch(() => undefined);
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
    await ctx.queue.retry(job.id, job.token, runAt, message).catch(() => undefined);
  }
}
