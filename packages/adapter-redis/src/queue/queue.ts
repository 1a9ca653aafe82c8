import { randomUUID } from 'node:crypto';
import type { ClaimedJob, ClaimOptions, JobInput, PruneBatch, Queue, QueueCounts } from '@herald/core';
import { ConfigError, CorruptRecordError, ValidationError } from '@herald/core';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { withRedis } from '../errors.js';
import { luaScript } from '../lua.js';
import {
  cancelScript,
  claimScript,
  enqueueScript,
  extendLeaseScript,
  pruneFailedScript,
  settleScript,
} from './scripts.js';

export interface RedisQueueOptions {
  /** An ioredis client the host owns; the queue never closes it. */
  connection: Redis;
  /** Namespace for every key, so several Heralds (or test runs) can share one Redis. Default `herald`. */
  prefix?: string;
}

/** Jobs per enqueue script call: bounds how long one call holds Redis's single thread. */
const ENQUEUE_CHUNK = 500;

/** One claimed job as the claim script returns it. */
const ClaimedRow = z.tuple([
  z.string(), // id
  z.string(), // name
  z.string(), // payload JSON ('' for undefined)
  z.string().regex(/^-?\d+$/), // runAt ms
  z.number().int().min(1), // attempts
  z.string().min(1), // token
  z.string(), // dedupeKey ('' for none)
]);
const ClaimReply = z.array(ClaimedRow);
const CountReply = z.tuple([z.number().int(), z.number().int(), z.number().int()]);
const FlagReply = z.union([z.literal(0), z.literal(1)]);

const countsScript = luaScript(`
local base = ARGV[1]
return { redis.call('ZCARD', base .. 'waiting'), redis.call('ZCARD', base .. 'active'), redis.call('ZCARD', base .. 'failed') }
`);

/**
 * The Queue port on Redis: sorted sets of job ids by runAt (waiting) and by
 * lease expiry (active), a hash per job, and one Lua script per operation so
 * each step is atomic (an enqueue of up to 500 jobs is one script call).
 * See scripts.ts for the layout.
 */
export function redisQueue(options: RedisQueueOptions): Queue {
  const { connection } = options;
  const prefix = options.prefix ?? 'herald';
  if (prefix === '') throw new ConfigError('redisQueue: prefix must not be empty');
  // The scripts build their keys from this base, so ioredis cannot add the
  // connection's keyPrefix for us: add it here.
  const base = `${connection.options.keyPrefix ?? ''}${prefix}:queue:`;

  const flag = async (operation: string, run: () => Promise<unknown>): Promise<boolean> =>
    FlagReply.parse(await withRedis(operation, run)) === 1;

  const settle = (action: 'complete' | 'retry' | 'fail', id: string, token: string, runAt = '', error = '') =>
    flag(action, () => settleScript(connection, [], [base, randomUUID(), id, token, action, runAt, error]));

  const onWake = redisWakeups(connection, `${base}wake`);

  return {
    onWake,

    async enqueue(jobs: readonly JobInput[]): Promise<number> {
      const args = jobs.flatMap((job, index) => encodeJob(job, index));
      let added = 0;
      for (let start = 0; start < args.length; start += ENQUEUE_CHUNK * 5) {
        const chunk = args.slice(start, start + ENQUEUE_CHUNK * 5);
        const reply = await withRedis('enqueue', () =>
          enqueueScript(connection, [], [base, randomUUID(), ...chunk]),
        );
        added += z.number().int().min(0).parse(reply);
      }
      return added;
    },

    async claim({ limit, leaseMs, now, names }: ClaimOptions): Promise<ClaimedJob[]> {
      if (!Number.isInteger(limit) || limit < 0) throw invalid('claim', 'limit', 'must be an integer >= 0');
      if (!Number.isFinite(leaseMs) || leaseMs <= 0)
        throw invalid('claim', 'leaseMs', 'must be a number > 0');
      if (limit === 0 || names?.length === 0) return [];
      const nowMs = millis(now, 'claim', 'now');
      const reply = await withRedis('claim', () =>
        claimScript(connection, [], [base, randomUUID(), nowMs, Math.ceil(leaseMs), limit, ...(names ?? [])]),
      );
      return ClaimReply.parse(reply).map(decodeClaimed);
    },

    complete: (jobId, token) => settle('complete', jobId, token),

    retry: (jobId, token, runAt, error) =>
      settle('retry', jobId, token, String(millis(runAt, 'retry', 'runAt')), error),

    fail: (jobId, token, error) => settle('fail', jobId, token, '', error),

    async extendLease(jobId, token, leaseMs, now) {
      if (!Number.isFinite(leaseMs) || leaseMs <= 0)
        throw invalid('extendLease', 'leaseMs', 'must be a number > 0');
      const nowMs = millis(now, 'extendLease', 'now');
      return flag('extendLease', () =>
        extendLeaseScript(connection, [], [base, randomUUID(), jobId, token, Math.ceil(leaseMs), nowMs]),
      );
    },

    cancel: (dedupeKey) =>
      flag('cancel', () => cancelScript(connection, [], [base, randomUUID(), dedupeKey])),

    async pruneFailed({ before, limit }: PruneBatch): Promise<number> {
      if (!Number.isInteger(limit) || limit < 0)
        throw invalid('pruneFailed', 'limit', 'must be an integer >= 0');
      if (limit === 0) return 0;
      const beforeMs = millis(before, 'pruneFailed', 'before');
      const reply = await withRedis('pruneFailed', () =>
        pruneFailedScript(connection, [], [base, randomUUID(), beforeMs, limit]),
      );
      return z.number().int().min(0).parse(reply);
    },

    async counts(): Promise<QueueCounts> {
      const [waiting, active, failed] = CountReply.parse(
        await withRedis('counts', () => countsScript(connection, [], [base])),
      );
      return { waiting, active, failed };
    },
  };
}

