import { z } from 'zod';
import { Instant } from './common.js';
import { CampaignId } from './ids.js';

/** What a history entry records: the host's commands on a campaign (the scheduler's own moves are not listed). */
export const CampaignHistoryAction = z.enum([
  'created',
  'updated',
  'scheduled',
  'paused',
  'resumed',
  'stopped',
  'archived',
  'duplicated',
]);
export type CampaignHistoryAction = z.infer<typeof CampaignHistoryAction>;

/** One top-level field an update replaced, with its value before and after (a section is replaced whole). */
export const CampaignFieldChange = z.object({
  field: z.string().min(1),
  before: z.unknown(),
  after: z.unknown(),
});
export type CampaignFieldChange = z.infer<typeof CampaignFieldChange>;

/** Who did what to a campaign, when, and the version it left the campaign at. */
export const CampaignHistoryEntry = z.object({
  campaignId: CampaignId,
  /** The campaign's version after this change (a duplicate leaves the original's unchanged). */
  version: z.number().int().min(0),
  at: Instant,
  /** Who asked: the admin API's authorised principal, or the library caller's `actor` ('library' by default). */
  actor: z.string().min(1).max(200),
  action: CampaignHistoryAction,
  /** For `updated`: the fields replaced; for status changes, `status` (and `nextRunAt` when it moved). */
  changes: z.array(CampaignFieldChange).default([]),
  /** `duplicated`: the copy's id; `created` of a copy: the original's id. */
  relatedCampaignId: CampaignId.nullable().default(null),
});
export type CampaignHistoryEntry = z.infer<typeof CampaignHistoryEntry>;
