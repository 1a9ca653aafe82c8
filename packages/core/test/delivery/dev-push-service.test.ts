import { createECDH } from 'node:crypto';
import { once } from 'node:events';
import { Agent, request } from 'node:https';
import { connect } from 'node:net';
import { importJWK, SignJWT } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import webPushLib from 'web-push';
import { generateVapidKeys, p256Jwk } from '../../src/delivery/vapid.js';
import { createDevPushService, type DevPushService } from '../../src/dev/push-service.js';
import type { PushSubscriptionJson } from '../../src/model/index.js';
import { fakeClock } from '../../src/testing/fake-clock.js';

const vapid = { subject: 'mailto:ops@example.com', ...generateVapidKeys() };

/** An ES256 VAPID header signed with jose, with the claims a test chooses. */
async function vapidHeader(claims: Record<string, unknown>, keys = vapid): Promise<string> {
  const key = await importJWK(p256Jwk(Buffer.from(keys.publicKey, 'base64url'), keys.privateKey), 'ES256');
  const jwt = await new SignJWT(claims).setProtectedHeader({ typ: 'JWT', alg: 'ES256' }).sign(key);
  return `vapid t=${jwt}, k=${keys.publicKey}`;
}

describe('dev push service', () => {
  let service: DevPushService;
  const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

  beforeAll(async () => {
    service = createDevPushService();
    await service.start();
  });
  afterAll(() => service.stop());
  beforeEach(() => {
    service.clear();
    service.expectVapidPublicKey(null);
  });

  async function post(endpoint: string, headers: Record<string, string>, body: Buffer = Buffer.from('x')) {
    const response = await fetch(endpoint, { method: 'POST', headers, body: new Uint8Array(body) });
    return { status: response.status, text: await response.text() };
  }

  async function validHeaders(extra: Record<string, string> = {}) {
    return {
      TTL: '60',
      'Content-Encoding': 'aes128gcm',
      Authorization: await vapidHeader({ aud: service.url, sub: 'mailto:ops@example.com', exp: inAnHour() }),
      ...extra,
    };
  }

  it('hands out real P-256 subscriptions under its own origin', () => {
    const s = service.createSubscription();
    expect(s.endpoint).toMatch(new RegExp(`^${service.url}/push/[0-9a-f-]{36}$`));
    expect(Buffer.from(s.keys.p256dh, 'base64url')).toHaveLength(65);
    expect(Buffer.from(s.keys.auth, 'base64url')).toHaveLength(16);
    // A real point: a fresh key pair can agree a secret with it.
    const peer = createECDH('prime256v1');
    peer.generateKeys();
    expect(peer.computeSecret(Buffer.from(s.keys.p256dh, 'base64url'))).toHaveLength(32);
    expect(service.createSubscription().keys.p256dh).not.toBe(s.keys.p256dh);
  });

  /** Sends as the web-push package would (its own VAPID and encryption), over plain http. */
  async function sendWithWebPush(
    s: PushSubscriptionJson,
    payload: string,
    options: webPushLib.RequestOptions,
  ) {
    const details = webPushLib.generateRequestDetails(s, payload, { vapidDetails: vapid, ...options });
    const response = await fetch(details.endpoint, {
      method: details.method,
      headers: details.headers as Record<string, string>,
      body: new Uint8Array(details.body as Buffer),
    });
    return { status: response.status, headers: response.headers, text: await response.text() };
  }

  it('accepts what the web-push package sends and decrypts it (an independent sender)', async () => {
    const s = service.createSubscription();
    service.expectVapidPublicKey(vapid.publicKey);
    const result = await sendWithWebPush(s, '{"from":"web-push"}', { TTL: 120, urgency: 'low' });
    expect(result.status).toBe(201);
    expect(result.headers.get('location')).toMatch(new RegExp(`^${service.url}/message/`));
    const [got] = service.receivedFor(s.endpoint);
    expect(got).toMatchObject({
      plaintext: '{"from":"web-push"}',
      headers: { ttl: '120', urgency: 'low' },
      vapid: { sub: 'mailto:ops@example.com', aud: service.url, publicKey: vapid.publicKey },
    });
  });

  it('answers 401 to a request without VAPID credentials', async () => {
    const s = service.createSubscription();
    expect(await post(s.endpoint, { TTL: '60', 'Content-Encoding': 'aes128gcm' })).toEqual({
      status: 401,
      text: 'missing Authorization header',
    });
    expect((await post(s.endpoint, { ...(await validHeaders()), Authorization: 'WebPush abc' })).status).toBe(
      401,
    );
    expect(service.rejected.map((r) => r.status)).toEqual([401, 401]);
  });

  it('answers 403 when the signature is not by k', async () => {
    const s = service.createSubscription();
    const signedByOther = await vapidHeader(
      { aud: service.url, sub: 'mailto:ops@example.com', exp: inAnHour() },
      { ...generateVapidKeys(), subject: '' },
    );
    const forged = signedByOther.replace(/k=.+$/, `k=${vapid.publicKey}`);
    const answer = await post(s.endpoint, await validHeaders({ Authorization: forged }));
    expect(answer).toEqual({ status: 403, text: 'BadJwtToken: signature does not verify with k' });
  });

  it.each([
    ['another audience', { aud: 'https://fcm.googleapis.com', sub: 'mailto:ops@example.com' }, /claim aud/],
    [
      'an expired token',
      { sub: 'mailto:ops@example.com', exp: Math.floor(Date.now() / 1000) - 10 },
      /token expired/,
    ],
    [
      'a token living over 24 h',
      { sub: 'mailto:ops@example.com', exp: Math.floor(Date.now() / 1000) + 25 * 3600 },
      /more than 24 hours/,
    ],
    ['a subject that is no contact', { sub: 'ops@example.com' }, /sub must be a mailto: or https: URI/],
    ['a token without sub', { sub: undefined }, /claim sub/],
  ])('answers 403 to %s', async (_, claims, reason) => {
    const s = service.createSubscription();
    const header = await vapidHeader({ aud: service.url, exp: inAnHour(), ...claims });
    const answer = await post(s.endpoint, await validHeaders({ Authorization: header }));
    expect(answer.status).toBe(403);
    expect(answer.text).toMatch(reason);
    expect(service.received).toEqual([]);
  });

  it('checks expiry against its own clock when given one', async () => {
    const clock = fakeClock('2030-01-01T00:00:00Z');
    const timed = createDevPushService({ clock });
    const { url } = await timed.start();
    try {
      const s = timed.createSubscription();
      const exp = Date.parse('2030-01-01T12:00:00Z') / 1000;
      const headers = {
        TTL: '60',
        'Content-Encoding': 'aes128gcm',
        Authorization: await vapidHeader({ aud: url, sub: 'mailto:ops@example.com', exp }),
      };
      // Decryption fails on this dummy body, which proves the token passed.
      expect((await post(s.endpoint, headers)).text).toMatch(/^body does not decrypt/);
      await clock.advance(12 * 3600_000);
      expect((await post(s.endpoint, headers)).text).toBe('BadJwtToken: token expired');
    } finally {
      await timed.stop();
    }
  });

  it('answers 400 to a missing TTL or another content encoding, 413 to a body over 4096 bytes', async () => {
    const s = service.createSubscription();
    const { TTL: _, ...noTtl } = await validHeaders();
    expect(await post(s.endpoint, noTtl)).toEqual({
      status: 400,
      text: 'TTL header missing or not a number',
    });
    expect(await post(s.endpoint, await validHeaders({ 'Content-Encoding': 'aesgcm' }))).toEqual({
      status: 400,
      text: 'Content-Encoding must be aes128gcm, got aesgcm',
    });
    expect((await post(s.endpoint, await validHeaders({ Urgency: 'urgent' }))).status).toBe(400);
    expect((await post(s.endpoint, await validHeaders(), Buffer.alloc(4097))).status).toBe(413);
  });

  it('answers 404 for unknown subscriptions and refuses to configure them', async () => {
    expect((await post(`${service.url}/push/nobody`, await validHeaders())).status).toBe(404);
    expect(() => service.respondWith(`${service.url}/push/nobody`, { status: 410 })).toThrow(
      /not a subscription/,
    );
  });

  it('answers a configured status with Retry-After, for `times` requests, then 201 again', async () => {
    const s = service.createSubscription();
    service.respondWith(s.endpoint, { status: 503, retryAfter: 7, times: 2, body: 'busy' });
    const send = async () => {
      const { status, headers } = await sendWithWebPush(s, 'hi', { TTL: 60 });
      return { status, retryAfter: headers.get('retry-after') };
    };
    expect(await send()).toEqual({ status: 503, retryAfter: '7' });
    expect(await send()).toEqual({ status: 503, retryAfter: '7' });
    expect(await send()).toEqual({ status: 201, retryAfter: null });
    expect(service.receivedFor(s.endpoint).map((m) => m.plaintext)).toEqual(['hi']);

    service.respondWith(s.endpoint, { status: 410 });
    expect((await send()).status).toBe(410);
    expect((await send()).status).toBe(410);
    service.respondWith(s.endpoint, null);
    expect((await send()).status).toBe(201);
  });
});

