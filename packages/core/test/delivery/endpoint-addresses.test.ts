import { describe, expect, it } from 'vitest';
import {
  createEndpointPolicy,
  createHerald,
  generateVapidKeys,
  isNonPublicAddress,
  memoryQueue,
  memoryStorage,
  silentLogger,
  webPush,
} from '../../src/index.js';
import { createTestPushService, fakeClock } from '../../src/testing/index.js';

/**
 * A push service's name is not enough: a host name on a known suffix (or a DNS answer changed
 * later) could point Herald at the host's own network. Addresses are checked after resolution, at
 * subscribe and again before each send.
 */
describe('endpoint addresses', () => {
  it('knows the ranges that are not the public internet', () => {
    for (const inner of [
      '127.0.0.1',
      '10.1.2.3',
      '172.20.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      'fe80::1',
      'fd00::1',
      '::ffff:127.0.0.1',
      '::ffff:10.0.0.1',
      'not-an-ip',
    ]) {
      expect(isNonPublicAddress(inner), inner).toBe(true);
    }
    for (const outer of ['142.250.74.10', '2a00:1450:4001:80b::200a', '::ffff:8.8.8.8']) {
      expect(isNonPublicAddress(outer), outer).toBe(false);
    }
  });

  it('refuses an endpoint whose host resolves to a private address; an allow rule is the explicit opt-in', async () => {
    const dns: Record<string, string[]> = {
      'fcm.googleapis.com': ['142.250.74.10'],
      'evil.push.services.mozilla.com': ['142.250.74.11', '169.254.169.254'],
      'push.internal.example': ['10.0.0.5'],
    };
    const policy = createEndpointPolicy({
      allow: ['https://push.internal.example'],
      resolve: async (host) => dns[host] ?? [],
      clock: fakeClock('2026-04-01T08:00:00Z'),
    });
    expect(await policy.checkAddress('https://fcm.googleapis.com/fcm/send/a')).toEqual({ ok: true });
    expect(await policy.checkAddress('https://evil.push.services.mozilla.com/wpush/v2/a')).toEqual({
      ok: false,
      reason: 'evil.push.services.mozilla.com resolves to a non-public address (169.254.169.254)',
    });
    expect(await policy.checkAddress('https://push.internal.example/a')).toEqual({ ok: true });
    expect(await policy.checkAddress('https://unknown.push.apple.com/a')).toEqual({ ok: true });
  });

  it('resolves a push service once for the sends that start together, and again after a minute', async () => {
    const clock = fakeClock('2026-04-01T08:00:00Z');
    const lookups: string[] = [];
    let answer: (addresses: string[]) => void = () => {};
    const slowAnswer = new Promise<string[]>((done) => {
      answer = done;
    });
    const policy = createEndpointPolicy({
      resolve: (host) => {
        lookups.push(host);
        return slowAnswer;
      },
      clock,
    });
    // A job's first hundred sends to one service, all before the DNS answers.
    const checks = Array.from({ length: 100 }, (_, index) =>
      policy.checkAddress(`https://fcm.googleapis.com/fcm/send/${index}`),
    );
    answer(['142.250.74.10']);
    expect(await Promise.all(checks)).toEqual(Array.from({ length: 100 }, () => ({ ok: true })));
    expect(lookups).toEqual(['fcm.googleapis.com']);
    await clock.advance(61_000);
    expect(await policy.checkAddress('https://fcm.googleapis.com/fcm/send/again')).toEqual({ ok: true });
    expect(lookups).toEqual(['fcm.googleapis.com', 'fcm.googleapis.com']);
  });

  it('refuses such a subscription at subscribe and does not send to one whose DNS changed since', async () => {
    const service = createTestPushService();
    await service.start();
    try {
      const dns: Record<string, string[]> = { 'web.push.apple.com': ['17.0.0.1'] };
      const clock = fakeClock('2026-04-01T08:00:00Z');
      const herald = createHerald({
        storage: memoryStorage(),
        queue: memoryQueue(),
        providers: {
          webpush: webPush({ vapid: { subject: 'mailto:ops@example.com', ...generateVapidKeys() } }),
        },
        clock,
        resolveHost: async (host) => dns[host] ?? [],
        logger: silentLogger,
      });
      const keys = service.createSubscription().keys;
      dns['rebind.push.apple.com'] = ['127.0.0.1'];
      await expect(
        herald.subscriptions.add({
          userId: 'ada',
          subscription: { endpoint: 'https://rebind.push.apple.com/x', keys },
        }),
      ).rejects.toMatchObject({ code: 'endpoint_not_allowed' });
      expect(await herald.subscriptions.list('ada')).toEqual([]);

      await herald.subscriptions.add({
        userId: 'bob',
        subscription: { endpoint: 'https://web.push.apple.com/y', keys },
      });
      dns['web.push.apple.com'] = ['192.168.0.10'];
      await clock.advance(61_000);
      const campaign = await herald.campaigns.create({
        name: 'Rebound',
        when: { schedule: { type: 'once', at: '2026-04-01T08:01:01Z' } },
        who: { segment: { type: 'all' } },
        what: { title: 'Hi', deeplink: 'https://example.com/' },
      });
      await herald.campaigns.schedule(campaign.id);
      await herald.tick();
      expect(await herald.campaigns.stats(campaign.id)).toMatchObject({ sent: 0, failed: 1 });
      const explained = JSON.stringify(await herald.campaigns.explain(campaign.id, 'bob'));
      expect(explained).toContain('resolves to a non-public address (192.168.0.10)');
      expect(await herald.subscriptions.list('bob')).toHaveLength(1);
    } finally {
      await service.stop();
    }
  });
});
