import { fixtures } from '@herald/core/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Lease, redisLease } from '../src/index.js';
import { clearPrefix, connect, uniquePrefix } from './support/redis.js';

const { T0, at } = fixtures;
const SECOND = 1000;
const prefix = uniquePrefix('lease');

let connection: Redis;
let other: Redis;
let mine: Lease;
let theirs: Lease;

beforeAll(async () => {
  connection = await connect();
  other = await connect();
  mine = redisLease({ connection, key: `${prefix}:scheduler` });
  theirs = redisLease({ connection: other, key: `${prefix}:scheduler` });
});
beforeEach(() => clearPrefix(connection, prefix));
afterAll(async () => {
  await clearPrefix(connection, prefix);
  connection.disconnect();
  other.disconnect();
});

describe('redisLease', () => {
  it('is held by one owner at a time until it expires by the passed now', async () => {
    expect(await mine.acquire('a', 10 * SECOND, T0)).toBe(true);
    expect(await theirs.acquire('b', 10 * SECOND, at(9 * SECOND))).toBe(false);
    expect(await theirs.acquire('b', 10 * SECOND, at(10 * SECOND))).toBe(true);
    expect(await mine.renew('a', 10 * SECOND, at(11 * SECOND))).toBe(false);
    expect(await mine.acquire('a', 10 * SECOND, at(11 * SECOND))).toBe(false);
  });

  it('acquire by the holder extends it; renew extends only an unexpired lease', async () => {
    expect(await mine.acquire('a', 10 * SECOND, T0)).toBe(true);
    expect(await mine.acquire('a', 10 * SECOND, at(5 * SECOND))).toBe(true);
    expect(await theirs.acquire('b', 10 * SECOND, at(14 * SECOND))).toBe(false);
    expect(await mine.renew('a', 10 * SECOND, at(14 * SECOND))).toBe(true);
    expect(await theirs.acquire('b', 10 * SECOND, at(23 * SECOND))).toBe(false);
    expect(await mine.renew('a', 10 * SECOND, at(24 * SECOND))).toBe(false);
  });

  it('release frees it only for its owner', async () => {
    expect(await mine.acquire('a', 10 * SECOND, T0)).toBe(true);
    expect(await theirs.release('b')).toBe(false);
    expect(await theirs.acquire('b', 10 * SECOND, T0)).toBe(false);
    expect(await mine.release('a')).toBe(true);
    expect(await theirs.acquire('b', 10 * SECOND, T0)).toBe(true);
  });

  it('concurrent acquires from two connections: exactly one wins', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? mine : theirs).acquire(`owner-${i}`, SECOND, T0)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('leaves Redis a TTL so a crashed owner does not hold the key forever', async () => {
    await mine.acquire('a', 10 * SECOND, T0);
    const ttl = await other.pttl(`${prefix}:scheduler`);
    expect(ttl).toBeGreaterThan(10 * SECOND);
    expect(ttl).toBeLessThanOrEqual(70 * SECOND);
  });
});
