import { generateKeyPairSync } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pooledHttpTransport } from '../../src/delivery/pooled-http-transport.js';
import type { OutboundMessage, PushProvider } from '../../src/delivery/provider.js';
import { adaptForSafari, TARGET_REPORTING, urlArgsOf } from '../../src/delivery/safari-adapt.js';
import { apnsPayloadOf, outcomeOfApnsResponse, safariApns } from '../../src/delivery/safari-apns.js';
import { ConfigError } from '../../src/errors/index.js';
import type { SafariSubscription, Urgency } from '../../src/model/index.js';
import { DECLARATIVE_WEB_PUSH, type HeraldPayload } from '../../src/payload/index.js';
import { createTestApnsService, type TestApnsService } from '../../src/testing/push-service/apns-stand-in.js';

const team = { teamId: 'TEAM123456', keyId: 'KEY1234567' };
const topic = 'web.com.example.shop';
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const p8 = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const now = new Date('2031-05-01T08:00:00Z');

/** A wall clock the test moves, shared by the provider (token iat) and the stand-in (its check). */
const wall = { at: new Date('2031-05-01T08:00:00Z'), now: () => wall.at, sleep: async () => undefined };

function payload(
  extra: Partial<HeraldPayload['notification']> = {},
  herald: Partial<HeraldPayload['herald']> = {},
) {
  const value: HeraldPayload = {
    web_push: DECLARATIVE_WEB_PUSH,
    notification: {
      title: 'Spring sale',
      body: 'Shoes -30%',
      navigate: 'https://shop.example.com/sale/shoes',
      ...extra,
    },
    herald: { v: 1, campaignId: 'c1', occurrence: 'o1', userId: 'u1', token: 't', expiresAt: 0, ...herald },
  };
  return JSON.stringify(value);
}

let counter = 0;
function deviceToken(): string {
  counter += 1;
  return counter.toString(16).padStart(64, 'a');
}

function message(
  token: string,
  json = payload(),
  urgency: Urgency = 'normal',
  ttlSeconds = 3600,
): OutboundMessage {
  const subscription: SafariSubscription = {
    id: `s-${token.slice(-6)}` as SafariSubscription['id'],
    userId: 'u1' as SafariSubscription['userId'],
    target: 'safari',
    deviceToken: token,
    createdAt: now,
    updatedAt: now,
  };
  return { subscription, payload: json, ttlSeconds, urgency, campaignId: 'c1' };
}

