import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  createDeliveryPool,
  DEFAULT_DELIVERY_WORKER_LIMITS,
  workerLimits,
} from '../../src/delivery/delivery-pool.js';
import { pooledHttpTransport } from '../../src/delivery/pooled-http-transport.js';
import { generateVapidKeys } from '../../src/delivery/vapid.js';
import { webPush } from '../../src/delivery/webpush-provider.js';
import { startDeliveryWorker } from '../../src/delivery/worker/start-worker.js';
import { selfSignedCertificate } from '../../src/dev/self-signed.js';
import { PayloadTooLargeError } from '../../src/errors/index.js';
import type { PushSubscriptionJson } from '../../src/model/index.js';
import { loopbackPushService } from './support/push-service.js';
import { storedWebPush } from './support/stored-subscription.js';

const now = new Date('2031-01-15T12:00:00Z');

describe('encryption on worker threads', () => {
  const service = loopbackPushService();

  it('sends 150 messages encrypted by 2 workers, each decrypted by http_ece to what was sent', async () => {
    const provider = webPush({
      vapid: { subject: 'mailto:ops@example.com', ...generateVapidKeys() },
      encryptionWorkers: 2,
    });
    try {
      const subscribers = Array.from({ length: 150 }, () => service.createSubscription());
      const outcomes = await Promise.all(
        subscribers.map((s, i) => {
          return provider.send(
            {
              subscription: storedWebPush(s, now, i),
              payload: `{"n":${i},"é":"ü"}`,
              ttlSeconds: 60,
              urgency: 'normal',
            },
            now,
          );
        }),
      );
      expect(outcomes.filter((o) => o.kind !== 'sent')).toEqual([]);
      for (const [i, s] of subscribers.entries()) {
        expect(service.receivedFor(s.endpoint).map((m) => m.plaintext)).toEqual([`{"n":${i},"é":"ü"}`]);
      }
      const tooLarge = {
        subscription: storedWebPush(subscribers[0] as PushSubscriptionJson, now, 'big'),
        payload: 'x'.repeat(3994),
        ttlSeconds: 60,
        urgency: 'normal' as const,
        campaignId: 'camp-1',
      };
      await expect(provider.send(tooLarge, now)).rejects.toBeInstanceOf(PayloadTooLargeError);
    } finally {
      await provider.close();
    }
  });

  it('hands back from a worker what outcome mapping reads: status, Retry-After and the reason', async () => {
    const provider = webPush({
      vapid: { subject: 'mailto:ops@example.com', ...generateVapidKeys() },
      encryptionWorkers: 1,
    });
    try {
      const s = service.createSubscription();
      service.respondWith(s.endpoint, {
        status: 429,
        retryAfter: 'Wed, 15 Jan 2031 13:00:00 GMT',
        body: 'slow down',
      });
      const message = {
        subscription: storedWebPush(s, now, 'r'),
        payload: '{}',
        ttlSeconds: 60,
        urgency: 'normal' as const,
      };
      expect(await provider.send(message, now)).toMatchObject({
        kind: 'retry',
        retryAt: new Date('2031-01-15T13:00:00Z'),
        statusCode: 429,
        reason: '429 Too Many Requests: slow down',
      });
      service.respondWith(s.endpoint, { status: 503, times: 1 });
      expect(await provider.send(message, now)).toMatchObject({
        kind: 'retry',
        retryAt: now,
        statusCode: 503,
      });
    } finally {
      await provider.close();
    }
  });

  it('rejects a bad key per message without failing the rest of its batch, and refuses work once closed', async () => {
    const pool = createDeliveryPool({ workers: 1 });
    const good = service.createSubscription();
    const [ok, bad] = await Promise.allSettled([
      pool.encrypt(good.keys, 'hello'),
      pool.encrypt({ p256dh: 'AAAA', auth: good.keys.auth }, 'hello'),
    ]);
    expect(ok.status).toBe('fulfilled');
    expect(ok.status === 'fulfilled' && ok.value.length).toBe(86 + 5 + 1 + 16);
    expect(bad.status).toBe('rejected');
    await pool.close();
    await expect(pool.encrypt(good.keys, 'late')).rejects.toThrow(/closed/);
  });

  it('bounds each worker by default, with the fields a host sets over the defaults, or by Node alone when asked', async () => {
    expect(workerLimits(undefined)).toEqual({ maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 24 });
    expect(workerLimits({ maxOldGenerationSizeMb: 128 })).toEqual({
      maxYoungGenerationSizeMb: 4,
      maxOldGenerationSizeMb: 128,
    });
    expect(workerLimits(false)).toBeUndefined();
    // What the thread really runs with, as Node reports it.
    const worker = startDeliveryWorker({ transport: null }, workerLimits(undefined));
    try {
      await new Promise((resolve) => worker.once('online', resolve));
      expect(worker.resourceLimits).toMatchObject(DEFAULT_DELIVERY_WORKER_LIMITS);
    } finally {
      await worker.terminate();
    }
  });

  it('runs its workers within the heap limits a host sets', async () => {
    // Tight limits: 300 messages in one turn still fit.
    const pool = createDeliveryPool({
      workers: 1,
      resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 32 },
    });
    try {
      const s = service.createSubscription();
      const bodies = await Promise.all(Array.from({ length: 300 }, (_, i) => pool.encrypt(s.keys, `m${i}`)));
      // aes128gcm: an 86-byte header, the plaintext, its 1-byte delimiter, a 16-byte tag.
      expect(bodies.map((body) => body.length)).toEqual(bodies.map((_, i) => 86 + `m${i}`.length + 1 + 16));
    } finally {
      await pool.close();
    }
  });

  it('fails the messages of a worker that ran out of memory, and starts a new one for the next', async () => {
    // A push service that takes every request and never answers: the worker
    // holds each message it was given (plaintext and body) until its heap
    // cap stops it, as a worker handed far more than the engine ever gives
    // one would.
    const identity = await selfSignedCertificate();
    const stalling = http2.createSecureServer({ key: identity.key, cert: identity.cert });
    stalling.on('stream', (stream) => stream.on('error', () => undefined));
    const sessions = new Set<http2.ServerHttp2Session>();
    stalling.on('session', (session) => {
      sessions.add(session);
      session.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => stalling.listen(0, '127.0.0.1', resolve));
    const origin = `https://127.0.0.1:${(stalling.address() as AddressInfo).port}`;
    const provider = webPush({
      vapid: { subject: 'mailto:ops@example.com', ...generateVapidKeys() },
      transport: pooledHttpTransport({ ca: identity.cert, maxInFlightPerOrigin: 2 }),
      encryptionWorkers: 1,
      workerResourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 12 },
    });
    try {
      const s = service.createSubscription();
      const message = (endpoint: string, n: number, payload: string) => ({
        subscription: { ...storedWebPush(s, now, n), endpoint },
        payload,
        ttlSeconds: 60,
        urgency: 'normal' as const,
      });
      const payload = 'x'.repeat(3900);
      const held = await Promise.all(
        Array.from({ length: 6000 }, (_, i) =>
          provider.send(message(`${origin}/push/${i}`, i, payload), now),
        ),
      );
      // Each message is answered (none hangs), as a network fault: to be sent again.
      expect(new Set(held.map((o) => o.kind))).toEqual(new Set(['retry']));
      expect(held[0]?.kind === 'retry' && held[0].reason).toMatch(/memory|exited/);

      // The next message gets a new worker, and arrives.
      const after = await provider.send(message(s.endpoint, 6000, 'after the crash'), now);
      expect(after.kind).toBe('sent');
      expect(service.receivedFor(s.endpoint).map((m) => m.plaintext)).toEqual(['after the crash']);
    } finally {
      await provider.close();
      for (const session of sessions) session.destroy();
      stalling.close();
    }
  });
});