/**
 * `Queue.onWake` on Redis: pub/sub on a connection of the queue's own
 * (`connection.duplicate()`, since a subscribed connection can run nothing
 * else), opened while anyone listens and closed when the last one stops.
 * Why pub/sub and not a blocking pop on a wake list: every idle worker must
 * hear an enqueue, not just one, and a message nobody hears costs nothing.
 * ioredis reconnects and subscribes again after a loss; notices published
 * meanwhile are gone, so listeners are woken once when it is back (workers
 * poll in the meantime).
 */
function redisWakeups(connection: Redis, channel: string): (listener: () => void) => () => void {
  const listeners = new Set<() => void>();
  const wakeAll = () => {
    for (const listener of [...listeners]) listener();
  };
  let subscriber: Redis | null = null;
  const open = (): Redis => {
    // Channels are not keys: ioredis adds no keyPrefix to them, so `channel` already carries it.
    const opened = connection.duplicate({ lazyConnect: false });
    let readyBefore = false;
    opened.on('message', (from: string) => {
      if (from === channel) wakeAll();
    });
    opened.on('ready', () => {
      if (readyBefore) wakeAll();
      readyBefore = true;
    });
    // A lost subscriber is retried by ioredis; the error is not the host's to handle.
    opened.on('error', () => undefined);
    void opened.subscribe(channel).catch(() => undefined);
    return opened;
  };
  return (listener) => {
    const entry = () => listener();
    listeners.add(entry);
    subscriber ??= open();
    return () => {
      listeners.delete(entry);
      if (listeners.size === 0 && subscriber) {
        subscriber.disconnect();
        subscriber = null;
      }
    };
  };
}

/** A job as the enqueue script's five arguments. */
function encodeJob(job: JobInput, index: number): string[] {
  const runAt = millis(job.runAt, 'job', `[${index}].runAt`);
  let payload: string;
  try {
    // '' stands for an undefined payload, which JSON cannot carry (JSON.stringify returns undefined).
    payload = (JSON.stringify(job.payload) as string | undefined) ?? '';
  } catch (error) {
    throw new ValidationError('job', [
      { path: `[${index}].payload`, message: `not JSON-serialisable: ${String(error)}` },
    ]);
  }
  if (job.name === '')
    throw new ValidationError('job', [{ path: `[${index}].name`, message: 'must not be empty' }]);
  return [job.name, payload, String(runAt), job.dedupeKey ?? '', job.onDuplicate ?? 'ignore'];
}

function decodeClaimed([id, name, payload, runAt, attempts, token, dedupeKey]: z.infer<
  typeof ClaimedRow
>): ClaimedJob {
  let parsed: unknown;
  try {
    parsed = payload === '' ? undefined : JSON.parse(payload);
  } catch (error) {
    throw new CorruptRecordError('queue job', id, [{ path: 'payload', message: String(error) }]);
  }
  return {
    id,
    name,
    payload: parsed,
    runAt: new Date(Number(runAt)),
    attempts,
    token,
    dedupeKey: dedupeKey === '' ? null : dedupeKey,
  };
}

function millis(date: Date, what: string, path: string): number {
  const ms = date instanceof Date ? date.getTime() : Number.NaN;
  if (Number.isNaN(ms)) throw invalid(what, path, 'must be a valid Date');
  return ms;
}

function invalid(what: string, path: string, message: string): ValidationError {
  return new ValidationError(what, [{ path, message }]);
}
