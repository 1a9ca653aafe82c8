import type { EventCount, EventFilter, EventWindow, SegmentDefinition } from '@herald/core';
import type { CompileContext } from './context.js';
import { instant, windowRange } from './time.js';

/**
 * Behaviour conditions answered from `latest_events` (migration 006: the
 * latest instant of every (event name, user)), for counts and reach, which
 * visit every profile. A condition is then one range of that table's
 * primary key, already in user order, instead of a window of events
 * grouped by user.
 *
 * It answers what only the latest instant decides, for an event with no
 * property filter:
 * - did it (at least once) ever, or within "the last N units" [now - N, now];
 * - its last time before / after a date (rule 12).
 * Everything else (other counts, property filters, `between` windows, first
 * times) reads the events table (set-behaviour.ts).
 */

/** True when the latest instant decides whether the user did `event` within `window`. */
export function latestDecides(event: EventFilter, window: EventWindow | undefined): boolean {
  return event.where.length === 0 && (window === undefined || 'inLast' in window);
}

/** True when the latest instant decides rule 12 for `event`: its last time, with no property filter. */
export function latestDecidesLastTime(event: EventFilter): boolean {
  return event.where.length === 0;
}

/**
 * The users who did any of `names` at least once within `window` (ever
 * when undefined), as a subquery of user ids (a user may appear once per
 * name): a range of latest_events' primary key, in user order. An event
 * later than `now` (a device's clock ahead, or a reach estimated as of the
 * past) hides whether an earlier one falls in the window, so for those
 * pairs alone `has_event_between` probes the events table.
 */
export function latestDidSet(
  names: readonly string[],
  window: EventWindow | undefined,
  ctx: CompileContext,
): string {
  // One name as `=`, so the planner knows the range comes in user order.
  const named =
    names.length === 1
      ? `l.name = ${ctx.params.add(names[0])}::text`
      : `l.name = ANY(${ctx.params.add(names)}::text[])`;
  const select = `SELECT l.user_id FROM ${ctx.schema}.latest_events l WHERE ${named}`;
  if (window === undefined) return select;
  const range = windowRange(window, ctx.now);
  const from = instant(range.from, ctx.params);
  const to = instant(range.to, ctx.params);
  return `${select} AND l.last_at >= ${from}
    AND (l.last_at <= ${to} OR ${ctx.schema}.has_event_between(l.user_id, l.name, ${from}, ${to}))`;
}

/** The users whose latest `event` is strictly before / after `bound` (epoch ms), as a subquery of user ids. */
export function latestTimeSet(
  event: EventFilter,
  op: 'before' | 'after',
  bound: number,
  ctx: CompileContext,
): string {
  return `SELECT l.user_id FROM ${ctx.schema}.latest_events l
    WHERE l.name = ${ctx.params.add(event.name)}::text AND l.last_at ${op === 'before' ? '<' : '>'} ${instant(bound, ctx.params)}`;
}

/** "Did it at least once": what an `or` of such conditions with one window can ask of a single set. */
function isDidOnce(count: EventCount | undefined): boolean {
  return count === undefined || (count.op === 'atLeast' && count.value === 1);
}

type DidDefinition = Extract<SegmentDefinition, { type: 'did' }>;

/**
 * The children of an `or`, with every group of "did X at least once" in the
 * same window that `joins` accepts (by default: what the latest instants
 * decide) made one: did any of X, Y, Z in that window is one read, not one
 * per name. Each group keeps its `did`s, in order.
 */
export function groupDidsByWindow(
  children: readonly SegmentDefinition[],
  joins: (did: DidDefinition) => boolean = (did) => latestDecides(did.event, did.window),
): {
  groups: Array<{ names: string[]; window: EventWindow | undefined; dids: DidDefinition[] }>;
  rest: SegmentDefinition[];
} {
  const byWindow = new Map<
    string,
    { names: string[]; window: EventWindow | undefined; dids: DidDefinition[] }
  >();
  const rest: SegmentDefinition[] = [];
  for (const child of children) {
    if (child.type === 'did' && isDidOnce(child.count) && joins(child)) {
      const key = JSON.stringify(child.window ?? null);
      const group = byWindow.get(key) ?? { names: [], window: child.window, dids: [] };
      group.names.push(child.event.name);
      group.dids.push(child);
      byWindow.set(key, group);
    } else {
      rest.push(child);
    }
  }
  return { groups: [...byWindow.values()], rest };
}
