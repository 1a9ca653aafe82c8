import type { Counters } from '@herald/core';
import { fixtures } from '@herald/core/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { redisCounters } from '../src/index.js';
import { clearPrefix, connect, uniquePrefix } from './support/redis.js';

const { T0, at, HOUR, DAY } = fixtures;
const prefix = uniquePrefix('counters');

let connection: Redis;
let other: Redis;
let counters: Counters;

beforeAll(async () => {
  connection = await connect();
  other = await connect();
  counters = redisCounters({ connection, prefix });
});
beforeEach(() => clearPrefix(connection, prefix));
afterAll(async () => {
  await clearPrefix(connection, prefix);
  connection.disconnect();
  other.disconnect();
});

describe('redisCounters', () => {
  it('50 concurrent consumes with limit 5 from two connections: exactly 5 are allowed', async () => {
    const second = redisCounters({ connection: other, prefix });
    const spec = [{ key: 'user:7:day', limit: 5, expiresAt: at(DAY) }];
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => (i % 2 ? counters : second).consume(spec, T0)),
    );
    const allowed = results.filter((r) => r.allowed);
    expect(allowed).toHaveLength(5);
    expect(allowed.flatMap((r) => r.counts).sort()).toEqual([1, 2, 3, 4, 5]);
    expect(results.filter((r) => !r.allowed)).toEqual(
      Array.from({ length: 45 }, () => ({ allowed: false, blockedBy: 'user:7:day' })),
    );
    expect(await second.get(['user:7:day'], T0)).toEqual([5]);
  });

  it('counts a key listed twice in one consume twice, against its limit', async () => {
    const spec = { key: 'k', limit: 3, expiresAt: at(HOUR) };
    expect(await counters.consume([spec, spec], T0)).toEqual({ allowed: true, counts: [1, 2] });
    expect(await counters.consume([spec, spec], T0)).toEqual({ allowed: false, blockedBy: 'k' });
    expect(await counters.get(['k'], T0)).toEqual([2]);
  });

  it("keeps a counter alive in Redis for its window measured from the caller's now, not Redis's clock", async () => {
    // T0 is in the past: PEXPIREAT at expiresAt would delete the key at once.
    await counters.consume([{ key: 'k', limit: 5, expiresAt: at(HOUR) }], T0);
    const ttl = await other.pttl(`${prefix}:counter:k`);
    expect(ttl).toBeGreaterThan(HOUR);
    expect(ttl).toBeLessThanOrEqual(HOUR + 60_000);
    expect(await other.hgetall(`${prefix}:counter:k`)).toEqual({ n: '1', exp: String(at(HOUR).getTime()) });
  });

  it('treats a counter Redis still holds as zero once the passed now reaches its window end', async () => {
    await counters.consume([{ key: 'k', limit: 1, expiresAt: at(HOUR) }], T0);
    expect(await other.exists(`${prefix}:counter:k`)).toBe(1);
    expect(await counters.get(['k'], at(HOUR))).toEqual([0]);
    expect(await counters.consume([{ key: 'k', limit: 1, expiresAt: at(2 * HOUR) }], at(HOUR))).toEqual({
      allowed: true,
      counts: [1],
    });
  });

  it('rejects a limit that is not a whole number, changing nothing', async () => {
    await expect(counters.consume([{ key: 'k', limit: 1.5, expiresAt: at(HOUR) }], T0)).rejects.toMatchObject(
      {
        code: 'validation_failed',
        issues: [{ path: '[0].limit' }],
      },
    );
    expect(await counters.get(['k'], T0)).toEqual([0]);
  });

  it('answers empty calls without a round trip', async () => {
    expect(await counters.consume([], T0)).toEqual({ allowed: true, counts: [] });
    expect(await counters.get([], T0)).toEqual([]);
    await expect(counters.release([], T0)).resolves.toBeUndefined();
  });
});
