import { assertNever } from '@herald/core';
import type { BehaviourReads } from './context.js';
import { matchingEvents } from './matching-events.js';
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

  mergeOr(children) {
    return { merged: [], rest: [...children] };
  },
};
