import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeliveryPool, defaultWorkerResourceLimits } from '../../src/delivery/delivery-pool.js';
import { generateVapidKeys } from '../../src/delivery/vapid.js';
import { webPush } from '../../src/delivery/webpush-provider.js';
import { PayloadTooLargeError } from '../../src/errors/index.js';
import type { PushSubscriptionJson } from '../../src/model/index.js';
import { createTestPushService, type TestPushService } from '../../src/testing/test-push-service.js';
import { storedWebPush } from './support/stored-subscription.js';

const now = new Date('2031-01-15T12:00:00Z');

describe('encryption on worker threads', () => {
  let service: TestPushService;
  beforeAll(async () => {
    service = createTestPushService();
    await service.start();
  });
  afterAll(() => service.stop());

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

  it('bounds each worker’s heap by default, and takes other limits', async () => {
    expect(defaultWorkerResourceLimits).toEqual({ maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 64 });
    // Tighter than the default: 300 messages in one turn still fit.
    const pool = createDeliveryPool({
      workers: 1,
      resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 32 },
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
});