/**
 * The service stopped while a message was still being checked: its connection is gone, so the sender
 * saw no 201 and will send the message again. Recording it as received would count that resend as a
 * duplicate the sender never caused (the push-service-outage test failed so under load).
 */
describe('dev push service: a connection closed before the answer', () => {
  it('does not record the message as received', async () => {
    let service: DevPushService | null = null;
    // The service reads its clock just before checking VAPID (an async step): stop it right there.
    const stoppingClock = {
      now: () => {
        void service?.stop();
        return new Date();
      },
    };
    service = createDevPushService({ clock: stoppingClock });
    await service.start();
    const s = service.createSubscription();
    const details = webPushLib.generateRequestDetails(s, '{"lost":"in flight"}', {
      vapidDetails: vapid,
      TTL: 60,
    });
    const answer = await fetch(details.endpoint, {
      method: details.method,
      headers: details.headers as Record<string, string>,
      body: new Uint8Array(details.body as Buffer),
    }).then(
      (response) => response.status,
      (error: Error) => error.name,
    );
    expect(answer).toBe('TypeError'); // fetch failed: the connection closed without an answer
    // Let the VAPID check finish: the handler must then notice its connection is gone.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(service.received).toEqual([]);
  });
});

/**
 * A client the service cannot see as an HTTP/2 session (an HTTP/1.1 keep-alive connection over TLS,
 * a TCP connection that never began its handshake) must not keep stop() waiting: test/processes
 * stops one service per suite, and a hook that waits for good fails the whole run.
 */
describe('dev push service over TLS: stop()', () => {
  it('closes connections that are not HTTP/2 sessions', async () => {
    const service = createDevPushService({ tls: true });
    const { url } = await service.start();
    const { port, hostname } = new URL(url);
    const idleTcp = connect(Number(port), hostname);
    await once(idleTcp, 'connect');
    const agent = new Agent({ keepAlive: true, ca: service.ca });
    const answered = await new Promise<number>((resolve, reject) => {
      request(`${url}/nowhere`, { agent, method: 'GET' }, (response) => {
        response.resume();
        response.once('end', () => resolve(response.statusCode ?? 0));
      })
        .once('error', reject)
        .end();
    });
    expect(answered).toBe(404);
    expect(Object.values(agent.freeSockets).flat()).toHaveLength(1);

    const closedTcp = once(idleTcp, 'close');
    const stopped = await Promise.race([
      service.stop().then(() => 'stopped'),
      new Promise((resolve) => setTimeout(resolve, 5000, 'still waiting after 5 s')),
    ]);
    expect(stopped).toBe('stopped');
    await closedTcp;
    agent.destroy();
  });
});
