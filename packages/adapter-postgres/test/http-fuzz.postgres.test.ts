import {
  createHerald,
  generateVapidKeys,
  type Herald,
  type HeraldHttpHandler,
  heraldHttp,
  memoryQueue,
  silentLogger,
  webPush,
} from '@herald/core';
import { createTestPushService, fakeClock, type TestPushService } from '@herald/core/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { badAnswer, fuzzRuns, mutated, wrongValue } from '../../core/test/fuzz/support.js';
import { postgresCounters, postgresStorage } from '../src/index.js';
import { type Backend, openBackend, tablesSnapshot } from './helpers.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

/**
 * The public endpoints' fuzz run on a real Postgres (a smaller run than on memoryStorage, which
 * covers the wire): every answer a 2xx or a JSON 4xx, and a refused request leaves every table's
 * rows as they were, read straight from the tables.
 */
describe('public HTTP endpoints under fuzzed input, on Postgres', () => {
  let backend: Backend;
  let service: TestPushService;
  let herald: Herald;
  let handle: HeraldHttpHandler;
  const valid: Record<string, Record<string, unknown>> = {};
  let cases = 0;

  beforeAll(async () => {
    backend = await openBackend('postgres', 'httpfuzz');
    service = createTestPushService();
    const { url } = await service.start();
    herald = createHerald({
      storage: postgresStorage({ client: backend.client, schema: backend.schema }),
      counters: postgresCounters({ client: backend.client, schema: backend.schema }),
      queue: memoryQueue(),
      providers: {
        webpush: webPush({ vapid: { subject: 'mailto:ops@example.com', ...generateVapidKeys() } }),
      },
      clock: fakeClock('2026-04-01T08:00:00Z'),
      allowEndpoint: [url],
      reportSecret: 'a-secret-that-is-long-enough-for-hmac',
      logger: silentLogger,
    });
    handle = heraldHttp(herald, { trustClientUserId: true });
    const subscription = service.createSubscription();
    await herald.subscriptions.add({ userId: 'ada', subscription });
    valid['POST /subscriptions'] = { subscription: service.createSubscription(), userId: 'bob' };
    valid['POST /identify'] = { endpoint: subscription.endpoint, userId: 'ada' };
    valid['POST /events'] = { userId: 'ada', name: 'purchase', properties: { revenue: 12.5 } };
    valid['POST /reports'] = { kind: 'viewed', token: 'a.b', reportId: 'report-00001' };
  });
  afterAll(async () => {
    await herald?.stop();
    await service?.stop();
    await backend?.close();
    console.log(`public HTTP fuzz on Postgres: ${cases} cases`);
  });

  const snapshot = () => tablesSnapshot(backend);

  it('answers any parsed body with a 2xx or a JSON 4xx, and a refusal changes no table', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .constantFrom(...Object.keys(valid))
          .chain((route) =>
            fc.tuple(
              fc.constant(route),
              fc.oneof(mutated(valid[route] as Record<string, unknown>), wrongValue, fc.constant(undefined)),
            ),
          ),
        async ([route, body]) => {
          cases += 1;
          const [method, path] = route.split(' ') as [string, string];
          const before = await snapshot();
          const response = await handle({ method, path, headers: {}, body });
          const problem = badAnswer(response);
          if (problem) throw new Error(`${route}: ${problem}`);
          if (response.status >= 400) expect(await snapshot()).toBe(before);
        },
      ),
      { numRuns: fuzzRuns(40) },
    );
  });
});
