import { z } from 'zod';
import { BrowserClass } from './browser.js';
import { Instant } from './common.js';
import { CampaignId, SubscriptionId, UserId } from './ids.js';

/** Why a recipient was not sent the message. */
export const SkipReason = z.enum([
  'capped',
  'dnd-discarded',
  'cutoff',
  'control',
  'ended',
  'no-subscription',
  'missing-value',
  'render-failed',
  'expired',
  'stopped',
  /** Delivered in the user's zone: their local time had passed when the run started (ifPassed: skip). */
  'time-passed',
]);
export type SkipReason = z.infer<typeof SkipReason>;

/**
 * One decision per (campaign, occurrence, user): the unit of idempotency.
 * `pending` until every subscription of the user has a final delivery outcome.
 */
export const RecipientState = z.enum(['pending', 'delivered', 'undeliverable', 'skipped', 'control']);
export type RecipientState = z.infer<typeof RecipientState>;

export const Recipient = z.object({
  campaignId: CampaignId,
  occurrence: z.string().min(1),
  userId: UserId,
  state: RecipientState,
  reason: SkipReason.nullable(),
  createdAt: Instant,
  updatedAt: Instant,
});
export type Recipient = z.infer<typeof Recipient>;

/** The final outcome of one message to one subscription. */
export const DeliveryStatus = z.enum(['sent', 'failed', 'gone']);
export type DeliveryStatus = z.infer<typeof DeliveryStatus>;

export const Delivery = z.object({
  campaignId: CampaignId,
  occurrence: z.string().min(1),
  userId: UserId,
  subscriptionId: SubscriptionId,
  status: DeliveryStatus,
  /** The push service's status code, when it answered. */
  statusCode: z.number().int().nullable(),
  reason: z.string().nullable(),
  /**
   * Requests that reached (or were meant for) the push service. 0 for a message an open circuit
   * breaker held back until its TTL lapsed: it never left.
   */
  attempts: z.number().int().min(0),
  at: Instant,
  /**
   * The subscription's browser and target when the outcome was recorded (the
   * subscription may change or go later); null when unknown: rows recorded
   * before browsers were kept, or a retry whose subscription was removed.
   */
  browser: BrowserClass.nullable().default(null),
});
export type Delivery = z.infer<typeof Delivery>;

/** Per-campaign tallies, as `campaigns.stats` reports them. */
export interface CampaignStats {
  campaignId: CampaignId;
  recipients: number;
  pending: number;
  sent: number;
  failed: number;
  gone: number;
  skipped: Record<string, number>;
  control: number;
  viewed: number;
  clicked: number;
  closed: number;
  clickedByAction: Record<string, number>;
  /** Goal conversions (campaigns with a conversion goal), last-touch attributed. */
  conversions: ConversionStats;
}

export interface ConversionStats {
  /** Delivered recipients who converted, and the revenue of their conversions. */
  recipients: { audience: number; conversions: number; revenue: number; rate: number | null };
  /** Control-group members who converted without a send. */
  control: { audience: number; conversions: number; revenue: number; rate: number | null };
  /** (recipient rate − control rate) / control rate; null without a control conversion rate to compare. */
  lift: number | null;
}