describe('safariApns against the loopback APNs stand-in (TLS, HTTP/2)', () => {
  let apns: TestApnsService;
  let provider: PushProvider;

  beforeAll(async () => {
    apns = createTestApnsService({ ...team, publicKey, topic, clock: wall });
    await apns.start();
    provider = safariApns({
      ...team,
      privateKey: p8,
      websitePushId: topic,
      endpoint: apns.url,
      clock: wall,
      transport: pooledHttpTransport({ ca: apns.ca }),
    });
  });
  afterAll(async () => {
    await provider.close();
    await apns.stop();
  });
  // The wall clock only moves forward, as a real one does: tokens stay cached across tests.
  beforeEach(() => apns.clear());

  it('sends the alert with url-args from the deeplink and Apple headers, signed with a verified provider JWT', async () => {
    const token = deviceToken();
    expect(await provider.send(message(token, payload(), 'high', 3600), now)).toEqual({
      kind: 'sent',
      statusCode: 200,
    });
    const [got] = apns.received;
    expect(got?.payload).toEqual({
      aps: { alert: { title: 'Spring sale', body: 'Shoes -30%' }, 'url-args': ['sale', 'shoes'] },
    });
    expect(got?.headers).toMatchObject({
      'apns-topic': topic,
      'apns-push-type': 'alert',
      'apns-priority': '10',
      'apns-expiration': String(wall.at.getTime() / 1000 + 3600),
    });
    expect(got?.headers['apns-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(decodeProtectedHeader(got?.jwt ?? '')).toEqual({ alg: 'ES256', kid: team.keyId });
    expect(decodeJwt(got?.jwt ?? '')).toEqual({ iss: team.teamId, iat: wall.at.getTime() / 1000 });
  });

  it('uses priority 5 for low and very-low urgency, and expiration 0 for a TTL of 0', async () => {
    await provider.send(message(deviceToken(), payload(), 'low', 0), now);
    await provider.send(message(deviceToken(), payload(), 'very-low'), now);
    expect(apns.received.map((r) => r.headers['apns-priority'])).toEqual(['5', '5']);
    expect(apns.received[0]?.headers['apns-expiration']).toBe('0');
  });

  it('reuses one token for 50 minutes, then signs a new one (Apple wants 20 to 60)', async () => {
    await provider.send(message(deviceToken()), now);
    wall.at = new Date(wall.at.getTime() + 49 * 60_000);
    await provider.send(message(deviceToken()), now);
    wall.at = new Date(wall.at.getTime() + 2 * 60_000);
    await provider.send(message(deviceToken()), now);
    const [a, b, c] = apns.received.map((r) => r.jwt);
    expect(a).toBe(b);
    expect(c).not.toBe(b);
    expect(apns.answered.every((r) => r.status === 200)).toBe(true);
  });

  it('renews the token once on 403 ExpiredProviderToken and sends again', async () => {
    const token = deviceToken();
    apns.respondWith(token, { status: 403, reason: 'ExpiredProviderToken', times: 1 });
    expect(await provider.send(message(token), now)).toEqual({ kind: 'sent', statusCode: 200 });
    const [first, second] = apns.answered;
    expect([first?.status, second?.status]).toEqual([403, 200]);
    expect(second?.jwt).not.toBe(first?.jwt);
  });

  it('fails as "Invalid Authentication" (configFault) when the renewed token is refused too: two requests, no loop', async () => {
    const token = deviceToken();
    apns.respondWith(token, { status: 403, reason: 'InvalidProviderToken' });
    const outcome = await provider.send(message(token), now);
    expect(outcome).toEqual({
      kind: 'failed',
      statusCode: 403,
      reason: 'Invalid Authentication: 403 InvalidProviderToken',
      configFault: true,
    });
    expect(apns.answered).toHaveLength(2);
  });

  it('a provider signing with another team key is refused by the stand-in and never retried in a loop', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    const impostor = safariApns({
      ...team,
      privateKey: other.toString(),
      websitePushId: topic,
      endpoint: apns.url,
      clock: wall,
      transport: pooledHttpTransport({ ca: apns.ca }),
    });
    try {
      const outcome = await impostor.send(message(deviceToken()), now);
      expect(outcome).toMatchObject({ kind: 'failed', statusCode: 403, configFault: true });
      expect(apns.answered.map((a) => a.reason)).toEqual(['InvalidProviderToken', 'InvalidProviderToken']);
    } finally {
      await impostor.close();
    }
  });

  it.each([
    [400, 'BadDeviceToken', { kind: 'failed', statusCode: 400, reason: '400 BadDeviceToken' }],
    [400, 'BadRequest', { kind: 'failed', statusCode: 400, reason: '400 BadRequest' }],
    [410, 'Unregistered', { kind: 'gone', statusCode: 410 }],
    [410, 'DeviceTokenInactiveForTopic', { kind: 'gone', statusCode: 410 }],
    [
      429,
      'TooManyRequests',
      {
        kind: 'retry',
        statusCode: 429,
        reason: '429 TooManyRequests',
        retryAt: new Date(now.getTime() + 60_000),
      },
    ],
    [
      503,
      'ServiceUnavailable',
      { kind: 'retry', statusCode: 503, reason: '503 ServiceUnavailable', retryAt: now },
    ],
  ])('maps %i %s', async (status, reason, expected) => {
    const token = deviceToken();
    apns.respondWith(token, { status, reason, times: 1 });
    expect(await provider.send(message(token), now)).toEqual(expected);
    expect(apns.answered).toHaveLength(1);
  });

  it('refuses a webpush subscription and a payload over 4 KB before any request', async () => {
    const web = {
      ...message(deviceToken()),
      subscription: { ...message(deviceToken()).subscription, target: 'webpush' },
    };
    await expect(provider.send(web as unknown as OutboundMessage, now)).rejects.toBeInstanceOf(ConfigError);
    await expect(
      provider.send(message(deviceToken(), payload({ body: 'x'.repeat(5000) })), now),
    ).rejects.toThrow(/Campaign c1: payload is \d+ bytes, over the 4096-byte/);
    expect(apns.answered).toHaveLength(0);
  });
});

describe('safariApns configuration', () => {
  it('refuses malformed team id, key id, key and website push id at once', () => {
    const ok = { ...team, privateKey: p8, websitePushId: topic };
    expect(() => safariApns({ ...ok, teamId: 'team' })).toThrow(ConfigError);
    expect(() => safariApns({ ...ok, keyId: 'k' })).toThrow(/key id/);
    expect(() => safariApns({ ...ok, privateKey: 'not a pem' })).toThrow(/\.p8/);
    expect(() => safariApns({ ...ok, websitePushId: 'com.example' })).toThrow(/websitePushId/);
  });

  it('refuses a misspelt option, naming the one meant', () => {
    const { websitePushId: _, ...rest } = { ...team, privateKey: p8, websitePushId: topic };
    expect(() => safariApns({ ...rest, websitePushID: topic } as never)).toThrow(
      new ConfigError(
        'safariApns options: websitePushId: required; websitePushID: unknown key; did you mean "websitePushId"?',
      ),
    );
    expect(() => safariApns({ ...rest, websitePushId: topic, timeoutMS: 5000 } as never)).toThrow(
      new ConfigError('safariApns options: timeoutMS: unknown key; did you mean "timeoutMs"?'),
    );
  });
});

describe('adaptForSafari and the APNs payload mapping', () => {
  it('keeps title, body and url-args; drops icon, image, badge and actions with a warning each', () => {
    const json = payload(
      { actions: [{ action: 'buy', title: 'Buy', navigate: 'https://shop.example.com/buy' }] },
      {
        icon: 'https://cdn.example.com/i.png',
        image: 'https://cdn.example.com/p.png',
        badge: 'https://cdn.example.com/b.png',
      },
    );
    const adapted = adaptForSafari(JSON.parse(json) as HeraldPayload);
    expect(adapted.dropped).toEqual(['icon', 'image', 'badge', 'actions']);
    expect(adapted.warnings).toHaveLength(4);
    expect(adapted.warnings[3]).toMatch(/no action buttons/);
    expect(apnsPayloadOf(json, 'View')).toEqual({
      aps: {
        alert: { title: 'Spring sale', body: 'Shoes -30%', action: 'View' },
        'url-args': ['sale', 'shoes'],
      },
    });
  });

  it('works on campaign content for the preview, and says when the query string is lost', () => {
    const adapted = adaptForSafari({
      title: 'Hi',
      deeplink: 'https://shop.example.com/p/caf%C3%A9?utm=push#top',
    });
    expect(adapted.urlArgs).toEqual(['p', 'café']);
    expect(adapted.dropped).toEqual(['deeplink-query']);
    expect(adapted.body).toBe('');
  });

  it('derives url-args from path segments only', () => {
    expect(urlArgsOf('https://shop.example.com/')).toEqual({ urlArgs: [], lostQuery: false });
    expect(urlArgsOf('https://shop.example.com/a//b/')).toEqual({ urlArgs: ['a', 'b'], lostQuery: false });
    expect(urlArgsOf('{{ user.link }}')).toEqual({ urlArgs: [], lostQuery: false });
  });

  it('refuses a payload that is not Herald JSON', () => {
    expect(() => apnsPayloadOf('nope')).toThrow(ConfigError);
    expect(() => apnsPayloadOf('{"title":"x"}')).toThrow(/not a Herald payload/);
  });

  it('says Safari legacy recipients report nothing back (stats show n/a, not zero)', () => {
    expect(TARGET_REPORTING.safari).toEqual({ viewed: false, clicked: false, closed: false });
    expect(TARGET_REPORTING.webpush.viewed).toBe(true);
  });
});

describe('outcomeOfApnsResponse', () => {
  const sentAt = new Date('2026-12-06T10:00:00.000Z');
  const answeredAt = new Date('2026-12-06T10:00:00.300Z');
  const answer = (statusCode: number, headers: Record<string, string> = {}) => ({
    statusCode,
    headers,
    body: '{"reason":"TooManyRequests"}',
  });

  it("counts Retry-After from Apple's answer, not from the request (RFC 9110 §10.2.3)", () => {
    const outcome = outcomeOfApnsResponse(answer(429, { 'retry-after': '5' }), sentAt, answeredAt);
    expect(outcome).toMatchObject({ kind: 'retry', statusCode: 429 });
    expect(outcome.kind === 'retry' && outcome.retryAt.toISOString()).toBe('2026-12-06T10:00:05.300Z');
  });

  it('counts from the request when no answer time is given, as before', () => {
    const outcome = outcomeOfApnsResponse(answer(503, { 'retry-after': '2' }), sentAt);
    expect(outcome.kind === 'retry' && outcome.retryAt.toISOString()).toBe('2026-12-06T10:00:02.000Z');
  });
});
