import { createECDH } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, importJWK, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  createVapidSigner,
  generateVapidKeys,
  p256Jwk,
  privateKeyBytes,
  VAPID_TOKEN_LIFETIME_SECONDS,
  validateVapidDetails,
} from '../../src/delivery/vapid.js';
import { ConfigError } from '../../src/errors/index.js';
import { fakeClock } from '../../src/testing/fake-clock.js';

const keys = generateVapidKeys();
const details = { subject: 'mailto:ops@example.com', ...keys };

function parseAuthorization(header: string): { token: string; key: string } {
  const match = /^vapid t=([^,]+), k=(.+)$/.exec(header);
  if (!match) throw new Error(`not a vapid header: ${header}`);
  return { token: match[1] as string, key: match[2] as string };
}

async function verifyWith(publicKey: string, token: string, now: Date) {
  const key = await importJWK(p256Jwk(Buffer.from(publicKey, 'base64url')), 'ES256');
  return jwtVerify(token, key, { algorithms: ['ES256'], currentDate: now });
}

describe('generateVapidKeys', () => {
  it('makes a P-256 pair in base64url: 65-byte uncompressed public key, 32-byte private key', () => {
    const pair = generateVapidKeys();
    const publicKey = Buffer.from(pair.publicKey, 'base64url');
    expect(publicKey).toHaveLength(65);
    expect(publicKey[0]).toBe(0x04);
    expect(Buffer.from(pair.privateKey, 'base64url')).toHaveLength(32);
    expect(pair.publicKey).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(() => validateVapidDetails({ subject: 'https://example.com', ...pair })).not.toThrow();
    expect(generateVapidKeys().privateKey).not.toBe(pair.privateKey);
  });

  it('keeps a private key that starts with a zero byte 32 bytes long, and such a pair validates', () => {
    // About one P-256 key in 256 starts with 0x00, which ECDH.getPrivateKey() drops.
    let ecdh = createECDH('prime256v1');
    for (let tries = 0; tries < 100_000; tries++) {
      ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      if (ecdh.getPrivateKey().length < 32) break;
    }
    const raw = ecdh.getPrivateKey();
    expect(raw.length).toBeLessThan(32);
    const padded = privateKeyBytes(raw);
    expect(padded).toHaveLength(32);
    expect(padded[0]).toBe(0);
    const pair = {
      publicKey: ecdh.getPublicKey().toString('base64url'),
      privateKey: padded.toString('base64url'),
    };
    expect(() => validateVapidDetails({ subject: 'https://example.com', ...pair })).not.toThrow();
  });
});

describe('VAPID signer', () => {
  it('signs an ES256 JWT with aud = origin, sub = subject, exp 12 h ahead, in a vapid t=, k= header', async () => {
    const clock = fakeClock('2026-05-01T08:00:00Z');
    const signer = createVapidSigner(details, clock);
    const header = await signer.authorization('https://fcm.googleapis.com');
    const { token, key } = parseAuthorization(header);
    expect(key).toBe(keys.publicKey);
    expect(decodeProtectedHeader(token)).toEqual({ typ: 'JWT', alg: 'ES256' });
    const { payload } = await verifyWith(keys.publicKey, token, clock.now());
    expect(payload).toEqual({
      aud: 'https://fcm.googleapis.com',
      sub: 'mailto:ops@example.com',
      exp: Date.parse('2026-05-01T20:00:00Z') / 1000,
    });
    expect(VAPID_TOKEN_LIFETIME_SECONDS).toBeLessThanOrEqual(24 * 3600);
  });

  it('signs once per origin: 200 messages share one token, another origin gets its own', async () => {
    const clock = fakeClock('2026-05-01T08:00:00Z');
    const signer = createVapidSigner(details, clock);
    // Concurrent first use too: a burst to a new origin must not sign 200 times.
    const headers = await Promise.all(
      Array.from({ length: 200 }, () => signer.authorization('https://web.push.apple.com')),
    );
    expect(new Set(headers).size).toBe(1);
    expect(await signer.authorization('https://web.push.apple.com')).toBe(headers[0]);

    const other = await signer.authorization('https://updates.push.services.mozilla.com');
    expect(other).not.toBe(headers[0]);
    expect(decodeJwt(parseAuthorization(other).token).aud).toBe('https://updates.push.services.mozilla.com');
  });

  it('replaces a token an hour before it expires, not earlier', async () => {
    const clock = fakeClock('2026-05-01T08:00:00Z');
    const signer = createVapidSigner(details, clock);
    const first = await signer.authorization('https://fcm.googleapis.com');
    await clock.advance(10 * 3600_000 + 59 * 60_000); // 10:59 after: 1 h 1 min left
    expect(await signer.authorization('https://fcm.googleapis.com')).toBe(first);
    await clock.advance(60_000); // 11 h after: 1 h left
    const second = await signer.authorization('https://fcm.googleapis.com');
    expect(second).not.toBe(first);
    expect(decodeJwt(parseAuthorization(second).token).exp).toBe(Date.parse('2026-05-02T07:00:00Z') / 1000);
  });

  it('accepts keys with base64 padding and sends the key without it', async () => {
    const signer = createVapidSigner(
      {
        subject: 'https://shop.example.com/contact',
        publicKey: `${keys.publicKey}=`,
        privateKey: `${keys.privateKey}=`,
      },
      fakeClock('2026-05-01T08:00:00Z'),
    );
    expect(parseAuthorization(await signer.authorization('https://fcm.googleapis.com')).key).toBe(
      keys.publicKey,
    );
  });
});

