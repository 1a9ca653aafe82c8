import { afterAll, describe, expect, it } from 'vitest';
import { statusesAcrossTwoEngines } from '../../core/test/http/support.js';
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

  it('holds one limit across two engines sharing the counters', async () => {
    const backend = await openBackend('postgres', 'ratelimit');
    backends.push(backend);
    const counters = () => postgresCounters({ client: backend.client, schema: backend.schema });
    const statuses = await statusesAcrossTwoEngines({
      counters: [counters(), counters()],
      endpoint: 'events',
      limit: 5,
      rounds: 5,
      clientAddress: '203.0.113.9',
      body: { userId: 'ada', name: 'view' },
    });
    expect(statuses.filter((status) => status === 202)).toHaveLength(5);
    expect(statuses.filter((status) => status === 429)).toHaveLength(5);
  });
});
