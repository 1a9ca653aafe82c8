import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CampaignStats,
  createHerald,
  generateVapidKeys,
  type HeraldPayload,
  memoryQueue,
  memoryStorage,
  webPush,
} from '../../src/index.js';
import { createTestPushService, fakeClock, type TestPushService } from '../../src/testing/index.js';

/**
 * The whole path once: a campaign defined in code reaches real, encrypted
 * Web Push requests that an independent decryptor (http_ece inside the
 * loopback push service) reads, with the VAPID JWT verified.
 */
describe('a one-time campaign, end to end on the embedded default', () => {
  let service: TestPushService;
  let serviceUrl: string;
  const vapid = { subject: 'mailto:ops@example.com', ...generateVapidKeys() };

  beforeAll(async () => {
    service = createTestPushService();
    serviceUrl = (await service.start()).url;
    service.expectVapidPublicKey(vapid.publicKey);
  });
  afterAll(async () => {
    await service.stop();
  });

  async function setup(audience: number, others: number) {
    const clock = fakeClock('2026-03-01T09:00:00Z');
    const storage = memoryStorage();
    const herald = createHerald({
      storage,
      queue: memoryQueue(),
      providers: { webpush: webPush({ vapid }) },
      clock,
      allowEndpoint: [serviceUrl],
      random: () => 0.5,
      tuning: { pageSize: 64, batchSize: 25 },
    });
    const endpoints = new Map<string, string>();
    for (let i = 0; i < audience + others; i++) {
      const userId = `user-${String(i).padStart(4, '0')}`;
      await herald.profiles.upsert({
        userId,
        properties: { first_name: `Ada${i}`, plan: i < audience ? 'pro' : 'free' },
      });
      const subscription = service.createSubscription();
      endpoints.set(userId, subscription.endpoint);
      await herald.subscriptions.add({ userId, subscription });
    }
    const campaign = await herald.campaigns.create({
      name: 'Spring sale',
      when: { schedule: { type: 'once', at: '2026-03-01T10:00:00Z' } },
      who: { segment: { type: 'property', condition: { op: 'eq', property: 'plan', value: 'pro' } } },
      what: {
        title: 'Hello {{ user.first_name }}',
        body: 'Pro deals inside',
        deeplink: 'https://shop.example.com/sale?u={{ user.first_name }}',
        actions: [{ id: 'buy', title: 'Buy now' }],
        ttlSeconds: 3600,
        urgency: 'high',
      },
    });
    await herald.campaigns.schedule(campaign.id);
    return { clock, storage, herald, campaign, endpoints };
  }

  it('delivers to 200 subscribers, each body decrypted and checked, nothing before its time', async () => {
    const { clock, herald, campaign, endpoints } = await setup(200, 30);
    const before = service.received.length;

    await herald.tick();
    expect(service.received.length - before).toBe(0);

    await clock.advance(60 * 60_000);
    await herald.tick();
    const received = service.received.slice(before);
    expect(received).toHaveLength(200);

    const proEndpoints = new Map(
      [...endpoints].filter(([userId]) => Number(userId.slice(5)) < 200).map(([u, e]) => [e, u]),
    );
    for (const message of received) {
      const userId = proEndpoints.get(message.subscriptionEndpoint);
      expect(userId, `unexpected endpoint ${message.subscriptionEndpoint}`).toBeDefined();
      expect(message.plaintext).not.toBeNull();
      const payload = JSON.parse(message.plaintext as string) as HeraldPayload;
      const n = Number((userId as string).slice(5));
      expect(payload.web_push).toBe(8030);
      expect(payload.notification.title).toBe(`Hello Ada${n}`);
      expect(payload.notification.navigate).toBe(`https://shop.example.com/sale?u=Ada${n}`);
      expect(payload.notification.actions).toEqual([
        { action: 'buy', title: 'Buy now', navigate: `https://shop.example.com/sale?u=Ada${n}` },
      ]);
      expect(payload.herald).toMatchObject({
        campaignId: campaign.id,
        userId,
        occurrence: '2026-03-01T10:00:00.000Z',
      });
      expect(payload.herald.expiresAt).toBe(Date.parse('2026-03-01T11:00:00Z'));
      expect(herald.verifyReportToken(payload.herald.token)).toMatchObject({
        campaignId: campaign.id,
        userId,
      });
      expect(message.headers.ttl).toBe('3600');
      expect(message.headers.urgency).toBe('high');
      expect(message.vapid.sub).toBe('mailto:ops@example.com');
      expect(message.vapid.aud).toBe(new URL(serviceUrl).origin);
    }
    expect(new Set(received.map((m) => m.subscriptionEndpoint)).size).toBe(200);

    const stats = await herald.campaigns.stats(campaign.id);
    expect(stats).toMatchObject<Partial<CampaignStats>>({
      recipients: 200,
      sent: 200,
      failed: 0,
      gone: 0,
      pending: 0,
    });
    expect((await herald.campaigns.get(campaign.id)).status).toBe('completed');

    // Ticking again sends nothing more: one message per recipient per occurrence.
    await clock.advance(60_000);
    await herald.tick();
    expect(service.received.length - before).toBe(200);
  });

  it('removes a 410 subscription, retries a 503 one and then sends it, fails a 400 with the reason', async () => {
    const { clock, storage, herald, campaign, endpoints } = await setup(5, 0);
    const goneEndpoint = endpoints.get('user-0000') as string;
    const flakyEndpoint = endpoints.get('user-0001') as string;
    const badEndpoint = endpoints.get('user-0002') as string;
    service.respondWith(goneEndpoint, { status: 410 });
    service.respondWith(flakyEndpoint, { status: 503, times: 1 });
    service.respondWith(badEndpoint, { status: 400, body: 'Malformed request' });

    await clock.set('2026-03-01T10:00:00Z');
    await herald.tick();
    let stats = await herald.campaigns.stats(campaign.id);
    expect(stats).toMatchObject({ sent: 2, gone: 1, failed: 1, pending: 1 });
    expect(await storage.listSubscriptions(['user-0000' as never])).toEqual([]);
    const failed = (
      await storage.listDeliveries(campaign.id, '2026-03-01T10:00:00.000Z', ['user-0002' as never])
    )[0];
    expect(failed).toMatchObject({ status: 'failed', statusCode: 400 });
    expect(failed?.reason).toContain('Malformed request');

    // The retry waits for its backoff (30 s base, jitter 0.5 → exactly 30 s).
    await clock.advance(29_000);
    await herald.tick();
    expect((await herald.campaigns.stats(campaign.id)).pending).toBe(1);
    await clock.advance(1_000);
    await herald.tick();
    stats = await herald.campaigns.stats(campaign.id);
    expect(stats).toMatchObject({ sent: 3, gone: 1, failed: 1, pending: 0 });
    const flaky = (
      await storage.listDeliveries(campaign.id, '2026-03-01T10:00:00.000Z', ['user-0001' as never])
    )[0];
    expect(flaky).toMatchObject({ status: 'sent', attempts: 2 });
  });
});
