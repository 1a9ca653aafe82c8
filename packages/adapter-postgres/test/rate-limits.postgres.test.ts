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
import { afterAll, describe, expect, it } from 'vitest';
import { postgresCounters } from '../src/index.js';
import { type Backend, openBackend } from './helpers.js';

/**
 * Two processes' handlers over one Postgres: a client address's requests are counted together,
 * so a second process does not double what it may send.
 */
describe('public endpoint rate limits on postgresCounters', () => {
  const backends: Backend[] = [];
  afterAll(async () => {
    for (const backend of backends) await backend.close();
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
      rateLimits: { events: { limit: 5, windowSeconds: 60 } },
    });
    return () =>
      handle({
        method: 'POST',
        path: '/events',
        headers: {},
        clientAddress: '203.0.113.9',
        body: { userId: 'ada', name: 'view' },
      });
  }

  it('holds one limit across two engines sharing the counters', async () => {
    const backend = await openBackend('postgres', 'ratelimit');
    backends.push(backend);
    const first = engine(postgresCounters({ client: backend.client, schema: backend.schema }));
    const second = engine(postgresCounters({ client: backend.client, schema: backend.schema }));
    const statuses: number[] = [];
    for (let n = 0; n < 5; n++) statuses.push((await first()).status, (await second()).status);
    expect(statuses.filter((status) => status === 202)).toHaveLength(5);
    expect(statuses.filter((status) => status === 429)).toHaveLength(5);
  });
});
