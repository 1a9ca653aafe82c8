import { z } from 'zod';
import { keyAliases } from '../errors/zod-issues.js';
import { Instant, TimeZone } from './common.js';
import { SubscriptionId, UserId } from './ids.js';
import { inputOnly, rowSchema } from './row-schema.js';
import { STORABLE_TEXT } from './text.js';

/** RFC 4648 §5 base64url text, padded or not: subscription keys and VAPID keys are written in it. */
export const Base64Url = z.string().regex(/^[A-Za-z0-9_-]+={0,2}$/, 'must be base64url');

/**
 * The bytes of base64url text (padded or not); Buffer-free so the model stays portable. A plain
 * loop, not `Uint8Array.from(binary, mapFn)`: that walks the string's iterator with a call per
 * character, and this runs for every subscription imported (about 7x slower, measured).
 */
function base64UrlBytes(text: string): Uint8Array {
  const standard = text.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(standard.padEnd(Math.ceil(standard.length / 4) * 4, '='));
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index++) bytes[index] = binary.charCodeAt(index);
  return bytes;
}

/**
 * The decoded length, or -1 for text that is not base64url. zod runs a refinement even after the
 * regex check failed, so this must not throw on any string.
 */
function byteLength(text: string): number {
  try {
    return base64UrlBytes(text).length;
  } catch {
    return -1;
  }
}

// NIST P-256 (secp256r1): y² = x³ − 3x + b over the prime field p (SEC 2, §2.4.2).
const P256_P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const P256_B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;

const HEX_BYTES = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

/** Big-endian bytes as one number; through hex text, since a shift per byte allocates a bigint per byte. */
function toBigInt(bytes: Uint8Array): bigint {
  let hex = '0x';
  for (const byte of bytes) hex += HEX_BYTES[byte];
  return BigInt(hex);
}

/**
 * True for an uncompressed P-256 point on the curve: 65 bytes, 0x04, then x and y below p with
 * y² = x³ − 3x + b. The curve's cofactor is 1, so a point on it is in the group the browser's
 * key lives in. Why not node:crypto (`createPublicKey` with a JWK): the model is also read where
 * Node's crypto is not (a dashboard bundle), and the check is three multiplications.
 */
export function isP256PublicKey(text: string): boolean {
  let bytes: Uint8Array;
  try {
    bytes = base64UrlBytes(text);
  } catch {
    return false;
  }
  if (bytes.length !== 65 || bytes[0] !== 0x04) return false;
  const x = toBigInt(bytes.subarray(1, 33));
  const y = toBigInt(bytes.subarray(33));
  if (x >= P256_P || y >= P256_P) return false;
  // Both sides are non-negative (x³ − 3x ≥ −2 for x ≥ 0, and b is far larger), so one % each suffices.
  return (y * y) % P256_P === (x * x * x - 3n * x + P256_B) % P256_P;
}

/** The p256dh key as the browser sends it: refused at subscribe, not found out at the first send. */
// A key of the wrong size is one issue, not one per check (`abort` stops the checks after it).
const P256DH_SHAPE = 'must be an uncompressed P-256 public key (65 bytes, 0x04, a point on the curve)';
const P256dhInput = Base64Url.min(80, { message: P256DH_SHAPE, abort: true })
  .max(100, { message: P256DH_SHAPE, abort: true })
  .refine(isP256PublicKey, P256DH_SHAPE);
/** The auth secret: RFC 8291 §3.2 makes it exactly 16 bytes. */
const AUTH_SIZE = 'must be 16 bytes (22 base64url characters)';
const AuthSecretInput = Base64Url.min(16, { message: AUTH_SIZE, abort: true })
  .max(32, { message: AUTH_SIZE, abort: true })
  .refine((text) => byteLength(text) === 16, AUTH_SIZE);

/** W3C PushSubscriptionJSON, as `subscription.toJSON()` gives it in the browser. */
export const PushSubscriptionJson = z.strictObject({
  endpoint: z.string().url().refine(STORABLE_TEXT.check, STORABLE_TEXT),
  expirationTime: z.number().nullable().optional(),
  /** A record in the Push API's own terms: a browser may add keys, so others are dropped, not refused. */
  keys: z.object({
    // Rows stored before these checks still read (inputOnly): the send refuses a bad key then.
    p256dh: inputOnly(P256dhInput, Base64Url.min(80).max(100)),
    auth: inputOnly(AuthSecretInput, Base64Url.min(16).max(32)),
  }),
});
export type PushSubscriptionJson = z.infer<typeof PushSubscriptionJson>;

/** A `navigator.userAgent`: printable ASCII, bounded (real ones are 100-300 characters). */
export const UserAgent = z
  .string()
  .min(1)
  .max(512)
  .regex(/^[\x20-\x7e]+$/, 'must be printable ASCII');

export const Target = z.enum(['webpush', 'safari']);
export type Target = z.infer<typeof Target>;

const common = {
  id: SubscriptionId,
  userId: UserId,
  /** The browser's zone when it subscribed; a fallback for the profile's. */
  timezone: TimeZone.optional(),
  /** The browser's user agent when it subscribed, if the SDK sent it: tells Chrome from Edge, Opera and others on one push service. */
  userAgent: UserAgent.optional(),
  createdAt: Instant,
  updatedAt: Instant,
};

export const WebPushSubscription = z.object({
  ...common,
  target: z.literal('webpush'),
  endpoint: z.string().url(),
  keys: rowSchema(PushSubscriptionJson.shape.keys),
  expirationTime: z.number().nullable().optional(),
});
export type WebPushSubscription = z.infer<typeof WebPushSubscription>;

/** Safari's legacy website push (before Safari 16): an APNs device token. */
export const SafariSubscription = z.object({
  ...common,
  target: z.literal('safari'),
  deviceToken: z.string().regex(/^[0-9a-fA-F]{64,200}$/, 'must be a hex APNs device token'),
});
export type SafariSubscription = z.infer<typeof SafariSubscription>;

export const Subscription = z.discriminatedUnion('target', [WebPushSubscription, SafariSubscription]);
export type Subscription = z.infer<typeof Subscription>;

/** What a host (or the browser SDK through the HTTP handlers) hands to `subscriptions.add`. */
export const SubscriptionInput = z.preprocess(
  // `target` may be left out for the common case, a standard Web Push subscription.
  (value) =>
    value !== null && typeof value === 'object' && !Array.isArray(value) && !('target' in value)
      ? { ...value, target: 'webpush' }
      : value,
  z.discriminatedUnion('target', [
    z
      .strictObject({
        target: z.literal('webpush'),
        userId: UserId,
        subscription: PushSubscriptionJson,
        timezone: TimeZone.optional(),
        userAgent: UserAgent.optional(),
      })
      .register(keyAliases, { endpoint: 'subscription', keys: 'subscription' }),
    z.strictObject({
      target: z.literal('safari'),
      userId: UserId,
      deviceToken: SafariSubscription.shape.deviceToken,
      timezone: TimeZone.optional(),
    }),
  ]),
);
export type SubscriptionInput = z.input<typeof SubscriptionInput>;
