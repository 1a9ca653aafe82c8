import { createECDH, randomBytes } from 'node:crypto';
import ece from 'http_ece';
import { describe, expect, it } from 'vitest';
import {
  buildWebPushRequest,
  MAX_PAYLOAD_BYTES,
  sharedWebPushHeaders,
  webPushHeaders,
} from '../../src/delivery/webpush-request.js';
import { PayloadTooLargeError } from '../../src/errors/index.js';

function subscriber() {
  const keys = createECDH('prime256v1');
  keys.generateKeys();
  const auth = randomBytes(16);
  return { keys, auth, json: { p256dh: keys.getPublicKey('base64url'), auth: auth.toString('base64url') } };
}

const base = {
  endpoint: new URL('https://fcm.googleapis.com/fcm/send/abc'),
  ttlSeconds: 3600,
  urgency: 'high' as const,
  authorization: 'vapid t=header.claims.signature, k=BPublicKey',
};

describe('buildWebPushRequest', () => {
  it('POSTs an aes128gcm body with TTL, Urgency, Topic and the VAPID Authorization', () => {
    const sub = subscriber();
    const request = buildWebPushRequest({
      ...base,
      keys: sub.json,
      payload: '{"title":"Hi"}',
      topic: 'sale-2026',
    });
    expect(request.method).toBe('POST');
    expect(request.url.href).toBe('https://fcm.googleapis.com/fcm/send/abc');
    expect(request.headers).toEqual({
      TTL: '3600',
      Urgency: 'high',
      Topic: 'sale-2026',
      'Content-Encoding': 'aes128gcm',
      'Content-Type': 'application/octet-stream',
      Authorization: 'vapid t=header.claims.signature, k=BPublicKey',
    });
  });

  it('leaves Topic out when there is none and floors TTL to whole seconds', () => {
    const sub = subscriber();
    const request = buildWebPushRequest({ ...base, keys: sub.json, payload: 'x', ttlSeconds: 59.9 });
    expect(request.headers).not.toHaveProperty('Topic');
    expect(request.headers.TTL).toBe('59');
  });

  it('encrypts for the subscriber alone: http_ece decrypts with its private key, with a fresh sender key per message', () => {
    const sub = subscriber();
    const payload = JSON.stringify({ title: 'Héllo ✓', body: 'x'.repeat(500) });
    const first = buildWebPushRequest({ ...base, keys: sub.json, payload });
    const second = buildWebPushRequest({ ...base, keys: sub.json, payload });
    const decrypt = (body: Uint8Array) =>
      ece
        .decrypt(Buffer.from(body), { version: 'aes128gcm', privateKey: sub.keys, authSecret: sub.auth })
        .toString('utf8');
    expect(decrypt(first.body)).toBe(payload);
    expect(decrypt(second.body)).toBe(payload);
    // aes128gcm header: 16-byte salt, 4-byte record size, key id length 65, then the sender's key.
    const senderKey = (body: Uint8Array) => Buffer.from(body).subarray(21, 86).toString('base64url');
    expect(Buffer.from(first.body)[20]).toBe(65);
    expect(senderKey(first.body)).not.toBe(senderKey(second.body));

    const stranger = subscriber();
    expect(() =>
      ece.decrypt(Buffer.from(first.body), {
        version: 'aes128gcm',
        privateKey: stranger.keys,
        authSecret: sub.auth,
      }),
    ).toThrow();
  });

  it('fits a payload of exactly 3993 bytes in one 4096-byte record', () => {
    const sub = subscriber();
    const payload = 'é'.repeat(1996) + 'a'; // 3993 bytes in UTF-8, 1997 characters
    expect(Buffer.byteLength(payload)).toBe(MAX_PAYLOAD_BYTES);
    const request = buildWebPushRequest({ ...base, keys: sub.json, payload });
    expect(request.body.byteLength).toBe(4096);
  });

  it('refuses 3994 bytes (counted in UTF-8, not characters) with the campaign and the size', () => {
    const sub = subscriber();
    const payload = 'é'.repeat(1997); // 1997 characters, 3994 bytes
    let thrown: unknown;
    try {
      buildWebPushRequest({ ...base, keys: sub.json, payload, campaignId: 'cmp_spring' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(PayloadTooLargeError);
    expect(thrown).toMatchObject({ campaignId: 'cmp_spring', size: 3994, limit: 3993 });
    expect((thrown as Error).message).toBe(
      'Campaign cmp_spring: payload is 3994 bytes, over the 3993-byte Web Push limit',
    );
  });
});

describe('sharedWebPushHeaders', () => {
  it('hands out one frozen headers object per Authorization, TTL, Urgency and Topic, equal to webPushHeaders', () => {
    const shared = sharedWebPushHeaders();
    const first = shared(base);
    expect(first).toEqual(webPushHeaders(base));
    expect(Object.isFrozen(first)).toBe(true);
    expect(shared({ ...base })).toBe(first);
    const others = [
      { ...base, ttlSeconds: 60 },
      { ...base, urgency: 'low' as const },
      { ...base, topic: 'sale' },
      { ...base, authorization: 'vapid t=other.claims.signature, k=BPublicKey' },
    ];
    for (const input of others) {
      const headers = shared(input);
      expect(headers).not.toBe(first);
      expect(headers).toEqual(webPushHeaders(input));
      expect(shared(input)).toBe(headers);
    }
  });

  it('forgets what it holds past its bounds and keeps answering correctly', () => {
    const shared = sharedWebPushHeaders();
    for (let ttl = 0; ttl < 600; ttl += 1) {
      expect(shared({ ...base, ttlSeconds: ttl }).TTL).toBe(String(ttl));
    }
    for (let n = 0; n < 100; n += 1) {
      const authorization = `vapid t=${n}, k=B`;
      expect(shared({ ...base, authorization }).Authorization).toBe(authorization);
    }
  });
});
