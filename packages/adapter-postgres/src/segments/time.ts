import type { DateBound, EventWindow } from '@herald/core';
import type { Params } from './params.js';

/** Years Postgres and Date.toISOString agree on; beyond them a bound is as good as infinite for stored events. */
// setUTCFullYear, not Date.UTC, which reads years 0-99 as 1900-1999.
const FIRST_INSTANT = (() => {
  const d = new Date(0);
  d.setUTCFullYear(1, 0, 1);
  return d.getTime();
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

const UNIT_MS = { minutes: 60_000, hours: 3_600_000, days: 86_400_000, weeks: 604_800_000 } as const;

/** The instant (epoch ms) a date bound stands for at `now`: fixed-length units, as in core's evaluator. */
export function resolveBound(bound: DateBound, now: Date): number {
  if ('at' in bound) return bound.at.getTime();
  return now.getTime() - bound.ago.amount * UNIT_MS[bound.ago.unit];
}

/** An event window's bounds in epoch ms; `closed` when `to` itself is inside (rule 10 of core's evaluator). */
export function windowRange(window: EventWindow, now: Date): { from: number; to: number; closed: boolean } {
  if ('inLast' in window) {
    return {
      from: now.getTime() - window.inLast.amount * UNIT_MS[window.inLast.unit],
      to: now.getTime(),
      closed: true,
    };
  }
  return {
    from: resolveBound(window.between.from, now),
    to: resolveBound(window.between.to, now),
    closed: false,
  };
}
