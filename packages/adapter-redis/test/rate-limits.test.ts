import {
  type Counters,
  createHerald,
  generateVapidKeys,
  heraldHttp,
  memoryQueue,
  memoryStorage,
  silentLogger,
  webPush,
} from '@herald/core';
import { fakeClock } from '@herald/core/testing';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { redisCounters } from '../src/index.js';
import { clearPrefix, connect, uniquePrefix } from './support/redis.js';

/**
 * Two processes' handlers over one Redis: a client address's requests are counted together,
 * so a second process does not double what it may send.
 */
describe('public endpoint rate limits on redisCounters', () => {
  const prefix = uniquePrefix('rate-limits');
  const connections: Redis[] = [];
  afterAll(async () => {
    await clearPrefix(connections[0] as Redis, prefix);
    for (const connection of connections) connection.disconnect();
  });

  function engine(counters: Counters) {
    const herald = createHerald({
      storage: memoryStorage(),
      queue: memoryQueue(),
      counters,
      providers: {
        webpush: webPush({ vapid: { subject: 'mailto:ops@example.com', ...generateVapidKeys() } }),
      },
      clock: fakeClock('2026-04-01T08:00:00Z'),
      logger: silentLogger,
    });
    const handle = heraldHttp(herald, {
      trustClientUserId: true,
      rateLimits: { reports: { limit: 5, windowSeconds: 60 } },
    });
    return () =>
      handle({
        method: 'POST',
        path: '/reports',
        headers: {},
        clientAddress: '2001:db8:7:7::1',
        body: { kind: 'viewed', token: 'not.valid', reportId: 'report-0001' },
      });
  }

  it('holds one limit across two engines sharing the counters', async () => {
    for (let n = 0; n < 2; n++) connections.push(await connect());
    const [first, second] = connections.map((connection) => engine(redisCounters({ connection, prefix })));
    const statuses: number[] = [];
    for (let n = 0; n < 5; n++)
      statuses.push((await first?.())?.status ?? 0, (await second?.())?.status ?? 0);
    // Under the limit the forged token is refused (403); past it, the address is refused first.
    expect(statuses.filter((status) => status === 403)).toHaveLength(5);
    expect(statuses.filter((status) => status === 429)).toHaveLength(5);
  });
});
