import type { Campaign, SkipReason } from '../../../model/index.js';

/**
 * Why a campaign cannot deliver at `now`: stopped, past its end, past its
 * cut-off. Checked when a message is picked up for sending, not when it was
 * queued. End and cut-off are inclusive: a message at exactly `end` still goes.
 */
export function blockedReason(campaign: Campaign, now: Date): SkipReason | null {
  if (campaign.status === 'stopped') return 'stopped';
  if (campaign.when.end && now > campaign.when.end) return 'ended';
  if (campaign.when.cutoff && now > campaign.when.cutoff) return 'cutoff';
  return null;
}

/**
 * Whether a message due at `dueAt` may still go out at `until` (a DND
 * window's end, the next minute of a throttle): not once the campaign has
 * ended, its cut-off passed or the message's TTL (counted from when it was
 * due) lapsed by then.
 */
export function lateReason(campaign: Campaign, until: Date, dueAt: Date): SkipReason | null {
  if (campaign.when.end && until > campaign.when.end) return 'ended';
  if (campaign.when.cutoff && until > campaign.when.cutoff) return 'cutoff';
  if (ttlLapsed(campaign, dueAt, until)) return 'expired';
  return null;
}

/** Whether a message due at `dueAt` has outlived its TTL by `at`: the push service would drop it anyway. */
export function ttlLapsed(campaign: Campaign, dueAt: Date, at: Date): boolean {
  return at.getTime() > dueAt.getTime() + campaign.what.ttlSeconds * 1000;
}
