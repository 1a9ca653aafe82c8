import type { Params } from './params.js';

/** Years Postgres and Date.toISOString agree on; beyond them a bound is as good as infinite for stored events. */
// setUTCFullYear, not Date.UTC, which reads years 0-99 as 1900-1999.
const FIRST_INSTANT = (() => {
  const date = new Date(0);
  date.setUTCFullYear(1, 0, 1);
  return date.getTime();
})();
const LAST_INSTANT = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * An instant (epoch ms, as core's evaluator computes bounds) as a
 * timestamptz parameter. Instants outside years 1-9999 become ±infinity:
 * no event Herald can store lies beyond them, so every comparison keeps
 * its outcome.
 */
export function instant(ms: number, params: Params): string {
  const text = ms < FIRST_INSTANT ? '-infinity' : ms > LAST_INSTANT ? 'infinity' : new Date(ms).toISOString();
  return `${params.add(text)}::timestamptz`;
}

/**
 * Date bounds and event windows resolve exactly as in core's reference
 * evaluator: the compiled SQL binds the instants core computes.
 */
export { resolveBound, windowRange } from '@herald/core';
