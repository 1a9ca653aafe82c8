import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { OutboundMessage, PushProvider } from '../../src/delivery/provider.js';
import { generateVapidKeys } from '../../src/delivery/vapid.js';
import { webPush } from '../../src/delivery/webpush-provider.js';
import { createDevPushService, type DevPushService } from '../../src/dev/push-service.js';
import { ConfigError, PayloadTooLargeError } from '../../src/errors/index.js';
import type { PushSubscriptionJson, WebPushSubscription } from '../../src/model/index.js';
import { storedWebPush } from './support/stored-subscription.js';

const vapid = { subject: 'mailto:ops@example.com', ...generateVapidKeys() };
/** The engine's time, deliberately far from the wall clock: outcomes must follow it. */
const now = new Date('2031-01-15T12:00:00Z');

function subscription(json: PushSubscriptionJson, n = 0): WebPushSubscription {
  return storedWebPush(json, now, n);
}

function message(
  json: PushSubscriptionJson,
  payload: string,
  extra: Partial<OutboundMessage> = {},
): OutboundMessage {
  return { subscription: subscription(json), payload, ttlSeconds: 600, urgency: 'normal', ...extra };
}

describe('webPush provider against the loopback push service', () => {
  let service: DevPushService;
  let provider: PushProvider;

  beforeAll(async () => {
    service = createDevPushService();
    await service.start();
    service.expectVapidPublicKey(vapid.publicKey);
    provider = webPush({ vapid });
  });
  afterAll(async () => {
    await provider.close();
    await service.stop();
  });
  beforeEach(() => service.clear());

  it('delivers 200 distinct messages to 200 subscribers, each decrypted by http_ece and equal to what was sent', async () => {
    const subscribers = Array.from({ length: 200 }, () => service.createSubscription());
    const sent = new Map(
      subscribers.map((s, i) => [s.endpoint, JSON.stringify({ title: `Hello #${i}`, n: i })]),
    );
    const outcomes = await Promise.all(
      subscribers.map((s, i) =>
        provider.send(
          {
            ...message(s, sent.get(s.endpoint) as string),
            ttlSeconds: 3600 + i,
            urgency: 'high',
            topic: `t${i}`,
          },
          now,
        ),
      ),
    );

    expect(outcomes.every((o) => o.kind === 'sent' && o.statusCode === 201)).toBe(true);
    expect(service.rejected).toEqual([]);
    expect(service.received).toHaveLength(200);
    for (const [i, s] of subscribers.entries()) {
      const [got, ...more] = service.receivedFor(s.endpoint);
      expect(more).toEqual([]);
      expect(got?.plaintext).toBe(sent.get(s.endpoint));
      expect(got?.headers).toMatchObject({
        ttl: String(3600 + i),
        urgency: 'high',
        topic: `t${i}`,
        'content-encoding': 'aes128gcm',
        'content-type': 'application/octet-stream',
      });
      expect(got?.vapid).toMatchObject({
        sub: 'mailto:ops@example.com',
        aud: service.url,
        publicKey: vapid.publicKey,
      });
    }
    // One VAPID signature served all 200 messages to this origin.
    expect(new Set(service.received.map((m) => m.headers.authorization)).size).toBe(1);
    // Tokens are stamped with wall time (what the service checks), not the engine's simulated time.
    const exp = service.received[0]?.vapid.exp as number;
    expect(exp * 1000 - Date.now()).toBeGreaterThan(11.9 * 3600_000);
    expect(exp * 1000 - Date.now()).toBeLessThanOrEqual(12 * 3600_000);
  });

  it('reports a 410 subscription as gone', async () => {
    const s = service.createSubscription();
    service.respondWith(s.endpoint, { status: 410, body: 'push subscription has unsubscribed or expired.' });
    expect(await provider.send(message(s, '{"a":1}'), now)).toEqual({ kind: 'gone', statusCode: 410 });
    expect(service.receivedFor(s.endpoint)).toEqual([]);
  });

  it('retries a 429 at the instant its Retry-After names, counted from the answer (engine’s now + the request’s time)', async () => {
    const s = service.createSubscription();
    service.respondWith(s.endpoint, { status: 429, retryAfter: 5, body: 'rate limited' });
    const began = performance.now();
    const outcome = await provider.send(message(s, '{"a":1}'), now);
    const took = Math.ceil(performance.now() - began);
    expect(outcome).toMatchObject({
      kind: 'retry',
      statusCode: 429,
      reason: '429 Too Many Requests: rate limited',
    });
    const retryAt = outcome.kind === 'retry' ? outcome.retryAt.getTime() : 0;
    expect(retryAt).toBeGreaterThan(Date.parse('2031-01-15T12:00:05Z'));
    expect(retryAt).toBeLessThanOrEqual(Date.parse('2031-01-15T12:00:05Z') + took);
    service.respondWith(s.endpoint, { status: 429, retryAfter: 'Wed, 15 Jan 2031 13:00:00 GMT' });
    expect(await provider.send(message(s, '{"a":1}'), now)).toMatchObject({
      kind: 'retry',
      retryAt: new Date('2031-01-15T13:00:00Z'),
    });
  });

  it('retries a 503 once and sends on the second try', async () => {
    const s = service.createSubscription();
    service.respondWith(s.endpoint, { status: 503, times: 1 });
    const first = await provider.send(message(s, '{"try":1}'), now);
    expect(first).toMatchObject({ kind: 'retry', retryAt: now, statusCode: 503 });
    const second = await provider.send(message(s, '{"try":2}'), new Date(now.getTime() + 30_000));
    expect(second).toEqual({ kind: 'sent', statusCode: 201 });
    expect(service.receivedFor(s.endpoint).map((m) => m.plaintext)).toEqual(['{"try":2}']);
  });

  it.each([
    [400, 'UnauthorizedRegistration'],
    [413, 'Payload Too Large: message body exceeds 4096 bytes'],
    [403, 'VAPID key does not match the subscription'],
  ])('fails a %i with the service’s reason', async (status, body) => {
    const s = service.createSubscription();
    service.respondWith(s.endpoint, { status, body });
    const outcome = await provider.send(message(s, '{"a":1}'), now);
    expect(outcome).toMatchObject({ kind: 'failed', statusCode: status });
    expect(outcome.kind === 'failed' && outcome.reason).toContain(body);
    // A loopback 403 is not Apple's: this subscriber's problem, not the configuration's.
    expect(outcome).not.toHaveProperty('configFault');
  });

  it('refuses a 3994-byte payload before any request, naming the campaign', async () => {
    const s = service.createSubscription();
    const send = provider.send(message(s, 'x'.repeat(3994), { campaignId: 'cmp_big' }), now);
    await expect(send).rejects.toBeInstanceOf(PayloadTooLargeError);
    await expect(send).rejects.toThrow(
      'Campaign cmp_big: payload is 3994 bytes, over the 3993-byte Web Push limit',
    );
    expect(service.received).toEqual([]);
    expect(service.rejected).toEqual([]);
    // 3993 bytes still goes through.
    expect(await provider.send(message(s, 'x'.repeat(3993)), now)).toMatchObject({ kind: 'sent' });
    expect(service.receivedFor(s.endpoint)[0]?.plaintext).toHaveLength(3993);
  });

  it('is refused by a service that expects another VAPID key: failed, not retried', async () => {
    const other = webPush({ vapid: { subject: 'https://shop.example.com', ...generateVapidKeys() } });
    try {
      const s = service.createSubscription();
      const outcome = await other.send(message(s, '{"a":1}'), now);
      expect(outcome).toMatchObject({ kind: 'failed', statusCode: 403 });
      expect(outcome.kind === 'failed' && outcome.reason).toContain('VAPID public key does not match');
      expect(service.received).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it('refuses a safari subscription: the engine routes those to the APNs provider', async () => {
    const safari = {
      id: 'sub-s',
      userId: 'user-s',
      target: 'safari',
      deviceToken: 'ab'.repeat(32),
      createdAt: now,
      updatedAt: now,
    } as OutboundMessage['subscription'];
    await expect(
      provider.send({ subscription: safari, payload: '{}', ttlSeconds: 60, urgency: 'normal' }, now),
    ).rejects.toBeInstanceOf(ConfigError);
  });

  it('checks endpoints again before sending: plain http only to loopback by default, a given policy in full', async () => {
    const remote = message(
      { endpoint: 'http://10.1.2.3:8080/push/x', keys: service.createSubscription().keys },
      '{}',
    );
    expect(await provider.send(remote, now)).toEqual({
      kind: 'failed',
      statusCode: null,
      reason: 'endpoint refused: http is only allowed to a loopback address',
    });

    const strict = webPush({ vapid, endpointPolicy: {} });
    const allowing = webPush({ vapid, endpointPolicy: { allow: [service.url] } });
    try {
      const s = service.createSubscription();
      expect(await strict.send(message(s, '{}'), now)).toEqual({
        kind: 'failed',
        statusCode: null,
        reason: 'endpoint refused: must use https, not http',
      });
      expect(await allowing.send(message(s, '{}'), now)).toEqual({ kind: 'sent', statusCode: 201 });
    } finally {
      await strict.close();
      await allowing.close();
    }
  });

  it('refuses a bad VAPID subject or key pair when it is built', () => {
    expect(() => webPush({ vapid: { ...vapid, subject: 'mailto:me@localhost' } })).toThrow(ConfigError);
    expect(() => webPush({ vapid: { ...vapid, subject: 'ops@example.com' } })).toThrow(
      /must be a mailto: address or an https: URL/,
    );
    expect(() => webPush({ vapid: { ...vapid, privateKey: generateVapidKeys().privateKey } })).toThrow(
      /does not belong to the private key/,
    );
    expect(() => webPush({ vapid: { ...vapid, publicKey: 'AAAA' } })).toThrow(/65 bytes/);
  });
});

describe('webPush provider when the push service does not answer', () => {
  let silent: Server;
  let silentUrl: string;
  const service = createDevPushService();

  beforeAll(async () => {
    await service.start();
    // Accepts connections and never answers.
    silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    silent.closeAllConnections();
    await new Promise((resolve) => silent.close(resolve));
    await service.stop();
  });

  it('retries after a timeout, with no status', async () => {
    const provider = webPush({ vapid, timeoutMs: 200 });
    try {
      const keys = service.createSubscription().keys;
      const outcome = await provider.send(message({ endpoint: `${silentUrl}/push/x`, keys }, '{}'), now);
      expect(outcome).toEqual({
        kind: 'retry',
        retryAt: now,
        statusCode: null,
        reason: 'no answer within 200 ms',
      });
    } finally {
      await provider.close();
    }
  });

  it('retries when the connection is refused', async () => {
    const provider = webPush({ vapid });
    const gone = createDevPushService();
    const { url } = await gone.start();
    const s = gone.createSubscription();
    await gone.stop();
    try {
      const outcome = await provider.send(message(s, '{}'), now);
      expect(outcome).toMatchObject({ kind: 'retry', retryAt: now, statusCode: null });
      expect(outcome.kind === 'retry' && outcome.reason).toContain(`ECONNREFUSED ${new URL(url).host}`);
    } finally {
      await provider.close();
    }
  });
});
