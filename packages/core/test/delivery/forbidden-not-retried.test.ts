import { describe, expect, it } from 'vitest';
import { createHerald, generateVapidKeys, memoryQueue, memoryStorage, webPush } from '../../src/index.js';
import { fakeClock } from '../../src/testing/index.js';
import { loopbackPushService } from './support/push-service.js';

/**
 * A 403 (Apple's BadJwtToken for a VAPID subject it refuses, FCM's key
 * mismatch) is final: the engine records it and never sends that message
 * again, however long it runs.
 */
describe('a 403 through the engine', () => {
  const service = loopbackPushService();

  it('is recorded as failed with the reason and requested once, never in a retry loop', async () => {
    const clock = fakeClock('2026-03-01T09:00:00Z');
    const herald = createHerald({
      storage: memoryStorage(),
      queue: memoryQueue(),
      providers: {
        webpush: webPush({ vapid: { subject: 'mailto:ops@example.com', ...generateVapidKeys() } }),
      },
      clock,
      allowEndpoint: [service.url],
    });
    try {
      const subscription = service.createSubscription();
      // Only the first request is refused: a second one would be accepted, and show in `received`.
      service.respondWith(subscription.endpoint, { status: 403, body: '{"reason":"BadJwtToken"}', times: 1 });
      await herald.subscriptions.add({ userId: 'ada', subscription });
      const campaign = await herald.campaigns.create({
        name: 'Forbidden',
        when: { schedule: { type: 'once', at: '2026-03-01T09:00:00Z' } },
        who: { segment: { type: 'all' } },
        what: { title: 'Hi', deeplink: 'https://shop.example.com/' },
      });
      await herald.campaigns.schedule(campaign.id);
      await herald.tick();
      for (let hour = 0; hour < 6; hour++) {
        await clock.advance(60 * 60_000);
        await herald.tick();
      }
      expect(await herald.campaigns.stats(campaign.id)).toMatchObject({ failed: 1, sent: 0 });
      expect(service.received).toHaveLength(0);
    } finally {
      await herald.stop();
    }
  });
});
