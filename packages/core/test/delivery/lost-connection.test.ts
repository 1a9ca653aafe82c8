import { beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryOutcome } from '../../src/delivery/outcome.js';
import type { PushProvider } from '../../src/delivery/provider.js';
import { type SelfSignedCertificate, selfSignedCertificate } from '../../src/dev/self-signed.js';
import type { PushSubscriptionJson } from '../../src/model/index.js';
import { h2Service, subscriptionKeys, watchedWebPush } from './support/h2-service.js';
import { storedWebPush } from './support/stored-subscription.js';

/**
 * A push service that drops a connection with 100 streams in flight (a load balancer's reset, a
 * server killed): those 100 requests fail together, for one cause. Counted per stream, they
 * opened the circuit breaker on their own and held every message to the service for 30 s.
 */
describe('HTTP/2 connections lost with their streams, at the circuit breaker', () => {
  let tls: SelfSignedCertificate;
  let keys: PushSubscriptionJson['keys'];
  const now = new Date('2031-01-15T12:00:00Z');

  beforeAll(async () => {
    tls = await selfSignedCertificate();
    keys = await subscriptionKeys();
  });

  /** Sends message `i` of a test to `url` through `provider`. */
  const sender = (provider: PushProvider, url: string) => (i: number) =>
    provider.send(
      {
        subscription: storedWebPush({ endpoint: `${url}/push/${i}`, keys }, now),
        payload: '{}',
        ttlSeconds: 60,
        urgency: 'normal',
      },
      now,
    );

  /** An h2 service that holds its first 100 requests, then destroys every session; 201 after. */
  async function droppingService(holdFirst = 100) {
    let held = 0;
    let dropped = false;
    const service = await h2Service(tls, (_req, res) => {
      if (dropped || holdFirst === 0) {
        res.writeHead(201).end();
        return;
      }
      held += 1;
      if (held === 100) {
        dropped = true;
        for (const session of service.sessions) session.destroy();
      }
    });
    return service;
  }

  for (const encryptionWorkers of [0, 1]) {
    it(`one lost with 100 streams in flight counts once, and the breaker stays closed (${encryptionWorkers === 0 ? 'in process' : 'in a delivery worker'})`, async () => {
      const service = await droppingService();
      const { provider, changes } = watchedWebPush(tls, encryptionWorkers);
      const send = sender(provider, service.url);
      try {
        const lost = await Promise.all(Array.from({ length: 100 }, (_, i) => send(i)));
        expect(lost.every((outcome) => outcome.kind === 'retry' && outcome.statusCode === null)).toBe(true);
        const after = await Promise.all(Array.from({ length: 20 }, (_, i) => send(100 + i)));
        expect(after.map((outcome: DeliveryOutcome) => outcome.kind)).toEqual(Array(20).fill('sent'));
        expect(changes).toEqual([]);
      } finally {
        await provider.close();
        await service.stop();
      }
    });
  }

  it('still opens the breaker for a service that refuses every connection: each refused connection counts once', async () => {
    const service = await droppingService(0);
    const { provider, changes } = watchedWebPush(tls, 0);
    const send = sender(provider, service.url);
    try {
      expect((await send(0)).kind).toBe('sent'); // the origin is known to speak h2 from here on
      await service.stop();
      const waves: number[] = [];
      for (let wave = 1; wave <= 12 && changes.length === 0; wave++) {
        // Five requests at once share one connection attempt, refused.
        await Promise.all(Array.from({ length: 5 }, (_, i) => send(wave * 10 + i)));
        waves.push(wave);
      }
      expect(changes).toHaveLength(1);
      expect(changes[0]).toMatchObject({
        state: 'open',
        reason: '9 of the last 10 requests failed (5xx or no answer)',
      });
      expect(waves).toHaveLength(9);
    } finally {
      await provider.close();
    }
  });
});
