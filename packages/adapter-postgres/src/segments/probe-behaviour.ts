import { assertNever, type SegmentDefinition } from '@herald/core';
import type { BehaviourReads } from './context.js';
import { isDidOnce } from './latest-events.js';
import { eventsNamedAny, matchingEvents } from './matching-events.js';
import { instant, resolveBound } from './time.js';

/**
 * Behaviour conditions for audience pages: correlated subqueries on the
 * profile's own events, each an index range scan on events (user_id, name,
 * time) whose count stops as soon as the answer is known (LIMIT n or
 * n + 1), so "did it at least 3 times" reads at most 3 rows. Cheapest when
 * a query stops after a page.
 */
export const probeBehaviour: BehaviourReads = {
  did(event, count, window, ctx) {
    const events = matchingEvents(event, window, ctx, true);
    // Counting stops one past what can change the answer.
    const capped = (limit: number) =>
      `(SELECT count(*) FROM (SELECT 1 ${events} LIMIT ${ctx.params.add(limit)}::bigint) AS counted)`;
    switch (count.op) {
      case 'atLeast':
        if (count.value === 1) return `EXISTS (SELECT 1 ${events})`;
        return `(${capped(count.value)} >= ${ctx.params.add(count.value)}::bigint)`;
      case 'atMost':
        return `(${capped(count.value + 1)} <= ${ctx.params.add(count.value)}::bigint)`;
      case 'exactly':
        if (count.value === 0) return `(NOT EXISTS (SELECT 1 ${events}))`;
        return `(${capped(count.value + 1)} = ${ctx.params.add(count.value)}::bigint)`;
      default:
        return assertNever(count.op, 'count operator');
    }
  },

  didNot(event, window, ctx) {
    return `(NOT EXISTS (SELECT 1 ${matchingEvents(event, window, ctx, true)}))`;
  },

  firstOrLast({ type, event, op, date }, ctx) {
    const pick = type === 'firstTime' ? 'min' : 'max';
    const comparison = op === 'before' ? '<' : '>';
    const bound = instant(resolveBound(date, ctx.now), ctx.params);
    return `coalesce((SELECT ${pick}(e."time") ${matchingEvents(event, undefined, ctx, true)}) ${comparison} ${bound}, false)`;
  },

  /**
   * "Did any of X, Y, Z" (each at least once, no property filter) in one window is one EXISTS with
   * `name = ANY`. Separate EXISTS subqueries under an `or` cannot become a join, so Postgres costed
   * each as a subplan run once per profile it might visit, without the page's LIMIT, and chose to
   * hash each instead: every page read the whole window's events of every name (140-180 ms a page of
   * 1,000 for three names at 1,000,000 profiles, against 16-23 ms probed). One EXISTS that is the
   * whole segment becomes a semi-join, which the LIMIT lets the planner probe.
   */
  mergeOr(children, ctx) {
    const byWindow = new Map<string, Array<Extract<SegmentDefinition, { type: 'did' }>>>();
    for (const child of children) {
      if (child.type !== 'did' || !isDidOnce(child.count) || child.event.where.length > 0) continue;
      const key = JSON.stringify(child.window ?? null);
      const group = byWindow.get(key);
      if (group) group.push(child);
      else byWindow.set(key, [child]);
    }
    const groups = [...byWindow.values()].filter((group) => group.length > 1);
    const grouped = new Set<SegmentDefinition>(groups.flat());
    return {
      merged: groups.map(
        (group) =>
          `EXISTS (SELECT 1 ${eventsNamedAny(
            group.map((did) => did.event.name),
            group[0]?.window,
            ctx,
            true,
          )})`,
      ),
      rest: children.filter((child) => !grouped.has(child)),
    };
  },
};
