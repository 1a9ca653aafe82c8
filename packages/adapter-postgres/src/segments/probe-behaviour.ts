import { assertNever, type SegmentDefinition } from '@herald/core';
import type { BehaviourReads, CompileContext } from './context.js';
import { groupDidsByWindow } from './latest-events.js';
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
        if (count.value === 1) return anyEvent(events, ctx);
        return `(${capped(count.value)} >= ${ctx.params.add(count.value)}::bigint)`;
      case 'atMost':
        return `(${capped(count.value + 1)} <= ${ctx.params.add(count.value)}::bigint)`;
      case 'exactly':
        if (count.value === 0) return `(NOT ${anyEvent(events, ctx)})`;
        return `(${capped(count.value + 1)} = ${ctx.params.add(count.value)}::bigint)`;
      default:
        return assertNever(count.op, 'count operator');
    }
  },

  didNot(event, window, ctx) {
    return `(NOT ${anyEvent(matchingEvents(event, window, ctx, true), ctx)})`;
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
   * 1,000 for three names at 1,000,000 profiles, against 16-23 ms probed). One EXISTS that the
   * segment requires becomes a semi-join, which the LIMIT lets the planner probe; beside other
   * conditions it is probed per profile (anyEvent).
   */
  mergeOr(children, ctx) {
    // Only two or more names are worth one EXISTS; a lone `did` stays compiled as it is.
    const groups = groupDidsByWindow(children, (did) => did.event.where.length === 0).groups.filter(
      (group) => group.names.length > 1,
    );
    const grouped = new Set<SegmentDefinition>(groups.flatMap((group) => group.dids));
    const rest = children.filter((child) => !grouped.has(child));
    // The `or` is this one EXISTS only when nothing else is in it.
    const conjunct = ctx.conjunct && groups.length === 1 && rest.length === 0;
    const merged = groups.map((group) =>
      anyEvent(eventsNamedAny(group.names, group.window, ctx, true), { ...ctx, conjunct }),
    );
    return { merged, rest };
  },
};

/**
 * Whether the profile has any of `events` (a correlated FROM/WHERE). Where the segment requires it
 * (`ctx.conjunct`), Postgres turns the EXISTS into a semi- or anti-join, which the page's LIMIT
 * lets it probe. Anywhere else (under an `or` or a `not`) it stays a subplan, and Postgres may run
 * it hashed: every event in the window of every user after the page's key, read and hashed for
 * every page, because it costs the subplan by all the profiles the scan could visit, not the few
 * the LIMIT lets it reach. `OFFSET 0` keeps it a probe per profile, as Postgres hashes only an EXISTS
 * it can simplify and an OFFSET stops that. "Did `charged` in 30 days or country FR" at 1,000,000
 * profiles: 68 ms a page hashed (266,704 index entries read), 10 ms probed (about 3,800 probes).
 * Probing costs the audience one probe per profile in all; hashing, a window per page.
 */
function anyEvent(events: string, ctx: CompileContext): string {
  return ctx.conjunct ? `EXISTS (SELECT 1 ${events})` : `EXISTS (SELECT 1 ${events} OFFSET 0)`;
}
