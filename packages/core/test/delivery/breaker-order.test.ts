import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PushProvider } from '../../src/delivery/provider.js';
import { type SelfSignedCertificate, selfSignedCertificate } from '../../src/dev/self-signed.js';
import type { PushSubscriptionJson } from '../../src/model/index.js';
import { type H2Service, h2Service, subscriptionKeys, watchedWebPush } from './support/h2-service.js';
import { storedWebPush } from './support/stored-subscription.js';

/**
 * The circuit breaker judges a push service by the answers to the requests it admitted, in the order
 * it admitted them (circuit-breaker.ts). A service under load refuses some requests at once and
 * accepts the others after decrypting them, so with hundreds in flight its refusals come back first:
 * judged as they arrived, a service refusing one request in ten opened the breaker and held every
 * message to it for 30 s. And a probe that never reached the service (its keys could not be used)
 * left the breaker waiting for an answer that could not come: every later message was held.
 */
describe('the circuit breaker in the webPush provider, against an h2 service', () => {
  let tls: SelfSignedCertificate;
  let keys: PushSubscriptionJson['keys'];
  const now = new Date('2031-01-15T12:00:00Z');
  const later = (ms: number) => new Date(now.getTime() + ms);

  /**
   * An h2 service that answers 503 at once to the requests `refuses` names, and 201 to the others
   * once `acceptAfter` requests have arrived (or at once when that is 0).
   */
  let service: H2Service;
  let refuses: (i: number) => boolean = () => false;
  let acceptAfter = 0;

  beforeAll(async () => {
    tls = await selfSignedCertificate();
    keys = await subscriptionKeys();
    let arrived = 0;
    let waiting: Array<() => void> = [];
    service = await h2Service(tls, (req, res) => {
      arrived += 1;
      if (refuses(Number(req.url.split('/').pop()))) {
        res.writeHead(503).end();
        return;
      }
      waiting.push(() => res.writeHead(201).end());
      if (arrived >= acceptAfter) {
        for (const answer of waiting) answer();
        waiting = [];
        arrived = 0;
      }
    });
  });
  afterAll(() => service.stop());

  /** Sends message `i` (to `/push/i`) through `provider`, to a subscription with `withKeys` (real ones by default). */
  const send = (provider: PushProvider, i: number, at = now, withKeys = keys) =>
    provider.send(
      {
        subscription: storedWebPush({ endpoint: `${service.url}/push/${i}`, keys: withKeys }, at),
        payload: '{}',
        ttlSeconds: 60,
        urgency: 'normal',
      },
      at,
    );

  for (const encryptionWorkers of [0, 1]) {
    const where = encryptionWorkers === 0 ? 'in process' : 'in a delivery worker';

    it(`stays closed for a service refusing one request in ten before it accepts the rest (${where})`, async () => {
      refuses = (i) => i % 10 === 3;
      acceptAfter = 400;
      const { provider, changes } = watchedWebPush(tls, encryptionWorkers);
      try {
        const outcomes = await Promise.all(Array.from({ length: 400 }, (_, i) => send(provider, i)));
        const refused = outcomes.filter((outcome) => outcome.kind === 'retry' && outcome.statusCode === 503);
        expect(refused).toHaveLength(40);
        expect(outcomes.filter((outcome) => outcome.kind === 'sent')).toHaveLength(360);
        expect(changes).toEqual([]);
      } finally {
        await provider.close();
      }
    });

    it(`hands the probe on when the message probing cannot be encrypted (${where})`, async () => {
      refuses = () => true;
      acceptAfter = 0;
      const { provider, changes } = watchedWebPush(tls, encryptionWorkers, { openMs: 1_000 });
      try {
        for (let i = 0; i < 10; i++) expect(await send(provider, i)).toMatchObject({ statusCode: 503 });
        expect(changes.map((change) => change.state)).toEqual(['open']);
        refuses = () => false;

        // The probe's subscription holds a public key that is no point of P-256: nothing goes out.
        const notOnTheCurve = { ...keys, p256dh: Buffer.alloc(65, 7).toString('base64url') };
        await expect(send(provider, 10, later(1_000), notOnTheCurve)).rejects.toThrow();
        // The next message probes in its place, and its answer closes the breaker.
        expect(await send(provider, 11, later(1_000))).toEqual({ kind: 'sent', statusCode: 201 });
        expect(changes.map((change) => change.state)).toEqual(['open', 'closed']);
      } finally {
        await provider.close();
      }
    });
  }
});
