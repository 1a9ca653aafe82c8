/**
 * What `redisQueue`'s batch forms save: inaction-window timers enqueued and cancelled through
 * `enqueueEach` / `cancelEach` (one script per call of up to 500) against the engine's fallback
 * for a queue without them (one `enqueue` or `cancel` round trip per job, in order), as
 * `events.track` with live campaigns makes them (create-herald.ts, `coalescedWrites`).
 *
 *   npm run build --silent && HERALD_TEST_REDIS_URL=redis://... npx tsx bench/redis-queue/run.ts [--jobs 10000]
 *
 * Calls of 500 are what the engine's group commit hands over under load (its `maxItems`); calls of
 * 50 are what 50 concurrent callers give when each round trip is short. Every case uses fresh keys
 * under a prefix of its own, deleted afterwards; one caller waits for each answer before the next
 * call. Herald CPU is this process's (process.cpuUsage); Redis CPU is the server's from /proc
 * (bench/delivery/servers.ts), which on a shared server counts others' commands too. Progress goes
 * to stderr; the last stdout line is one JSON object.
 */
import { randomBytes } from 'node:crypto';
import { redisQueue } from '@herald/adapter-redis';
import type { JobInput, Queue } from '@herald/core';
import { Redis } from 'ioredis';
import { dropRedisPrefix, redisServerCpu } from '../delivery/servers.js';
import { option } from '../options.js';

const JOBS = option('jobs', 10_000);
const redisUrl = process.env.HERALD_BENCH_REDIS_URL ?? process.env.HERALD_TEST_REDIS_URL;
if (!redisUrl) throw new Error('Set HERALD_TEST_REDIS_URL');
const NOW = new Date('2026-05-01T10:00:00Z');
const WINDOW_END = new Date('2026-05-02T10:00:00Z');
const log = (line: string) => process.stderr.write(`${line}\n`);

/** An inaction-window timer as the engine queues it: a live-fire job under one key per user. */
const timer = (run: string, user: number): JobInput => ({
  name: 'live-fire',
  payload: {
    campaignId: 'cmp_bench',
    userId: `user-${user}`,
    occurrence: `inaction:${NOW.toISOString()}`,
    dueAt: WINDOW_END.toISOString(),
    event: { name: 'cart_add', properties: { sku: `sku-${user % 100}` }, time: NOW.toISOString() },
  },
  runAt: WINDOW_END,
  dedupeKey: `${run}|inaction|user-${user}`,
  onDuplicate: 'ignore',
});

interface Figure {
  per_s: number;
  herald_cpu_us: number;
  redis_cpu_us: number | null;
}

const connection = new Redis(redisUrl);
const serverCpu = redisServerCpu(connection);

/** Runs `work` over `items` in calls of `size`, one after the other; per-item rate and CPU. */
async function measure<Item>(
  items: readonly Item[],
  size: number,
  work: (call: readonly Item[]) => Promise<readonly boolean[]>,
): Promise<Figure> {
  const redisBefore = await serverCpu.read();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let answered = 0;
  for (let start = 0; start < items.length; start += size) {
    const answers = await work(items.slice(start, start + size));
    answered += answers.filter(Boolean).length;
  }
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const redisAfter = await serverCpu.read();
  // Every job is new and every key is waiting: an answer short of that is a broken run, not a figure.
  if (answered !== items.length) throw new Error(`${answered} of ${items.length} items answered true`);
  return {
    per_s: Math.round((items.length / elapsedMs) * 1000),
    herald_cpu_us: round((cpu.user + cpu.system) / items.length),
    redis_cpu_us:
      redisBefore === null || redisAfter === null ? null : round((redisAfter - redisBefore) / items.length),
  };
}

const round = (value: number) => Math.round(value * 10) / 10;

/** The engine's fallback for a queue without the batch forms (create-herald.ts): a round trip per item. */
const oneByOne = {
  enqueue: async (queue: Queue, jobs: readonly JobInput[]) => {
    const added: boolean[] = [];
    for (const job of jobs) added.push((await queue.enqueue([job])) > 0);
    return added;
  },
  cancel: async (queue: Queue, keys: readonly string[]) => {
    const removed: boolean[] = [];
    for (const key of keys) removed.push(await queue.cancel(key));
    return removed;
  },
};

type Way = 'batch' | 'one_by_one';
const cases: Array<{ way: Way; size: number }> = [
  { way: 'one_by_one', size: 500 },
  { way: 'batch', size: 50 },
  { way: 'batch', size: 500 },
];

const results: Record<string, { enqueue: Figure; cancel: Figure }> = {};
// Untimed warm-up: scripts loaded, connection and JIT warm.
for (const { way, size } of [...cases, ...cases]) {
  const timed = results[`${way}_${size}`] !== undefined;
  const prefix = `herald-bench-queue:${randomBytes(4).toString('hex')}`;
  const queue = redisQueue({ connection, prefix });
  const count = timed ? JOBS : Math.min(JOBS, 1_000);
  const jobs = Array.from({ length: count }, (_, user) => timer(prefix, user));
  const keys = jobs.map((job) => job.dedupeKey as string);
  try {
    const enqueue = await measure(jobs, size, (call) =>
      way === 'batch'
        ? (queue.enqueueEach as NonNullable<Queue['enqueueEach']>)(call)
        : oneByOne.enqueue(queue, call),
    );
    const cancel = await measure(keys, size, (call) =>
      way === 'batch'
        ? (queue.cancelEach as NonNullable<Queue['cancelEach']>)(call)
        : oneByOne.cancel(queue, call),
    );
    if (timed) {
      log(`${way} in calls of ${size}: enqueue ${enqueue.per_s}/s, cancel ${cancel.per_s}/s`);
    }
    results[`${way}_${size}`] = { enqueue, cancel };
  } finally {
    await dropRedisPrefix(connection, prefix);
  }
}
connection.disconnect();

const fallback = results.one_by_one_500;
const batched = results.batch_500;
console.log(
  JSON.stringify({
    jobs: JOBS,
    cases: results,
    speedup_500: fallback &&
      batched && {
        enqueue: round(batched.enqueue.per_s / fallback.enqueue.per_s),
        cancel: round(batched.cancel.per_s / fallback.cancel.per_s),
      },
  }),
);
