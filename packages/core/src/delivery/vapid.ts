import { createECDH } from 'node:crypto';
import { importJWK, type JWK, SignJWT } from 'jose';
import { ConfigError } from '../errors/index.js';
import { Base64Url } from '../model/index.js';
import type { Clock } from '../ports/clock.js';

/**
 * RFC 8292 (VAPID): the application server proves who it is with an ES256
 * JWT whose `aud` is the push service's origin, signed by the key pair whose
 * public half the browser subscribed with.
 */
export interface VapidDetails {
  /** Who to contact about this sender: `mailto:ops@example.com` or an https URL. */
  subject: string;
  /** Uncompressed P-256 public key (65 bytes), base64url: the browser's applicationServerKey. */
  publicKey: string;
  /** P-256 private scalar (32 bytes), base64url. Never logged. */
  privateKey: string;
}

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

/** A fresh VAPID key pair, base64url-encoded as browsers and push services expect. */
export function generateVapidKeys(): VapidKeys {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return {
    publicKey: ecdh.getPublicKey().toString('base64url'),
    privateKey: privateKeyBytes(ecdh.getPrivateKey()).toString('base64url'),
  };
}

/**
 * A P-256 private key as the 32 bytes RFC 8292 keys are exchanged in. Node's
 * `ECDH.getPrivateKey()` drops leading zero bytes, so about one key in 256
 * came out 31 bytes long and was then refused as malformed.
 */
export function privateKeyBytes(raw: Buffer): Buffer {
  if (raw.length >= 32) return raw;
  return Buffer.concat([Buffer.alloc(32 - raw.length), raw]);
}

/** RFC 8292 allows at most 24 h; half of it leaves room for clock skew at the push service. */
export const VAPID_TOKEN_LIFETIME_SECONDS = 12 * 60 * 60;
/** A cached token is replaced this long before it expires, so none is sent about to lapse. */
export const VAPID_TOKEN_REFRESH_SECONDS = 60 * 60;

/**
 * Host names that resolve nowhere. Apple answers 403 BadJwtToken when the
 * subject's host is one of them (`mailto:me@localhost`, `https://localhost`),
 * while other services accept it, so the fault would show only on Safari.
 */
const UNRESOLVABLE_SUFFIXES = ['localhost', 'local', 'invalid', 'test', 'internal', 'example', 'localdomain'];

/** Why a VAPID subject would be refused, or null when it is fine. */
export function vapidSubjectProblem(subject: string): string | null {
  if (subject.startsWith('mailto:')) {
    const address = subject.slice('mailto:'.length);
    const match = /^[^\s@<>()",;:]+@([A-Za-z0-9.-]+)$/.exec(address);
    if (!match) return `"${subject}" must be mailto: followed by one plain e-mail address`;
    return hostProblem(match[1] as string, subject);
  }
  if (subject.startsWith('https:')) {
    let url: URL;
    try {
      url = new URL(subject);
    } catch {
      return `"${subject}" is not a valid https URL`;
    }
    return hostProblem(url.hostname, subject);
  }
  return `"${subject}" must be a mailto: address or an https: URL (RFC 8292 §2.1)`;
}

function hostProblem(host: string, subject: string): string | null {
  const labels = host.toLowerCase().split('.');
  const last = labels.at(-1) ?? '';
  if (labels.length < 2 || labels.some((label) => label === '') || UNRESOLVABLE_SUFFIXES.includes(last)) {
    return `"${subject}" names a host that does not resolve publicly (${host}); Apple refuses such subjects with 403 BadJwtToken`;
  }
  return null;
}

/** Checks the subject and that the two keys form a real P-256 pair; throws ConfigError otherwise. */
export function validateVapidDetails(details: VapidDetails): void {
  const subjectProblem = vapidSubjectProblem(details.subject);
  if (subjectProblem) throw new ConfigError(`VAPID subject ${subjectProblem}`);

  const publicKey = decodeKey(details.publicKey, 'public');
  if (publicKey.length !== 65 || publicKey[0] !== 0x04) {
    throw new ConfigError(
      `VAPID public key must be an uncompressed P-256 point (65 bytes starting with 0x04), got ${publicKey.length} bytes`,
    );
  }
  const privateKey = decodeKey(details.privateKey, 'private');
  if (privateKey.length !== 32) {
    throw new ConfigError(`VAPID private key must be 32 bytes, got ${privateKey.length} bytes`);
  }
  const ecdh = createECDH('prime256v1');
  try {
    ecdh.setPrivateKey(privateKey);
  } catch {
    throw new ConfigError('VAPID private key is not a valid P-256 private key');
  }
  if (!ecdh.getPublicKey().equals(publicKey)) {
    throw new ConfigError(
      'VAPID public key does not belong to the private key (was one of them regenerated?)',
    );
  }
}

function decodeKey(value: string, which: 'public' | 'private'): Buffer {
  if (!Base64Url.safeParse(value).success) {
    throw new ConfigError(`VAPID ${which} key must be a base64url string`);
  }
  return Buffer.from(value, 'base64url');
}

/** A P-256 key as a JWK, from the raw uncompressed public point (and the base64url private scalar). */
export function p256Jwk(publicKey: Uint8Array, privateKey?: string): JWK {
  const point = Buffer.from(publicKey);
  return {
    kty: 'EC',
    crv: 'P-256',
    x: point.subarray(1, 33).toString('base64url'),
    y: point.subarray(33, 65).toString('base64url'),
    ...(privateKey !== undefined ? { d: privateKey.replace(/=+$/, '') } : {}),
  };
}

/** Hands out the `Authorization` header value for a push-service origin. */
export interface VapidSigner {
  authorization(origin: string): Promise<string>;
}

interface CachedToken {
  /** Seconds since the epoch, as in the JWT's `exp`. */
  exp: number;
  header: Promise<string>;
}

/**
 * Signs one JWT per push-service origin and reuses it until shortly before
 * it expires: signing per message would cost more than encrypting it.
 * `clock` is wall time as the push service sees it: the JWT's `exp` is
 * checked there against the real time, never against a simulated one.
 */
export function createVapidSigner(details: VapidDetails, clock: Clock): VapidSigner {
  validateVapidDetails(details);
  const publicKey = Buffer.from(details.publicKey, 'base64url');
  const keyId = publicKey.toString('base64url');
  let signingKey: ReturnType<typeof importJWK> | undefined;
  // Imported once, on first use (importJWK is async); never per message.
  const key = () => {
    signingKey ??= importJWK(p256Jwk(publicKey, details.privateKey), 'ES256');
    return signingKey;
  };
  const cache = new Map<string, CachedToken>();

  return {
    authorization(origin) {
      const nowSeconds = Math.floor(clock.now().getTime() / 1000);
      const cached = cache.get(origin);
      if (cached && nowSeconds < cached.exp - VAPID_TOKEN_REFRESH_SECONDS) return cached.header;

      const exp = nowSeconds + VAPID_TOKEN_LIFETIME_SECONDS;
      // The promise is cached, not its result, so a burst of first messages
      // to a new origin shares one signature.
      const header = key()
        .then((signingKey) =>
          new SignJWT({ sub: details.subject })
            .setProtectedHeader({ typ: 'JWT', alg: 'ES256' })
            .setAudience(origin)
            .setExpirationTime(exp)
            .sign(signingKey),
        )
        .then((jwt) => `vapid t=${jwt}, k=${keyId}`);
      const entry = { exp, header };
      cache.set(origin, entry);
      header.catch(() => {
        if (cache.get(origin) === entry) cache.delete(origin);
      });
      return header;
    },
  };
}
