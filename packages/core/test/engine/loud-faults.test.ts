import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDevPushService, type DevPushService } from '../../src/dev/index.js';
import {
  createHerald,
  generateVapidKeys,
  type HeraldEvent,
  type Logger,
  memoryQueue,
  memoryStorage,
  silentLogger,
  webPush,
} from '../../src/index.js';
import { fakeClock } from '../../src/testing/index.js';

type Line = { level: keyof Logger; message: string; fields?: Record<string, unknown> };

function recordingLogger(lines: Line[]): Logger {
  const at =
    (level: keyof Logger) =>
    (message: string, fields?: Record<string, unknown>): void => {
      lines.push({ level, message, ...(fields ? { fields } : {}) });
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

const SUBSCRIBERS = 4;

describe('configuration faults are loud, once', () => {
  let service: DevPushService;
  beforeAll(async () => {
    service = createDevPushService();
    await service.start();
  });
  afterEach(() => service.expectVapidPublicKey(null));
  afterAll(() => service.stop());

  it('a push service refusing our VAPID key (403 to everything) logs one error per campaign and push service, naming the fix; onEvent gets every outcome', async () => {
    const clock = fakeClock('2026-03-01T09:00:00Z');
    const lines: Line[] = [];
    const events: HeraldEvent[] = [];
    const herald = createHerald({
      storage: memoryStorage(),
      queue: memoryQueue(),
      providers: {
        webpush: webPush({ vapid: { subject: 'mailto:ops@example.com', ...generateVapidKeys() } }),
      },
      clock,
      logger: recordingLogger(lines),
      onEvent: (event) => events.push(event),
      allowEndpoint: [service.url],
      reportSecret: 'a-secret-that-is-long-enough-for-hmac',
    });
    // The browsers subscribed with another key pair: the service refuses every token we sign.
    service.expectVapidPublicKey(generateVapidKeys().publicKey);
    try {
      for (let index = 0; index < SUBSCRIBERS; index++) {
        await herald.subscriptions.add({
          userId: `user-${index}`,
          subscription: service.createSubscription(),
        });
      }
      const campaignIds: string[] = [];
      for (const name of ['First', 'Second']) {
        const campaign = await herald.campaigns.create({
          name,
          when: { schedule: { type: 'once', at: '2026-03-01T09:00:00Z' } },
          who: { segment: { type: 'all' } },
          what: { title: 'Hi', deeplink: 'https://shop.example.com/' },
        });
        await herald.campaigns.schedule(campaign.id);
        campaignIds.push(campaign.id);
      }
      await herald.tick();

      const pushService = new URL(service.url).host;
      const errors = lines.filter((line) => line.level === 'error');
      expect(errors).toHaveLength(2);
      expect(errors.map((line) => line.fields?.campaignId).sort()).toEqual([...campaignIds].sort());
      for (const line of errors) {
        expect(line.message).toContain(`push service ${pushService} refused VAPID (403)`);
        expect(line.message).toContain(
          'the VAPID key pair does not match the one the subscription was created with',
        );
        expect(line.fields).toMatchObject({ pushService, status: 403 });
      }

      const deliveries = events.filter((event) => event.type === 'delivery');
      expect(deliveries).toHaveLength(2 * SUBSCRIBERS);
      for (const delivery of deliveries) {
        expect(delivery).toMatchObject({ target: 'webpush', outcome: 'failed', status: 403, pushService });
      }
      for (const campaignId of campaignIds) {
        expect(await herald.campaigns.stats(campaignId)).toMatchObject({ failed: SUBSCRIBERS, sent: 0 });
        expect(events).toContainEqual({
          type: 'campaign-status',
          campaignId,
          from: 'draft',
          to: 'scheduled',
        });
        expect(events).toContainEqual({
          type: 'campaign-status',
          campaignId,
          from: 'scheduled',
          to: 'running',
        });
        expect(events).toContainEqual(expect.objectContaining({ type: 'occurrence-started', campaignId }));
        expect(events).toContainEqual(expect.objectContaining({ type: 'occurrence-finished', campaignId }));
        expect(events).toContainEqual({
          type: 'campaign-status',
          campaignId,
          from: 'running',
          to: 'completed',
        });
      }
    } finally {
      await herald.stop();
    }
  });

  it('sends every outcome to onEvent, and a throwing handler is logged, not fatal', async () => {
    const lines: Line[] = [];
    const outcomes: string[] = [];
    const herald = createHerald({
      storage: memoryStorage(),
      queue: memoryQueue(),
      providers: {
        webpush: webPush({ vapid: { subject: 'mailto:ops@example.com', ...generateVapidKeys() } }),
      },
      clock: fakeClock('2026-03-01T09:00:00Z'),
      logger: recordingLogger(lines),
      onEvent: (event) => {
        if (event.type !== 'delivery') return;
        outcomes.push(event.outcome);
        throw new Error('metrics backend down');
      },
      allowEndpoint: [service.url],
      reportSecret: 'a-secret-that-is-long-enough-for-hmac',
    });
    try {
      const kept = service.createSubscription();
      const gone = service.createSubscription();
      service.respondWith(gone.endpoint, { status: 410 });
      await herald.subscriptions.add({ userId: 'kept', subscription: kept });
      await herald.subscriptions.add({ userId: 'gone', subscription: gone });
      const campaign = await herald.campaigns.create({
        name: 'Mixed',
        when: { schedule: { type: 'once', at: '2026-03-01T09:00:00Z' } },
        who: { segment: { type: 'all' } },
        what: { title: 'Hi', deeplink: 'https://shop.example.com/' },
      });
      await herald.campaigns.schedule(campaign.id);
      await herald.tick();
      expect(outcomes.sort()).toEqual(['gone', 'sent']);
      expect(await herald.campaigns.stats(campaign.id)).toMatchObject({ sent: 1, gone: 1 });
      expect(lines.filter((line) => line.message.startsWith('onEvent handler threw'))).toHaveLength(2);
    } finally {
      await herald.stop();
    }
  });

  it('a push service failing most requests opens the circuit: one error naming it, and a circuit-open event', async () => {
    const lines: Line[] = [];
    const events: HeraldEvent[] = [];
    const herald = createHerald({
      storage: memoryStorage(),
      queue: memoryQueue(),
      providers: {
        webpush: webPush({ vapid: { subject: 'mailto:ops@example.com', ...generateVapidKeys() } }),
      },
      clock: fakeClock('2026-03-01T09:00:00Z'),
      logger: recordingLogger(lines),
      onEvent: (event) => events.push(event),
      allowEndpoint: [service.url],
      reportSecret: 'a-secret-that-is-long-enough-for-hmac',
      // One send at a time, so the breaker has seen its ten failures before the rest go out.
      tuning: { sendConcurrency: 1 },
    });
    try {
      for (let index = 0; index < 14; index++) {
        const subscription = service.createSubscription();
        service.respondWith(subscription.endpoint, { status: 503 });
        await herald.subscriptions.add({ userId: `user-${index}`, subscription });
      }
      const campaign = await herald.campaigns.create({
        name: 'Outage',
        when: { schedule: { type: 'once', at: '2026-03-01T09:00:00Z' } },
        who: { segment: { type: 'all' } },
        what: { title: 'Hi', deeplink: 'https://shop.example.com/' },
      });
      await herald.campaigns.schedule(campaign.id);
      await herald.tick();
      const pushService = new URL(service.url).host;
      const circuitLines = lines.filter((line) => line.message.includes('circuit open'));
      expect(circuitLines).toHaveLength(1);
      expect(circuitLines[0]).toMatchObject({
        level: 'error',
        fields: { campaignId: campaign.id, pushService },
      });
      expect(events.filter((event) => event.type === 'circuit-open')).toEqual([
        expect.objectContaining({ type: 'circuit-open', campaignId: campaign.id, pushService }),
      ]);
      expect(events.filter((event) => event.type === 'delivery' && event.outcome === 'retry')).toHaveLength(
        14,
      );
    } finally {
      await herald.stop();
    }
  });

  it('prints warnings and errors by default, and nothing with silentLogger', async () => {
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    try {
      const options = {
        storage: memoryStorage(),
        queue: memoryQueue(),
        providers: {
          webpush: webPush({ vapid: { subject: 'mailto:ops@example.com', ...generateVapidKeys() } }),
        },
      };
      // No reportSecret: a warning worth seeing.
      createHerald(options);
      expect(written.map((line) => JSON.parse(line))).toEqual([
        expect.objectContaining({ level: 'warn', message: expect.stringContaining('no reportSecret given') }),
      ]);
      written.length = 0;
      createHerald({ ...options, logger: silentLogger });
      expect(written).toEqual([]);
    } finally {
      spy.mockRestore();
    }
  });
});
