import type { EventFilter, EventWindow } from '@herald/core';
import type { CompileContext } from './compile.js';
import { windowRange } from './time.js';

/**
 * Behaviour conditions answered from the profile row's `last_event_us`
 * (migration 006: for each event name, the epoch microseconds of the
 * user's latest event of that name). A lookup in the row being scanned,
 * so counting a segment over every profile needs no join with events.
 *
 * It answers what only the latest instant decides, for an event with no
 * property filter:
 * - did it (at least once) ever, or within "the last N units" [now - N, now];
 * - its last time before / after a date (rule 12).
 * Everything else (counts, property filters, `between` windows, first
 * times) reads the events table (behaviour.ts).
 */

/** True when `last_event_us` decides whether the user did `event` within `window`. */
export function lastEventDecides(event: EventFilter, window: EventWindow | undefined): boolean {
  return event.where.length === 0 && (window === undefined || 'inLast' in window);
}

/** True when `last_event_us` decides rule 12 for `event`: its last time, with no property filter. */
export function lastEventDecidesLastTime(event: EventFilter): boolean {
  return event.where.length === 0;
}

/**
 * The user did `event` at least once within `window` (ever when undefined);
 * true or false, never NULL. An event later than `now` (a device's clock
 * ahead, or a reach estimated as of the past) hides whether an earlier one
 * falls in the window, so those users alone are checked against the events
 * table: CASE evaluates that probe only for them.
 */
export function didFromLastEvent(
  event: EventFilter,
  window: EventWindow | undefined,
  ctx: CompileContext,
  probe: () => string,
): string {
  const last = lastEventUs(event, ctx);
  if (window === undefined) return `(${last} IS NOT NULL)`;
  const range = windowRange(window, ctx.now);
  const from = micros(range.from, ctx);
  const to = micros(range.to, ctx);
  return `(CASE WHEN ${last} >= ${from} THEN ${last} <= ${to} OR ${probe()} ELSE false END)`;
}

/** Rule 12 for a last time: the latest event is strictly before / after `bound` (epoch ms); false with none. */
export function lastTimeFromLastEvent(
  event: EventFilter,
  op: 'before' | 'after',
  bound: number,
  ctx: CompileContext,
): string {
  return `coalesce(${lastEventUs(event, ctx)} ${op === 'before' ? '<' : '>'} ${micros(bound, ctx)}, false)`;
}

/** The profile's latest `event` in epoch microseconds, NULL when it never did it. */
function lastEventUs(event: EventFilter, ctx: CompileContext): string {
  return `(${ctx.profile}.last_event_us -> ${ctx.params.add(event.name)}::text)::bigint`;
}

/** An instant (epoch ms, as core computes bounds) in epoch microseconds; exact, as a bigint. */
function micros(ms: number, ctx: CompileContext): string {
  return `${ctx.params.add((BigInt(ms) * 1000n).toString())}::bigint`;
}
