import { z } from 'zod';
import { CampaignId, SubscriptionId, UserId } from '../model/index.js';

/**
 * The jobs the engine puts on the queue. Payloads are parsed on the way out
 * of the queue like any other input crossing a boundary.
 */
export const JobName = {
  /** Fan-out of one page of a campaign occurrence's audience (keyset cursor `after`). */
  audiencePage: 'herald.audience-page',
  /** Gate, render and send to a batch of users. */
  deliverBatch: 'herald.deliver-batch',
  /** Send again to one subscription after a retryable outcome. */
  redeliver: 'herald.redeliver',
} as const;

export const AudiencePageJob = z.object({
  campaignId: CampaignId,
  occurrence: z.string(),
  after: UserId.nullable(),
  page: z.number().int().min(0),
});
export type AudiencePageJob = z.infer<typeof AudiencePageJob>;

export const DeliverBatchJob = z.object({
  campaignId: CampaignId,
  occurrence: z.string(),
  userIds: z.array(UserId).min(1),
});
export type DeliverBatchJob = z.infer<typeof DeliverBatchJob>;

export const RedeliverJob = z.object({
  campaignId: CampaignId,
  occurrence: z.string(),
  userId: UserId,
  subscriptionId: SubscriptionId,
  /** Send attempts so far for this subscription. */
  attempts: z.number().int().min(1),
});
export type RedeliverJob = z.infer<typeof RedeliverJob>;
