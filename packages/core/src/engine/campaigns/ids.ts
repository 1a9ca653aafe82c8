import { createHash, randomUUID } from 'node:crypto';
import {
  type CampaignId,
  CampaignId as CampaignIdSchema,
  type SubscriptionId,
  SubscriptionId as SubscriptionIdSchema,
} from '../../model/index.js';

function digest(value: string): string {
  return createHash('sha256').update(value).digest('base64url').slice(0, 27);
}

/**
 * A subscription's id is derived from its address (endpoint or device token),
 * so the browser posting the same subscription twice updates one record.
 */
export function subscriptionIdFor(address: string, target: 'webpush' | 'safari'): SubscriptionId {
  return SubscriptionIdSchema.parse(`${target === 'webpush' ? 'wp' : 'sf'}_${digest(address)}`);
}

export function newCampaignId(): CampaignId {
  return CampaignIdSchema.parse(`cmp_${randomUUID().replace(/-/g, '')}`);
}
