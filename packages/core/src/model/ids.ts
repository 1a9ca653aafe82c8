import { z } from 'zod';
import { STORABLE_TEXT } from './text.js';

/** Branded ids, so a user id is never passed where a campaign id belongs. */
export const MAX_USER_ID_LENGTH = 256;
export const UserId = z
  .string()
  .min(1)
  .max(MAX_USER_ID_LENGTH)
  .refine(STORABLE_TEXT.check, STORABLE_TEXT)
  .brand<'UserId'>();
export type UserId = z.infer<typeof UserId>;

export const CampaignId = z
  .string()
  .min(1)
  .max(64)
  .refine(STORABLE_TEXT.check, STORABLE_TEXT)
  .brand<'CampaignId'>();
export type CampaignId = z.infer<typeof CampaignId>;

export const SubscriptionId = z
  .string()
  .min(1)
  .max(128)
  .refine(STORABLE_TEXT.check, STORABLE_TEXT)
  .brand<'SubscriptionId'>();
export type SubscriptionId = z.infer<typeof SubscriptionId>;

export const SegmentId = z
  .string()
  .min(1)
  .max(64)
  .refine(STORABLE_TEXT.check, STORABLE_TEXT)
  .brand<'SegmentId'>();
export type SegmentId = z.infer<typeof SegmentId>;

export const asUserId = (id: string): UserId => UserId.parse(id);
export const asCampaignId = (id: string): CampaignId => CampaignId.parse(id);
export const asSubscriptionId = (id: string): SubscriptionId => SubscriptionId.parse(id);
