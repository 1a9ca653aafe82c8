import type { Campaign } from '../../model/index.js';
import { sameWallTimeIn } from './local-time.js';

/** How late a run may start before users whose local time it missed count as "passed". */
export const PASSED_GRACE_MS = 5 * 60_000;

/**
 * The zone a user's local times are read in for a campaign's message (delivery in the user's zone,
 * DND, reminder dates): their profile's, else the campaign's, which its author chose for its audience.
 */
export function zoneOf(campaign: Campaign, profileZone: string | undefined): string {
  return profileZone ?? campaign.when.timezone;
}

/**
 * The zone a user's days and weeks are counted in for the global caps: their profile's, else the
 * engine's `defaultTimezone`. Never the campaign's: the caps span every campaign, so a user's day
 * must not depend on which campaign asks (a Tokyo campaign and a Los Angeles one would otherwise
 * each see a fresh day for the same zoneless user an hour apart).
 */
export function capZoneOf(defaultTimezone: string, profileZone: string | undefined): string {
  return profileZone ?? defaultTimezone;
}

export type UserDue = { kind: 'due'; at: Date } | { kind: 'passed'; at: Date };

/**
 * When one user's message of a scheduled occurrence is due.
 *
 * - Without `userTimezone`: the occurrence's nominal instant for everyone.
 * - With it: the occurrence's wall-clock date and time (in the campaign's
 *   zone) in the user's zone, so 09:00 is 09:00 for each user and the run is
 *   a wave across zones. A user whose local time lies more than
 *   PASSED_GRACE_MS before the run started (or before the campaign's start)
 *   has "passed": skipped or sent at once, per `ifPassed`.
 * - Never before the campaign's start.
 */
export function userDue(campaign: Campaign, nominal: Date, zone: string, startedAt: Date): UserDue {
  const start = campaign.when.start;
  const clamp = (at: Date) => (start && start > at ? start : at);
  if (!campaign.when.userTimezone) return { kind: 'due', at: clamp(nominal) };
  const local = sameWallTimeIn(nominal, campaign.when.timezone, zone);
  const reference = start && start > startedAt ? start : startedAt;
  if (local.getTime() < reference.getTime() - PASSED_GRACE_MS) return { kind: 'passed', at: reference };
  return { kind: 'due', at: clamp(local) };
}