describe('VAPID configuration checks', () => {
  const configErrorOf = (input: Partial<typeof details>): ConfigError => {
    try {
      validateVapidDetails({ ...details, ...input });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return error as ConfigError;
    }
    throw new Error('expected a ConfigError');
  };

  it.each([
    'mailto:ops@example.com',
    'mailto:a.b+push@shop.example.co.uk',
    'https://example.com',
    'https://shop.example.com/contact',
  ])('accepts the subject %s', (subject) => {
    expect(() => validateVapidDetails({ ...details, subject })).not.toThrow();
  });

  it.each([
    ['ops@example.com', /must be a mailto: address or an https: URL/],
    ['http://example.com', /must be a mailto: address or an https: URL/],
    ['mailto:', /one plain e-mail address/],
    ['mailto: ops@example.com', /one plain e-mail address/],
    ['mailto:ops@example.com,other@example.com', /one plain e-mail address/],
    ['mailto:ops@localhost', /does not resolve publicly \(localhost\).*403 BadJwtToken/],
    ['mailto:relay@herdr.local', /does not resolve publicly/],
    ['mailto:security@gateway.invalid', /does not resolve publicly/],
    ['https://localhost:8080', /does not resolve publicly/],
    ['https://intranet', /does not resolve publicly/],
    ['https://', /not a valid https URL/],
  ])('refuses the subject %s', (subject, message) => {
    expect(configErrorOf({ subject }).message).toMatch(message);
  });

  it('refuses keys of the wrong size, encoding or curve', () => {
    expect(configErrorOf({ publicKey: 'not base64url!' }).message).toBe(
      'VAPID public key must be a base64url string',
    );
    expect(configErrorOf({ publicKey: Buffer.alloc(33, 2).toString('base64url') }).message).toMatch(
      /65 bytes starting with 0x04\), got 33 bytes/,
    );
    expect(configErrorOf({ privateKey: Buffer.alloc(31, 1).toString('base64url') }).message).toBe(
      'VAPID private key must be 32 bytes, got 31 bytes',
    );
    // Zero is not a valid P-256 scalar.
    expect(configErrorOf({ privateKey: Buffer.alloc(32).toString('base64url') }).message).toMatch(
      /not a valid P-256 private key|does not belong/,
    );
  });

  it('refuses a public key that is not the private key’s own', () => {
    expect(configErrorOf({ publicKey: generateVapidKeys().publicKey }).message).toMatch(
      /does not belong to the private key/,
    );
  });

  it('refuses a key from another curve', () => {
    const secp256k1 = createECDH('secp256k1');
    secp256k1.generateKeys();
    expect(configErrorOf({ publicKey: secp256k1.getPublicKey().toString('base64url') }).message).toMatch(
      /does not belong to the private key/,
    );
  });

  it('the message of a refused key never contains the private key', () => {
    const wrong = generateVapidKeys();
    const error = configErrorOf({ publicKey: wrong.publicKey });
    expect(error.message).not.toContain(details.privateKey);
  });
});
