import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { statusesAcrossTwoEngines } from '../../core/test/http/support.js';
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

  it('holds one limit across two engines sharing the counters', async () => {
    for (let n = 0; n < 2; n++) connections.push(await connect());
    const [first, second] = connections.map((connection) => redisCounters({ connection, prefix }));
    const statuses = await statusesAcrossTwoEngines({
      counters: [first!, second!],
      endpoint: 'reports',
      limit: 5,
      rounds: 5,
      clientAddress: '2001:db8:7:7::1',
      body: { kind: 'viewed', token: 'not.valid', reportId: 'report-0001' },
    });
    // Under the limit the forged token is refused (403); past it, the address is refused first.
    expect(statuses.filter((status) => status === 403)).toHaveLength(5);
    expect(statuses.filter((status) => status === 429)).toHaveLength(5);
  });
});
