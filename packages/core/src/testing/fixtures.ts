import {
  Campaign,
  type CampaignId,
  Delivery,
  type DeliveryStatus,
  Profile,
  Recipient,
  type RecipientState,
  type SkipReason,
  Subscription,
  type UserId,
} from '../model/index.js';

/**
 * Builders for valid rows, parsed by the model schemas so a suite never
 * feeds an adapter data the engine could not produce. Every instant is fixed:
 * adapters take time as an argument, so suites never sleep or read the clock.
 */
export const T0 = new Date('2025-03-01T12:00:00.000Z');

export const at = (offsetMs: number): Date => new Date(T0.getTime() + offsetMs);
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export const uid = (id: string): UserId => id as UserId;
export const cid = (id: string): CampaignId => id as CampaignId;

export function profile(
  userId: string,
  properties: Record<string, unknown> = {},
  extra: object = {},
): Profile {
  return Profile.parse({ userId, properties, createdAt: T0, updatedAt: T0, ...extra });
}

/**
 * A browser's p256dh key: a real P-256 point (private key 0x0707…07), since subscribe checks the
 * point is on the curve. Nobody can decrypt with it but the tests that know that key.
 */
export const P256DH =
  'BB4YUy_UdUwC8wQdnHXOszuD_9gax85P6ILMscmLxYlupGwxHE4v9A3ZajZT5uRURdMt_khuztdcepDGoYiBwKM';

/** A Web Push subscription with a realistic (fake) endpoint and key shapes. */
export function webPushSubscription(userId: string, n = 1, extra: object = {}): Subscription {
  return Subscription.parse({
    id: `wp_${userId}_${n}`,
    userId,
    target: 'webpush',
    endpoint: `https://push.example.test/send/${userId}-${n}`,
    keys: { p256dh: P256DH, auth: 'AAAAAAAAAAAAAAAAAAAAAA' },
    expirationTime: null,
    createdAt: T0,
    updatedAt: T0,
    ...extra,
  });
}

export function safariSubscription(userId: string, extra: object = {}): Subscription {
  return Subscription.parse({
    id: `sf_${userId}`,
    userId,
    target: 'safari',
    deviceToken: 'ab'.repeat(32),
    createdAt: T0,
    updatedAt: T0,
    ...extra,
  });
}

export function campaign(id: string, extra: object = {}): Campaign {
  return Campaign.parse({
    id,
    name: `Campaign ${id}`,
    labels: [],
    when: { schedule: { type: 'once', at: at(DAY) }, timezone: 'UTC' },
    who: { segment: { type: 'all' } },
    what: { title: 'Hello {{ name }}', body: 'Spring sale', deeplink: 'https://shop.example.test/sale' },
    status: 'draft',
    createdAt: T0,
    updatedAt: T0,
    nextRunAt: null,
    version: 0,
    ...extra,
  });
}

export function recipient(
  campaignId: string,
  occurrence: string,
  userId: string,
  state: RecipientState = 'pending',
  reason: SkipReason | null = null,
): Recipient {
  return Recipient.parse({ campaignId, occurrence, userId, state, reason, createdAt: T0, updatedAt: T0 });
}

export function delivery(
  campaignId: string,
  occurrence: string,
  userId: string,
  subscriptionId: string,
  status: DeliveryStatus = 'sent',
  extra: object = {},
): Delivery {
  return Delivery.parse({
    campaignId,
    occurrence,
    userId,
    subscriptionId,
    status,
    statusCode: status === 'sent' ? 201 : status === 'gone' ? 410 : 400,
    reason: null,
    attempts: 1,
    at: T0,
    ...extra,
  });
}

/** Deterministic shuffle (a fixed LCG), so insertion order differs from id order on every adapter alike. */
export function shuffled<T>(items: readonly T[], seed = 7): T[] {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export const byUserId = <T extends { userId: string }>(a: T, b: T): number =>
  a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0;
