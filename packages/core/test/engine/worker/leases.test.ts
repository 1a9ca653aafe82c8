import { describe, expect, it } from 'vitest';
import { defaultRetryPolicy } from '../../../src/engine/deliver/backoff.js';
import { JobName, type JobResult } from '../../../src/engine/jobs.js';
import { createWorkerPool, type WorkerOptions } from '../../../src/engine/worker.js';
import { type ClaimedJob, type Logger, memoryQueue, type Queue } from '../../../src/index.js';
import { fakeClock } from '../../../src/testing/index.js';

const T0 = '2026-03-02T09:00:00.000Z';
const SECOND = 1000;
const OPTIONS: WorkerOptions = {
  concurrency: 3,
  leaseMs: 15 * SECOND,
  maxJobAttempts: 10,
  shutdownTimeoutMs: 10 * SECOND,
};

type Line = { level: keyof Logger; message: string; fields?: Record<string, unknown> };

function recordingLogger(lines: Line[]): Logger {
  const at =
    (level: keyof Logger) =>
    (message: string, fields?: Record<string, unknown>): void => {
      lines.push({ level, message, ...(fields ? { fields } : {}) });
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A job runner whose jobs run until the test finishes them, one by one. */
function heldJobs() {
  const started: ClaimedJob[] = [];
  const finishers = new Map<string, () => void>();
  const run = (job: ClaimedJob): Promise<JobResult> => {
    started.push(job);
    return new Promise((resolve) => finishers.set(job.id, () => resolve({ kind: 'done' })));
  };
  const finish = (jobId: string) => finishers.get(jobId)?.();
  return { run, started, finish };
}

/** Real-time turns so the pool's promise chains settle (the fake clock does not move). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

async function setup(jobCount: number, queue: Queue = memoryQueue()) {
  const clock = fakeClock(T0);
  const lines: Line[] = [];
  await queue.enqueue(
    Array.from({ length: jobCount }, (_, index) => ({
      name: JobName.deliverBatch,
      payload: { index },
      runAt: new Date(T0),
    })),
  );
  const ctx = { queue, clock, logger: recordingLogger(lines), retry: defaultRetryPolicy, random: () => 0.5 };
  return { clock, lines, ctx, queue };
}

describe('worker pool: claims, leases, shutdown', () => {
  it('never claims more jobs than it has free slots, and claims one as a slot frees up', async () => {
    const { ctx, queue } = await setup(10);
    const jobs = heldJobs();
    const pool = createWorkerPool(ctx, OPTIONS, jobs.run);

    expect(await pool.fill()).toBe(3);
    expect(await pool.fill()).toBe(0);
    expect(await queue.counts()).toEqual({ waiting: 7, active: 3, failed: 0 });

    jobs.finish(jobs.started[0]?.id ?? '');
    await pool.slotFreed();
    expect(pool.running()).toBe(2);
    expect(await pool.fill()).toBe(1);
    // The finished job is gone; the process holds exactly the three it runs.
    expect(await queue.counts()).toEqual({ waiting: 6, active: 3, failed: 0 });
  });

  it("keeps a running job's short lease alive with a heartbeat every leaseMs / 3", async () => {
    const { ctx, clock, queue } = await setup(1);
    const extended: Date[] = [];
    const watched: Queue = {
      ...queue,
      extendLease: (jobId, token, leaseMs, now) => {
        extended.push(now);
        return queue.extendLease(jobId, token, leaseMs, now);
      },
    };
    const jobs = heldJobs();
    const pool = createWorkerPool({ ...ctx, queue: watched }, OPTIONS, jobs.run);
    const other = createWorkerPool(ctx, OPTIONS, heldJobs().run);
    await pool.fill();

    await clock.advance(60 * SECOND);
    // Four lease lengths later, nobody else can take the job: the holder is alive.
    expect(await other.fill()).toBe(0);
    expect(extended.map((at) => at.getTime() - new Date(T0).getTime())).toEqual(
      Array.from({ length: 12 }, (_, beat) => (beat + 1) * 5 * SECOND),
    );

    jobs.finish(jobs.started[0]?.id ?? '');
    await pool.idle();
    expect(await queue.counts()).toEqual({ waiting: 0, active: 0, failed: 0 });
    expect(clock.pendingSleeps()).toBe(0);
  });

  it('logs a lost lease and leaves the outcome to the new holder', async () => {
    let queueDown = false;
    const base = memoryQueue();
    const flaky: Queue = {
      ...base,
      extendLease: (...args) =>
        queueDown ? Promise.reject(new Error('connection refused')) : base.extendLease(...args),
    };
    const { ctx, clock, lines, queue } = await setup(1, flaky);
    const first = heldJobs();
    const second = heldJobs();
    const pool = createWorkerPool(ctx, OPTIONS, first.run);
    const takeover = createWorkerPool({ ...ctx, queue: base }, OPTIONS, second.run);
    await pool.fill();

    // The holder cannot reach the queue for longer than a lease: its job is taken over.
    queueDown = true;
    await clock.advance(16 * SECOND);
    expect(await takeover.fill()).toBe(1);
    queueDown = false;
    await clock.advance(5 * SECOND);

    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'warn', message: 'job lease lost; its outcome will not be recorded' }),
    );
    first.finish(first.started[0]?.id ?? '');
    await pool.idle();
    // The stale holder's completion was not recorded: the job still runs under its new holder.
    expect(await queue.counts()).toEqual({ waiting: 0, active: 1, failed: 0 });
    expect(lines).toContainEqual(
      expect.objectContaining({
        message: 'job finished after its lease was lost; outcome left to the new holder',
      }),
    );

    second.finish(second.started[0]?.id ?? '');
    await takeover.idle();
    expect(await queue.counts()).toEqual({ waiting: 0, active: 0, failed: 0 });
  });

  it('on drain lets jobs finish within the grace period and gives back the rest for another worker at once', async () => {
    const { ctx, clock, lines, queue } = await setup(3);
    const jobs = heldJobs();
    const pool = createWorkerPool(ctx, OPTIONS, jobs.run);
    await pool.fill();

    const draining = pool.drain();
    await settle();
    // One job ends within the grace period and is completed as usual.
    jobs.finish(jobs.started[0]?.id ?? '');
    await clock.advance(10 * SECOND);
    expect(await draining).toBe(2);
    expect(
      lines.filter((line) => line.message === 'job still running at shutdown; given back to the queue'),
    ).toHaveLength(2);

    const successor = createWorkerPool(ctx, OPTIONS, heldJobs().run);
    // Same instant: no lease to wait out.
    expect(await successor.fill()).toBe(2);
    expect(await queue.counts()).toEqual({ waiting: 0, active: 2, failed: 0 });

    // A given-back job that ends later records nothing over its new holder.
    for (const job of jobs.started.slice(1)) jobs.finish(job.id);
    await pool.idle();
    expect(await queue.counts()).toEqual({ waiting: 0, active: 2, failed: 0 });
  });

  it('drains at once when nothing runs', async () => {
    const { ctx, clock } = await setup(0);
    const pool = createWorkerPool(ctx, OPTIONS, heldJobs().run);
    expect(await pool.drain()).toBe(0);
    expect(clock.pendingSleeps()).toBe(0);
  });
});
