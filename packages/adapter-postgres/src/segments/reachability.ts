import type { Target } from '@herald/core';
import type { Params } from './params.js';

/**
 * Rule 13 of core's evaluator: a stored subscription is live unless it is
 * web push with a numeric expirationTime (epoch ms) at or before now.
 * `expiration_time` is jsonb: SQL NULL when absent, JSON null when null.
 */
export function liveSubscription(alias: string, now: Date, params: Params): string {
  return `(${alias}.target <> 'webpush' OR coalesce(CASE WHEN jsonb_typeof(${alias}.expiration_time) = 'number' THEN (${alias}.expiration_time)::float8 > ${params.add(now.getTime())}::float8 END, true))`;
}

/** The user has a live subscription (on `target`, when given). */
export function compileReachable(
  target: Target | undefined,
  profile: string,
  schema: string,
  now: Date,
  params: Params,
): string {
  const onTarget = target === undefined ? '' : ` AND s.target = ${params.add(target)}::text`;
  return `EXISTS (SELECT 1 FROM ${schema}.subscriptions s WHERE s.user_id = ${profile}.user_id${onTarget} AND ${liveSubscription('s', now, params)})`;
}
