import { z } from 'zod';
import { keyAliases } from '../errors/zod-issues.js';
import { Instant, TimeZone } from './common.js';
import { SubscriptionId, UserId } from './ids.js';
import { rowSchema } from './row-schema.js';

/** RFC 4648 §5 base64url text, padded or not: subscription keys and VAPID keys are written in it. */
export const Base64Url = z.string().regex(/^[A-Za-z0-9_-]+={0,2}$/, 'must be base64url');

/** W3C PushSubscriptionJSON, as `subscription.toJSON()` gives it in the browser. */
export const PushSubscriptionJson = z.strictObject({
  endpoint: z.string().url(),
  expirationTime: z.number().nullable().optional(),
  /** A record in the Push API's own terms: a browser may add keys, so others are dropped, not refused. */
  keys: z.object({
    p256dh: Base64Url.min(80, 'must be an uncompressed P-256 public key').max(100),
    auth: Base64Url.min(16).max(32),
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
