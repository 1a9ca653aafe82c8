import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createHerald,
  generateVapidKeys,
  memoryQueue,
  memoryStorage,
  silentLogger,
  webPush,
} from '../../src/index.js';
import { createTestPushService, fakeClock, type TestPushService } from '../../src/testing/index.js';

/**
 * A subscription with a final outcome is never sent again for that occurrence,
 * even by a redelivery left over from a job that was given back or ran twice
 * (a worker stopped mid-send queues one after its replacement already sent).
 */
describe('a stale redelivery', () => {
  let service: TestPushService;
  let url: string;
  const vapid = { subject: 'mailto:ops@example.com', ...generateVapidKeys() };
  beforeAll(async () => {
    service = createTestPushService();
    ({ url } = await service.start());
  });
  afterAll(async () => {
    await service.stop();
  });

  it('sends nothing to a subscription that already has its final outcome', async () => {
    const clock = fakeClock('2026-03-01T09:59:00Z');
    const queue = memoryQueue();
    const storage = memoryStorage();
    const herald = createHerald({
      storage,
      queue,
      providers: { webpush: webPush({ vapid, encryptionWorkers: 0 }) },
      clock,
      logger: silentLogger,
      allowEndpoint: [url],
    });
    await herald.profiles.upsert({ userId: 'ann' });
    const subscription = await herald.subscriptions.add({
      userId: 'ann',
      subscription: service.createSubscription(),
    });
    const campaign = await herald.campaigns.create({
      name: 'Once',
      who: { segment: { type: 'all' } },
      what: { title: 'Hello', deeplink: 'https://shop.example.com/' },
      when: { schedule: { type: 'once', at: '2026-03-01T10:00:00Z' } },
    });
    await herald.campaigns.schedule(campaign.id);
    await clock.advance(60_000);
    await herald.tick();
    expect(service.received).toHaveLength(1);

    // The redelivery a given-back job's old holder queued after its send failed.
    await queue.enqueue([
      {
        name: 'herald.redeliver',
        payload: {
          campaignId: campaign.id,
          occurrence: '2026-03-01T10:00:00.000Z',
          userId: 'ann',
          subscriptionId: subscription.id,
          attempts: 1,
          dueAt: '2026-03-01T10:00:00.000Z',
        },
        runAt: clock.now(),
      },
    ]);
    await herald.tick();
    expect(service.received).toHaveLength(1);
    expect(await herald.campaigns.stats(campaign.id)).toMatchObject({ recipients: 1, sent: 1, failed: 0 });
    expect(await queue.counts()).toEqual({ waiting: 0, active: 0, failed: 0 });
  });
});
