import { randomUUID } from 'node:crypto';
import type { ConsumeResult, CounterSpec, Counters } from '@herald/core';
import { checkCounterRequests, checkCounterSpecs, counterInstant } from '@herald/core';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { withRedis } from '../errors.js';
import { parseRedisOptions } from '../options.js';
import { consumeEachScript, consumeScript, getScript, releaseScript } from './scripts.js';

export interface RedisCountersOptions {
  /** An ioredis client the host owns; the counters never close it. */
  connection: Redis;
  /** Namespace for every key. Default `herald`. */
  prefix?: string;
}

const ConsumeReply = z.union([
  z.tuple([z.literal(1)]).rest(z.number().int()),
  z.tuple([z.literal(0), z.number().int().min(1)]),
]);
const Values = z.array(z.number().int().min(0));
const ConsumeEachReply = z.array(z.number().int().min(0));

/**
 * The Counters port on Redis: one hash per counter ({ n, exp }), read and
 * written by Lua so that `consume` checks and increments every counter as one
 * step. Keys are passed as KEYS, so the connection's keyPrefix applies.
 */
export function redisCounters(options: RedisCountersOptions): Counters {
  const { connection, prefix = 'herald' } = parseRedisOptions(options, 'redisCounters');
  const redisKey = (key: string) => `${prefix}:counter:${key}`;
  // Counters first, then this call's request key (see REPLAY_LUA in ../lua.ts).
  const scriptKeys = (keys: readonly string[]) => [
    ...keys.map(redisKey),
    `${prefix}:counter-req:${randomUUID()}`,
  ];

  /** Limit and expiresAt per spec, as the scripts take them, of specs `checkCounterSpecs` passed. */
  const specArgs = (specs: readonly CounterSpec[]): number[] =>
    specs.flatMap((spec) => [spec.limit, spec.expiresAt.getTime()]);

  return {
    async consume(specs: readonly CounterSpec[], now: Date): Promise<ConsumeResult> {
      const nowMs = counterInstant(now, 'now');
      checkCounterSpecs(specs);
      if (specs.length === 0) return { allowed: true, counts: [] };
      const args = specArgs(specs);
      const reply = ConsumeReply.parse(
        await withRedis('consume', () =>
          consumeScript(connection, scriptKeys(specs.map((spec) => spec.key)), [nowMs, ...args]),
        ),
      );
      if (reply[0] === 1) return { allowed: true, counts: reply.slice(1) };
      // Lua indexes from 1.
      const blocked = specs[reply[1] - 1];
      if (!blocked) throw new Error(`consume script blamed counter #${reply[1]} of ${specs.length}`);
      return { allowed: false, blockedBy: blocked.key };
    },

    /** One script for the whole batch (`consumeEachScript`): one round trip. */
    async consumeEach(requests: readonly (readonly CounterSpec[])[], now: Date): Promise<ConsumeResult[]> {
      const nowMs = counterInstant(now, 'now');
      checkCounterRequests(requests);
      const args = requests.flatMap(specArgs);
      const keys = requests.flatMap((specs) => specs.map((spec) => spec.key));
      if (keys.length === 0) return requests.map(() => ({ allowed: true, counts: [] }));
      const reply = ConsumeEachReply.parse(
        await withRedis('consumeEach', () =>
          consumeEachScript(connection, scriptKeys(keys), [
            nowMs,
            requests.length,
            ...requests.map((specs) => specs.length),
            ...args,
          ]),
        ),
      );
      let at = 0;
      const results = requests.map((specs, index): ConsumeResult => {
        const blockedAt = reply[at++];
        if (blockedAt === 0) {
          const counts = reply.slice(at, at + specs.length);
          at += specs.length;
          return { allowed: true, counts };
        }
        const blocked = blockedAt === undefined ? undefined : specs[blockedAt - 1];
        if (!blocked) throw new Error(`consume-each script blamed counter #${blockedAt} of request ${index}`);
        return { allowed: false, blockedBy: blocked.key };
      });
      if (at !== reply.length)
        throw new Error(`consume-each script answered ${reply.length} numbers, read ${at}`);
      return results;
    },

    async release(keys: readonly string[], now: Date): Promise<void> {
      const nowMs = counterInstant(now, 'now');
      if (keys.length === 0) return;
      await withRedis('release', () => releaseScript(connection, scriptKeys(keys), [nowMs]));
    },

    async get(keys: readonly string[], now: Date): Promise<number[]> {
      const nowMs = counterInstant(now, 'now');
      if (keys.length === 0) return [];
      return Values.parse(await withRedis('get', () => getScript(connection, scriptKeys(keys), [nowMs])));
    },
  };
}
