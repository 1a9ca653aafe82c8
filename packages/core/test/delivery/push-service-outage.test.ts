import { createServer } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type CampaignStats,
  createHerald,
  generateVapidKeys,
  type Herald,
  type HeraldEvent,
  type HeraldPayload,
  memoryQueue,
  memoryStorage,
  silentLogger,
  webPush,
} from '../../src/index.js';
import {
  createTestPushService,
  type FakeClock,
  fakeClock,
  type TestPushService,
} from '../../src/testing/index.js';

vi.setConfig({ testTimeout: 120_000 });

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const USERS = 200;
/** Messages the push service takes before it goes down: the outage starts mid-campaign. */
const SENT_BEFORE_OUTAGE = 60;
const OUTAGE_MS = 5 * MINUTE;

/** A free loopback port, so the push service can come back where its subscriptions point. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Issue 18: a push service down for five minutes in the middle of a campaign,
 * answering 503 to everything, or refusing connections (its server stopped).
 * On a fake clock, in process, with the decrypting loopback service counting
 * what it accepts: nothing is lost, the breaker opens and the campaign
 * resumes when the service is back, messages past their TTL are skipped as
 * expired, and none reaches the service twice.
 */
describe.each([
  { mode: '503' as const, what: 'answering 503' },
  { mode: 'refused' as const, what: 'refusing connections' },
])('a push service down for five minutes mid-campaign, $what', ({ mode }) => {
  let service: TestPushService | undefined;
  let herald: Herald | undefined;
  afterEach(async () => {
    await herald?.stop();
    await service?.stop();
  });

  it('loses nothing, opens the breaker, resumes when back, skips expired messages, sends none twice', async () => {
    const clock: FakeClock = fakeClock('2026-03-01T09:59:00Z');
    const pushService = createTestPushService({ port: await freePort(), clock });
    service = pushService;
    const { url } = await pushService.start();
    const vapid = { subject: 'mailto:ops@example.com', ...generateVapidKeys() };
    pushService.expectVapidPublicKey(vapid.publicKey);

    const events: HeraldEvent[] = [];
    const endpoints: string[] = [];
    let sent = 0;
    let down: { from: Date; until: Date } | null = null;
    const goDown = () => {
      down = { from: clock.now(), until: new Date(clock.now().getTime() + OUTAGE_MS) };
      if (mode === '503')
        for (const endpoint of endpoints) pushService.respondWith(endpoint, { status: 503 });
      else void pushService.stop();
    };
    const comeBack = async () => {
      if (mode === '503') for (const endpoint of endpoints) pushService.respondWith(endpoint, null);
      else await pushService.start();
    };

    const engine = createHerald({
      storage: memoryStorage(),
      queue: memoryQueue(),
      providers: { webpush: webPush({ vapid, clock, encryptionWorkers: 0 }) },
      clock,
      logger: silentLogger,
      allowEndpoint: [url],
      random: () => 0.5,
      tuning: { pageSize: 50, batchSize: 20 },
      onEvent: (event) => {
        events.push(event);
        if (event.type === 'delivery' && event.outcome === 'sent') sent += 1;
        if (!down && sent >= SENT_BEFORE_OUTAGE) goDown();
      },
    });
    herald = engine;
    for (let i = 0; i < USERS; i++) {
      const userId = `user-${String(i).padStart(3, '0')}`;
      const subscription = pushService.createSubscription();
      endpoints.push(subscription.endpoint);
      await engine.profiles.upsert({ userId });
      await engine.subscriptions.add({ userId, subscription });
    }
    const launch = async (name: string, ttlSeconds: number) => {
      const campaign = await engine.campaigns.create({
        name,
        who: { segment: { type: 'all' } },
        what: { title: name, deeplink: 'https://shop.example.com/', ttlSeconds },
        when: { schedule: { type: 'once', at: '2026-03-01T10:00:00Z' } },
      });
      return engine.campaigns.schedule(campaign.id);
    };
    // One message that outlives the outage, one that does not (TTL 2 min, counted from 10:00).
    const lasting = await launch('Lasting', 3600);
    const fleeting = await launch('Fleeting', 120);

    // Every 10 s of engine time, for 40 minutes: the outage starts in the first pass at 10:00.
    let backAt: Date | null = null;
    for (let pass = 0; pass < 41 * 6; pass++) {
      await clock.advance(10 * SECOND);
      if (down && !backAt && clock.now() >= (down as { until: Date }).until) {
        await comeBack();
        backAt = clock.now();
      }
      await engine.tick();
    }
    expect(down).not.toBeNull();
    expect(backAt).not.toBeNull();

    // What the push service accepted, per (campaign, user): never twice.
    const accepted = new Map<string, number>();
    for (const message of pushService.received) {
      const payload = JSON.parse(message.plaintext) as HeraldPayload;
      const key = `${payload.herald.campaignId}/${payload.herald.userId}`;
      accepted.set(key, (accepted.get(key) ?? 0) + 1);
    }
    expect([...accepted.values()].filter((n) => n > 1)).toEqual([]);
    const acceptedOf = (campaignId: string) =>
      [...accepted.keys()].filter((key) => key.startsWith(`${campaignId}/`)).length;

    // Nothing lost: the lasting campaign reached every user once, after the service came back.
    const lastingStats: CampaignStats = await engine.campaigns.stats(lasting.id);
    expect(lastingStats).toMatchObject({
      recipients: USERS,
      sent: USERS,
      pending: 0,
      failed: 0,
      skipped: {},
    });
    expect(acceptedOf(lasting.id)).toBe(USERS);

    // The fleeting campaign: what went out before the outage, the rest skipped as expired, nothing after its TTL.
    const fleetingStats = await engine.campaigns.stats(fleeting.id);
    const expired = fleetingStats.skipped.expired ?? 0;
    expect(expired).toBeGreaterThan(0);
    expect(fleetingStats.sent + expired).toBe(USERS);
    expect(fleetingStats.pending).toBe(0);
    expect(acceptedOf(fleeting.id)).toBe(fleetingStats.sent);
    const fleetingEnd = new Date('2026-03-01T10:02:00Z');
    for (const message of pushService.received) {
      const payload = JSON.parse(message.plaintext) as HeraldPayload;
      if (payload.herald.campaignId === fleeting.id) expect(message.receivedAt <= fleetingEnd).toBe(true);
    }

    // The breaker opened during the outage, and sends resumed once the service was back.
    const outage = down as unknown as { from: Date; until: Date };
    expect(events.some((event) => event.type === 'circuit-open')).toBe(true);
    const acceptedDuringOutage = pushService.received.filter(
      (message) => message.receivedAt > outage.from && message.receivedAt < outage.until,
    );
    expect(acceptedDuringOutage).toEqual([]);
    const resumed = pushService.received.filter((message) => message.receivedAt >= outage.until);
    expect(resumed.length).toBeGreaterThan(0);
    // Resumed within minutes of the service's return (the breaker's next probe), not after the retries ran out.
    const lastResumed = resumed.at(-1)?.receivedAt.getTime() ?? Number.POSITIVE_INFINITY;
    expect(lastResumed - (backAt as unknown as Date).getTime()).toBeLessThanOrEqual(5 * MINUTE);
  });
});
