import { assertNever, type Target } from '@herald/core';
import type { Params } from './params.js';

/**
 * Rule 13 of core's evaluator on the profile row: migration 005 keeps, per
 * profile, the latest instant until which one of the user's web push
 * subscriptions is live (`reach_webpush_until`, +Infinity for one without a
 * numeric expirationTime, NULL with none) and whether they have a Safari
 * subscription (always live). Each expression is true or false, never NULL.
 */
export function liveReach(target: Target | undefined, profile: string, now: Date, params: Params): string {
  const webpush = () =>
    `coalesce(${profile}.reach_webpush_until > ${params.add(now.getTime())}::float8, false)`;
  const safari = `${profile}.reach_safari`;
  switch (target) {
    case undefined:
      return `(${webpush()} OR ${safari})`;
    case 'webpush':
      return webpush();
    case 'safari':
      return safari;
    default:
      return assertNever(target, 'target');
  }
}

/** The user has a live subscription (on `target`, when given). */
export function compileReachable(
  target: Target | undefined,
  profile: string,
  now: Date,
  params: Params,
): string {
  return liveReach(target, profile, now, params);
}
