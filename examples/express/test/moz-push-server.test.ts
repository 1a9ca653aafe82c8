import { createECDH, randomBytes } from 'node:crypto';
import {
  generateVapidKeys,
  type HttpTransport,
  type Subscription,
  type SubscriptionId,
  type TransportRequest,
  type UserId,
  webPush,
} from '@herald/core';
import ece from 'http_ece';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type MozPushServer, startMozPushServer } from './support/moz-push-server.js';

/** A browser's side of Mozilla's push protocol, just enough to check the stand-in. */
async function connect(url: string) {
  const socket = new WebSocket(url);
  const inbox: Array<Record<string, unknown>> = [];
  const waiters = new Set<() => void>();
  socket.on('message', (raw) => {
    inbox.push(JSON.parse(raw.toString()) as Record<string, unknown>);
    for (const wake of waiters) wake();
  });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  const next = (type: string) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const check = () => {
        const index = inbox.findIndex((m) => m.messageType === type);
        if (index < 0) return;
        waiters.delete(check);
        resolve(inbox.splice(index, 1)[0] as Record<string, unknown>);
      };
      waiters.add(check);
      check();
    });
  const send = (message: object) => socket.send(JSON.stringify(message));
  return { socket, next, send };
}

describe('the Mozilla push stand-in', () => {
  let push: MozPushServer;
  const vapid = { subject: 'mailto:e2e@example.com', ...generateVapidKeys() };
  const channelID = '8a3c2b7e-5d1f-4c6a-9e0b-1f2d3c4b5a69';

  beforeEach(async () => {
    push = await startMozPushServer();
  });
  afterEach(async () => {
    await push.stop();
  });

  async function subscribeBrowser(key: string) {
    const browser = await connect(push.webSocketUrl);
    browser.send({ messageType: 'hello', uaid: '', channelIDs: [], use_webpush: true });
    expect(await browser.next('hello')).toMatchObject({ status: 200, use_webpush: true });
    // Firefox sends the key with base64 padding.
    browser.send({ messageType: 'register', channelID, key: `${key}=` });
    const registered = await browser.next('register');
    expect(registered).toMatchObject({ status: 200, pushEndpoint: `${push.endpointBase}${channelID}` });
    const keys = createECDH('prime256v1');
    keys.generateKeys();
    const auth = randomBytes(16);
    const subscription: Subscription = {
      id: 'sub_1' as SubscriptionId,
      target: 'webpush',
      userId: 'u1' as UserId,
      endpoint: registered.pushEndpoint as string,
      keys: { p256dh: keys.getPublicKey().toString('base64url'), auth: auth.toString('base64url') },
      expirationTime: null,
      createdAt: new Date(),
      updatedAt: new Date(),
    };
    return { browser, subscription, keys, auth };
  }

  const message = (subscription: Subscription) => ({
    subscription,
    payload: JSON.stringify({ hello: 'firefox' }),
    ttlSeconds: 60,
    urgency: 'normal' as const,
  });

  it('relays what Herald sends, still encrypted, and the browser can decrypt it', async () => {
    const { browser, subscription, keys, auth } = await subscribeBrowser(vapid.publicKey);
    const provider = webPush({ vapid, endpointPolicy: { allow: [push.endpointBase] } });
    try {
      expect(await provider.send(message(subscription), new Date())).toEqual({
        kind: 'sent',
        statusCode: 201,
      });
    } finally {
      await provider.close();
    }
    const notification = await browser.next('notification');
    expect(notification).toMatchObject({ channelID, headers: { encoding: 'aes128gcm' } });
    const body = Buffer.from(notification.data as string, 'base64url');
    const plaintext = ece.decrypt(body, { version: 'aes128gcm', privateKey: keys, authSecret: auth });
    expect(JSON.parse(plaintext.toString('utf8'))).toEqual({ hello: 'firefox' });
    browser.send({ messageType: 'ack', updates: [{ channelID, version: notification.version, code: 100 }] });
    await push.waitFor((e) => e.type === 'ack' && e.version === notification.version, 'ack recorded');
    browser.socket.close();
  });

  it('refuses a sender whose VAPID key is not the one the page subscribed with (403)', async () => {
    const { browser, subscription } = await subscribeBrowser(generateVapidKeys().publicKey);
    const provider = webPush({
      vapid,
      endpointPolicy: { allow: [push.endpointBase] },
      circuitBreaker: false,
    });
    try {
      expect(await provider.send(message(subscription), new Date())).toMatchObject({
        kind: 'failed',
        statusCode: 403,
      });
    } finally {
      await provider.close();
    }
    expect(push.events.filter((e) => e.type === 'relayed')).toEqual([]);
    browser.socket.close();
  });

  it('refuses a POST without VAPID (401) or without a TTL (400)', async () => {
    const { browser, subscription } = await subscribeBrowser(vapid.publicKey);
    // Herald's own request, captured instead of sent, then replayed with one header missing.
    let built: TransportRequest | undefined;
    const capture: HttpTransport = {
      async send(request) {
        built = request;
        return { statusCode: 201, headers: {}, body: '' };
      },
      async close() {},
    };
    await webPush({ vapid, endpointPolicy: { allow: [push.endpointBase] }, transport: capture }).send(
      message(subscription),
      new Date(),
    );
    const request = built as TransportRequest;
    const replay = (drop: string) => {
      const headers: Record<string, string> = Object.fromEntries(
        Object.entries(request.headers).filter(([name]) => name.toLowerCase() !== drop),
      );
      return fetch(request.url, { method: 'POST', headers, body: Buffer.from(request.body) });
    };
    expect((await replay('authorization')).status).toBe(401);
    const noTtl = await replay('ttl');
    expect(noTtl.status).toBe(400);
    expect(await noTtl.text()).toMatch(/TTL/);
    expect((await replay('none')).status, 'the untouched request is accepted').toBe(201);
    expect(push.events.filter((e) => e.type === 'relayed')).toHaveLength(1);
    browser.socket.close();
  });

  it('answers 410 Gone once the browser unregistered the channel', async () => {
    const { browser, subscription } = await subscribeBrowser(vapid.publicKey);
    browser.send({ messageType: 'unregister', channelID, code: 200 });
    expect(await browser.next('unregister')).toMatchObject({ status: 200 });
    const provider = webPush({ vapid, endpointPolicy: { allow: [push.endpointBase] } });
    try {
      expect(await provider.send(message(subscription), new Date())).toEqual({
        kind: 'gone',
        statusCode: 410,
      });
    } finally {
      await provider.close();
    }
    browser.socket.close();
  });
});
