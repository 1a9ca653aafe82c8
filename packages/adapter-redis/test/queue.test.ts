import { randomUUID } from 'node:crypto';
import type { ClaimedJob, JobInput, Queue } from '@herald/core';
import { memoryQueue } from '@herald/core';
import { fixtures } from '@herald/core/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { redisQueue } from '../src/index.js';
import { cancelScript, enqueueScript } from '../src/queue/scripts.js';
import { clearPrefix, connect, uniquePrefix } from './support/redis.js';

const { T0, at, MINUTE } = fixtures;
const SECOND = 1000;
const prefix = uniquePrefix('queue');
const base = `${prefix}:queue:`;

let connection: Redis;
let other: Redis;
let queue: Queue;

beforeAll(async () => {
  connection = await connect();
  other = await connect();
  queue = redisQueue({ connection, prefix });
});
beforeEach(() => clearPrefix(connection, prefix));
afterAll(async () => {
  await clearPrefix(connection, prefix);
  connection.disconnect();
  other.disconnect();
});

describe('redisQueue', () => {
  it('hands out jobs with equal runAt in enqueue order, across calls and names', async () => {
    await queue.enqueue([{ name: 'b', payload: 1, runAt: T0 }]);
    await queue.enqueue([
      { name: 'a', payload: 2, runAt: T0 },
      { name: 'b', payload: 3, runAt: T0 },
    ]);
    await queue.enqueue([{ name: 'a', payload: 0, runAt: at(-1) }]);
    const claimed = await queue.claim({ limit: 10, leaseMs: SECOND, now: T0 });
    expect(claimed.map((j) => j.payload)).toEqual([0, 1, 2, 3]);
  });

  it('merges several names and expired leases by runAt when claiming with a names filter', async () => {
    await queue.enqueue([
      { name: 'deliver', payload: 'd1', runAt: at(1) },
      { name: 'fanout', payload: 'f1', runAt: at(2) },
      { name: 'other', payload: 'o1', runAt: at(0) },
      { name: 'deliver', payload: 'd2', runAt: at(3) },
    ]);
    const leased = await queue.claim({ limit: 1, leaseMs: SECOND, now: at(3), names: ['deliver'] });
    expect(leased.map((j) => j.payload)).toEqual(['d1']);
    // d1's lease ended at 3 + 1s: it is due again, and older than f1 and d2.
    const names = ['fanout', 'deliver', 'fanout'];
    const claimed = await queue.claim({ limit: 10, leaseMs: SECOND, now: at(SECOND + 3), names });
    expect(claimed.map((j) => [j.payload, j.attempts])).toEqual([
      ['d1', 2],
      ['f1', 1],
      ['d2', 1],
    ]);
    expect(await queue.claim({ limit: 10, leaseMs: SECOND, now: at(SECOND + 3), names: [] })).toEqual([]);
    expect(await queue.counts()).toEqual({ waiting: 1, active: 3, failed: 0 });
  });

  it('lets the holder of an expired lease finish the job until someone claims it again', async () => {
    await queue.enqueue([{ name: 'a', payload: null, runAt: T0 }]);
    const [job] = await queue.claim({ limit: 1, leaseMs: SECOND, now: T0 });
    expect(await queue.extendLease(job!.id, job!.token, SECOND, at(5 * SECOND))).toBe(true);
    expect(await queue.claim({ limit: 1, leaseMs: SECOND, now: at(5 * SECOND + 999) })).toEqual([]);
    expect(await queue.complete(job!.id, job!.token)).toBe(true);
  });

  it('round-trips payloads JSON can carry, and reads an undefined payload an earlier version stored', async () => {
    const payloads = [null, 0, '', 'text', [1, 'two'], { deep: { list: [true, null] } }];
    await queue.enqueue(payloads.map((payload, i) => ({ name: 'p', payload, runAt: at(i + 1) })));
    // Before JobInput refused it, an undefined payload went in as '' (the script takes it as it is).
    await enqueueScript(connection, [], [base, randomUUID(), 'p', '', String(T0.getTime()), '', 'ignore']);
    const claimed = await queue.claim({ limit: 10, leaseMs: SECOND, now: at(10) });
    expect(claimed.map((j) => j.payload)).toEqual([undefined, ...payloads]);
  });

  it('keeps a failed job, its error and its attempts in Redis for inspection', async () => {
    await queue.enqueue([{ name: 'a', payload: { n: 1 }, runAt: T0, dedupeKey: 'k' }]);
    const first = await claimOne(T0);
    await queue.retry(first.id, first.token, at(MINUTE), 'first try: 503');
    const second = await claimOne(at(MINUTE));
    expect(await queue.fail(second.id, second.token, 'gave up: 400')).toBe(true);
    const stored = await other.hgetall(`${base}job:${second.id}`);
    expect(stored).toMatchObject({ state: 'failed', attempts: '2', error: 'gave up: 400', token: '' });
    expect(JSON.parse(stored.payload!)).toEqual({ n: 1 });
    expect(await other.zrange(`${base}failed`, 0, -1)).toEqual([second.id]);
    expect(await other.hget(`${base}dedupe`, 'k')).toBeNull();
  });

  it('leaves no job keys behind once jobs complete or are cancelled', async () => {
    await queue.enqueue([
      { name: 'a', payload: 1, runAt: T0, dedupeKey: 'x' },
      { name: 'b', payload: 2, runAt: at(MINUTE), dedupeKey: 'y' },
    ]);
    const [a] = await queue.claim({ limit: 1, leaseMs: SECOND, now: T0 });
    await queue.complete(a!.id, a!.token);
    await queue.cancel('y');
    const keys = await other.keys(`${base}*`);
    // Only the id counter and the replay records of recent calls remain.
    expect(keys.filter((key) => !key.startsWith(`${base}req:`))).toEqual([`${base}seq`]);
  });

  it('answers a resent enqueue from its first run instead of adding the jobs twice', async () => {
    // ioredis resends a command that was in flight when the connection dropped;
    // the resend carries the same request id as the first send.
    const args = [base, randomUUID(), 'a', '1', String(T0.getTime()), '', 'ignore'];
    expect(await enqueueScript(connection, [], args)).toEqual([1]);
    expect(await enqueueScript(connection, [], args)).toEqual([1]);
    expect(await queue.counts()).toEqual({ waiting: 1, active: 0, failed: 0 });
  });

  it("honours the connection's keyPrefix", async () => {
    const prefixed = await connect({ keyPrefix: `${prefix}:outer:` });
    try {
      const inner = redisQueue({ connection: prefixed, prefix: 'inner' });
      await inner.enqueue([{ name: 'a', payload: 1, runAt: T0 }]);
      expect(await other.zcard(`${prefix}:outer:inner:queue:waiting`)).toBe(1);
      expect(await inner.counts()).toEqual({ waiting: 1, active: 0, failed: 0 });
    } finally {
      prefixed.disconnect();
    }
  });

  it('rejects input it cannot store faithfully', async () => {
    await expect(
      queue.enqueue([{ name: 'a', payload: 1, runAt: new Date(Number.NaN) }]),
    ).rejects.toMatchObject({
      code: 'validation_failed',
      issues: [{ path: 'jobs[0].runAt' }],
    });
    await expect(queue.enqueue([{ name: 'a', payload: 10n, runAt: T0 }])).rejects.toMatchObject({
      code: 'validation_failed',
      issues: [{ path: 'jobs[0].payload' }],
    });
    await expect(queue.claim({ limit: 1, leaseMs: 0, now: T0 })).rejects.toMatchObject({
      code: 'validation_failed',
    });
    expect(await queue.counts()).toEqual({ waiting: 0, active: 0, failed: 0 });
  });

  it('two connections claiming 500 jobs in a loop never hand out the same job twice', async () => {
    const jobs = Array.from({ length: 500 }, (_, i) => ({
      name: i % 2 ? 'odd' : 'even',
      payload: i,
      runAt: at(i),
    }));
    expect(await queue.enqueue(jobs)).toBe(500);
    const second = redisQueue({ connection: other, prefix });
    const drain = async (claimer: Queue, names?: string[]) => {
      const got: ClaimedJob[] = [];
      for (;;) {
        const batch = await claimer.claim({
          limit: 7,
          leaseMs: MINUTE,
          now: at(500),
          ...(names ? { names } : {}),
        });
        if (batch.length === 0) return got;
        got.push(...batch);
      }
    };
    const started = performance.now();
    const results = await Promise.all([
      drain(queue),
      drain(second),
      drain(queue, ['odd']),
      drain(second, ['even']),
    ]);
    const elapsed = performance.now() - started;
    const payloads = results.flat().map((j) => j.payload as number);
    expect(payloads).toHaveLength(500);
    expect(new Set(payloads).size).toBe(500);
    expect(results.flat().every((j) => j.attempts === 1)).toBe(true);
    expect(await queue.counts()).toEqual({ waiting: 0, active: 500, failed: 0 });
    console.info(`500 jobs claimed by 4 claimers on 2 connections in ${elapsed.toFixed(0)} ms`);
  });

  it('does not close the connection it was given', async () => {
    await queue.counts();
    expect(connection.status).toBe('ready');
  });
});

