import { describe, expect, it } from 'vitest';
import {
  createHerald,
  generateVapidKeys,
  memoryQueue,
  memoryStorage,
  type PushProvider,
  type Subscription,
  webPush,
} from '../../src/index.js';
import { fakeClock } from '../../src/testing/index.js';
import { loopbackPushService } from './support/push-service.js';

/**
 * 404/410 removes a subscription only if its stored endpoint is still the
 * one that failed: a browser that re-subscribed while the failing request
 * was in flight must not lose its fresh subscription.
 */
describe('gone subscriptions, through the engine', () => {
  const service = loopbackPushService();
  const vapid = { subject: 'mailto:ops@example.com', ...generateVapidKeys() };

  async function run(refreshDuringSend: boolean) {
    const clock = fakeClock('2026-03-01T09:00:00Z');
    const storage = memoryStorage();
    const real = webPush({ vapid });
    const fresh = service.createSubscription();
    // Stands in for a refresh racing the send: while the push service is
    // answering 410 for the old endpoint, the stored row moves to a new one.
    const provider: PushProvider = {
      target: 'webpush',
      async send(message, now) {
        const outcome = await real.send(message, now);
        if (refreshDuringSend && message.subscription.target === 'webpush') {
          await storage.upsertSubscription({
            ...message.subscription,
            endpoint: fresh.endpoint,
            keys: fresh.keys,
            updatedAt: now,
          });
        }
        return outcome;
      },
      close: () => real.close(),
    };
    const herald = createHerald({
      storage,
      queue: memoryQueue(),
      providers: { webpush: provider },
      clock,
      allowEndpoint: [service.url],
    });
    const old = service.createSubscription();
    service.respondWith(old.endpoint, { status: 410, body: 'push subscription has unsubscribed or expired' });
    const added = await herald.subscriptions.add({ userId: 'ada', subscription: old });
    const campaign = await herald.campaigns.create({
      name: 'Gone',
      when: { schedule: { type: 'once', at: '2026-03-01T09:00:00Z' } },
      who: { segment: { type: 'all' } },
      what: { title: 'Hi', deeplink: 'https://shop.example.com/' },
    });
    await herald.campaigns.schedule(campaign.id);
    await herald.tick();
    const stored = await storage.getSubscription(added.id);
    const stats = await herald.campaigns.stats(campaign.id);
    await herald.stop();
    return { stored, stats, fresh };
  }

  it('removes the subscription when its endpoint is unchanged', async () => {
    const { stored, stats } = await run(false);
    expect(stored).toBeNull();
    expect(stats).toMatchObject({ gone: 1, sent: 0 });
  });

  it('keeps a subscription refreshed while the 410 was on its way, with its new endpoint', async () => {
    const { stored, stats, fresh } = await run(true);
    expect((stored as Extract<Subscription, { target: 'webpush' }> | null)?.endpoint).toBe(fresh.endpoint);
    expect(stats).toMatchObject({ gone: 1 });
  });
});
