import { randomUUID } from 'node:crypto';
import type { ClaimedJob, ClaimOptions, JobInput, PruneBatch, Queue, QueueCounts } from '@herald/core';
import {
  CorruptRecordError,
  parseClaimOptions,
  parseDedupeKey,
  parseDedupeKeys,
  parseJobInputs,
  parseLease,
  parsePruneBatch,
  parseRetryAt,
} from '@herald/core';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { withRedis } from '../errors.js';
import { type LuaScript, luaScript } from '../lua.js';
import { parseRedisOptions } from '../options.js';
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

/**
 * Jobs (or dedupe keys) per enqueue (or cancel) script call: bounds how long one call holds Redis's
 * single thread. Each chunk is atomic; a call of more is several scripts, one after the other.
 */
const SCRIPT_CHUNK = 500;

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
/** One flag per job or key of the call, in order (enqueue and cancel scripts). */
const FlagsReply = z.array(FlagReply);

const countsScript = luaScript(`
local base = ARGV[1]
return { redis.call('ZCARD', base .. 'waiting'), redis.call('ZCARD', base .. 'active'), redis.call('ZCARD', base .. 'failed') }
`);

/**
 * The Queue port on Redis: sorted sets of job ids by runAt (waiting) and by
 * lease expiry (active), a hash per job, and one Lua script per operation so
 * each step is atomic (an enqueue or enqueueEach of up to 500 jobs, a cancelEach of up to 500 keys,
 * is one script call). See scripts.ts for the layout.
 */
export function redisQueue(options: RedisQueueOptions): Queue {
  const { connection, prefix = 'herald' } = parseRedisOptions(options, 'redisQueue');
  // The scripts build their keys from this base, so ioredis cannot add the
  // connection's keyPrefix for us: add it here.
  const base = `${connection.options.keyPrefix ?? ''}${prefix}:queue:`;

  const flag = async (operation: string, run: () => Promise<unknown>): Promise<boolean> =>
    FlagReply.parse(await withRedis(operation, run)) === 1;

  const settle = (action: 'complete' | 'retry' | 'fail', id: string, token: string, runAt = '', error = '') =>
    flag(action, () => settleScript(connection, [], [base, randomUUID(), id, token, action, runAt, error]));

  const onWake = redisWakeups(connection, `${base}wake`);

  /**
   * Runs `script` over `args` in chunks of SCRIPT_CHUNK items (`width` arguments each), one script
   * call after the other, each with a request id of its own so that a resend takes effect once;
   * returns the flags of every item in order.
   */
  const flagsInChunks = async (
    operation: string,
    script: LuaScript,
    args: readonly string[],
    width: number,
  ): Promise<boolean[]> => {
    const flags: boolean[] = [];
    for (let start = 0; start < args.length; start += SCRIPT_CHUNK * width) {
      const chunk = args.slice(start, start + SCRIPT_CHUNK * width);
      const reply = await withRedis(operation, () => script(connection, [], [base, randomUUID(), ...chunk]));
      for (const answer of FlagsReply.length(chunk.length / width).parse(reply)) flags.push(answer === 1);
    }
    return flags;
  };

  /**
   * Whether each of the (parsed) jobs was added at its turn (see enqueueScript). Every job is parsed
   * before any is sent: a call of more than one chunk is not atomic as a whole, but a bad job in its
   * last chunk still refuses it before the first chunk is written.
   */
  const enqueueAtTurn = (jobs: readonly JobInput[]): Promise<boolean[]> =>
    flagsInChunks('enqueue', enqueueScript, jobs.flatMap(encodeJob), ENCODED_JOB_WIDTH);

  const cancelEach = async (dedupeKeys: readonly string[]): Promise<boolean[]> =>
    flagsInChunks('cancel', cancelScript, parseDedupeKeys(dedupeKeys), 1);

  return {
    onWake,

    async enqueue(inputs: readonly JobInput[]): Promise<number> {
      return (await enqueueAtTurn(parseJobInputs(inputs))).filter(Boolean).length;
    },

    async enqueueEach(inputs: readonly JobInput[]): Promise<boolean[]> {
      const jobs = parseJobInputs(inputs);
      return stillQueued(jobs, await enqueueAtTurn(jobs));
    },

    async claim(options: ClaimOptions): Promise<ClaimedJob[]> {
      const { limit, leaseMs, now, names } = parseClaimOptions(options);
      if (limit === 0 || names?.length === 0) return [];
      const nowMs = now.getTime();
      const reply = await withRedis('claim', () =>
        claimScript(connection, [], [base, randomUUID(), nowMs, Math.ceil(leaseMs), limit, ...(names ?? [])]),
      );
      return ClaimReply.parse(reply).map(decodeClaimed);
    },

    complete: (jobId, token) => settle('complete', jobId, token),

    retry: async (jobId, token, runAt, error) =>
      settle('retry', jobId, token, String(parseRetryAt(runAt).getTime()), error),

    fail: (jobId, token, error) => settle('fail', jobId, token, '', error),

    async extendLease(jobId, token, ms, at) {
      const { leaseMs, now } = parseLease(ms, at);
      const nowMs = now.getTime();
      return flag('extendLease', () =>
        extendLeaseScript(connection, [], [base, randomUUID(), jobId, token, Math.ceil(leaseMs), nowMs]),
      );
    },

    // Parsed as the one key it is (its error names `dedupeKey`), then sent as cancelEach's chunks are.
    cancel: async (dedupeKey) =>
      (await flagsInChunks('cancel', cancelScript, [parseDedupeKey(dedupeKey)], 1))[0] === true,

    cancelEach,

    async pruneFailed(batch: PruneBatch): Promise<number> {
      const { before, limit } = parsePruneBatch(batch);
      if (limit === 0) return 0;
      const beforeMs = before.getTime();
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

/**
 * Which jobs of one call are in the queue once it is done, from whether each was added at its turn:
 * a job added and then replaced by a later 'replace' job of the same call (in the same script or a
 * later chunk's) is not, so per dedupe key only the last job added counts.
 */
function stillQueued(jobs: readonly JobInput[], addedAtTurn: readonly boolean[]): boolean[] {
  const answers = [...addedAtTurn];
  const lastAdded = new Map<string, number>();
  jobs.forEach((job, index) => {
    if (!answers[index] || job.dedupeKey === undefined) return;
    const earlier = lastAdded.get(job.dedupeKey);
    if (earlier !== undefined) answers[earlier] = false;
    lastAdded.set(job.dedupeKey, index);
  });
  return answers;
}

/** How many script arguments one job takes (encodeJob). */
const ENCODED_JOB_WIDTH = 5;

/**
 * A parsed job (parseJobInputs) as the enqueue script's five arguments. '' stands for "no dedupe key",
 * which is sound because the port refuses '' as a key on every queue (JobInput), so no caller can mean
 * a key by it.
 */
function encodeJob(job: JobInput): string[] {
  return [
    job.name,
    JSON.stringify(job.payload),
    String(job.runAt.getTime()),
    job.dedupeKey ?? '',
    job.onDuplicate ?? 'ignore',
  ];
}

function decodeClaimed([id, name, payload, runAt, attempts, token, dedupeKey]: z.infer<
  typeof ClaimedRow
>): ClaimedJob {
  let parsed: unknown;
  try {
    // '' is an undefined payload, which versions before JobInput stored; the port refuses it now.
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