/**
 * enqueueEach and cancelEach send 500 jobs (or keys) a script; a call of more is several scripts.
 * memoryQueue, the port's executable spec, gets the same calls and must give the same answers.
 */
describe('redisQueue enqueueEach and cancelEach', () => {
  const CHUNK = 500;

  /** Both queues, each holding a waiting job under `waiting` and a running one under `running`. */
  async function bothWithHolders(): Promise<Queue[]> {
    const spec = memoryQueue();
    for (const each of [queue, spec]) {
      await each.enqueue([
        { name: 'held', payload: 'running', runAt: T0, dedupeKey: 'running' },
        { name: 'held', payload: 'waiting', runAt: at(MINUTE), dedupeKey: 'waiting' },
      ]);
      expect((await each.claim({ limit: 1, leaseMs: MINUTE, now: T0 })).map((j) => j.payload)).toEqual([
        'running',
      ]);
    }
    return [queue, spec];
  }

  const scriptCalls = async () => (await other.keys(`${base}req:*`)).length;

  it('answers like memoryQueue across chunk boundaries: keys named again in later chunks, replaced or not', async () => {
    const [redis, spec] = await bothWithHolders();
    // 1,300 jobs, three scripts. Keys k0..k399 come back 500 and 1,000 jobs later (other chunks),
    // every third time with 'replace'; every seventh job has no key; the held keys are named too.
    const jobs: JobInput[] = Array.from({ length: 1300 }, (_, i) => ({
      name: i % 2 ? 'odd' : 'even',
      payload: i,
      runAt: at(i % 50),
      ...(i % 7 === 3 ? {} : { dedupeKey: `k${i % CHUNK}`, onDuplicate: i % 3 === 0 ? 'replace' : 'ignore' }),
    }));
    jobs.splice(
      CHUNK - 1,
      2,
      { name: 'odd', payload: 'replace-running', runAt: T0, dedupeKey: 'running', onDuplicate: 'replace' },
      { name: 'odd', payload: 'replace-waiting', runAt: T0, dedupeKey: 'waiting', onDuplicate: 'replace' },
    );
    const before = await scriptCalls();
    const answers = await redis!.enqueueEach!(jobs);
    expect(await scriptCalls()).toBe(before + 3);
    const expected = await spec!.enqueueEach!(jobs);
    expect(answers).toEqual(expected);
    // Both kinds of answer across the boundaries, not a degenerate all-true or all-false.
    expect(answers.slice(CHUNK).filter(Boolean).length).toBeGreaterThan(100);
    expect(answers.slice(CHUNK).filter((added) => !added).length).toBeGreaterThan(100);
    expect(answers.slice(CHUNK - 1, CHUNK + 1)).toEqual([false, true]);

    const drain = async (each: Queue) =>
      (await each.claim({ limit: 2000, leaseMs: MINUTE, now: at(SECOND) })).map((j) => j.payload);
    const queued = await drain(redis!);
    expect(queued).toEqual(await drain(spec!));
    // Exactly the jobs answered true are waiting (the running holder's lease has not ended).
    const asSortedText = (payloads: unknown[]) => payloads.map(String).sort();
    expect(asSortedText(queued)).toEqual(
      asSortedText(jobs.filter((_, i) => answers[i]).map((job) => job.payload)),
    );
    expect(await redis!.counts()).toEqual(await spec!.counts());
  });

  it('cancels like memoryQueue across chunk boundaries: a key named twice once, a running job never', async () => {
    const [redis, spec] = await bothWithHolders();
    const jobs = Array.from({ length: 800 }, (_, i) => ({
      name: 'timer',
      payload: i,
      runAt: at(MINUTE),
      dedupeKey: `k${i}`,
    }));
    for (const each of [redis!, spec!]) await each.enqueue(jobs);
    // 1,201 keys, three scripts: k0..k799 once each, k0..k299 again in the third chunk, k400 twice
    // within the first chunk, keys never enqueued, the running and the waiting holder.
    const keys = [
      ...jobs.map((job) => job.dedupeKey),
      ...Array.from({ length: 300 }, (_, i) => `k${i}`),
      'running',
      'waiting',
      'never',
    ];
    keys.splice(450, 0, 'k400');
    keys.splice(600, 0, 'running', 'never-either');
    const before = await scriptCalls();
    const removed = await redis!.cancelEach!(keys);
    expect(await scriptCalls()).toBe(before + 3);
    expect(removed).toEqual(await spec!.cancelEach!(keys));
    expect(removed.filter(Boolean)).toHaveLength(801); // k0..k799 and the waiting holder
    expect(removed[450]).toBe(false); // k400 again, in the same script
    expect(await redis!.counts()).toEqual({ waiting: 0, active: 1, failed: 0 });
    expect(await other.hkeys(`${base}dedupe`)).toEqual(['running']);
  });

  it("never adds over or cancels a running job's key, with 'replace' or without", async () => {
    await queue.enqueue([{ name: 'a', payload: 1, runAt: T0, dedupeKey: 'k' }]);
    const running = await claimOne(T0);
    expect(
      await queue.enqueueEach!([
        { name: 'a', payload: 2, runAt: T0, dedupeKey: 'k' },
        { name: 'a', payload: 3, runAt: T0, dedupeKey: 'k', onDuplicate: 'replace' },
      ]),
    ).toEqual([false, false]);
    expect(await queue.cancelEach!(['k', 'k'])).toEqual([false, false]);
    expect(await queue.counts()).toEqual({ waiting: 0, active: 1, failed: 0 });
    // Once it completes, the key is free for the next job.
    expect(await queue.complete(running.id, running.token)).toBe(true);
    expect(await queue.enqueueEach!([{ name: 'a', payload: 4, runAt: T0, dedupeKey: 'k' }])).toEqual([true]);
  });

  it('answers a resent cancel from its first run, and a resent enqueue with its per-job flags', async () => {
    await queue.enqueue([{ name: 'a', payload: 1, runAt: at(MINUTE), dedupeKey: 'k' }]);
    const cancelArgs = [base, randomUUID(), 'k', 'k'];
    expect(await cancelScript(connection, [], cancelArgs)).toEqual([1, 0]);
    // A job under the key again: a second run would remove it, a resend must not.
    await queue.enqueue([{ name: 'a', payload: 2, runAt: at(MINUTE), dedupeKey: 'k' }]);
    expect(await cancelScript(connection, [], cancelArgs)).toEqual([1, 0]);
    expect(await queue.counts()).toEqual({ waiting: 1, active: 0, failed: 0 });

    const job = (payload: string, onDuplicate: string) => [
      'a',
      payload,
      String(T0.getTime()),
      'r',
      onDuplicate,
    ];
    const enqueueArgs = [base, randomUUID(), ...job('"first"', 'ignore'), ...job('"second"', 'replace')];
    expect(await enqueueScript(connection, [], enqueueArgs)).toEqual([1, 1]);
    expect(await enqueueScript(connection, [], enqueueArgs)).toEqual([1, 1]);
    expect(await queue.counts()).toEqual({ waiting: 2, active: 0, failed: 0 });
  });
});

async function claimOne(now: Date): Promise<ClaimedJob> {
  const [job, ...rest] = await queue.claim({ limit: 1, leaseMs: 30 * SECOND, now });
  expect(rest).toEqual([]);
  expect(job).toBeDefined();
  return job!;
}
