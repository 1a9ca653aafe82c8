import { assertNever, type EventFilter, type EventWindow } from '@herald/core';
import type { BehaviourReads, CompileContext } from './context.js';
import {
  groupDidsByWindow,
  latestDecides,
  latestDecidesLastTime,
  latestDidSet,
  latestTimeSet,
} from './latest-events.js';
import { matchingEvents } from './matching-events.js';
import { instant, resolveBound } from './time.js';

/** Behaviour reads for one query in set form, and the joins its predicate needs after `FROM profiles`. */
export interface SetBehaviour extends BehaviourReads {
  /** The LEFT JOINs collected while compiling, in order (see inSet). */
  readonly joins: readonly string[];
  /** How many user sets (IN subqueries and LEFT JOINs) the compiled predicate reads. */
  readonly sets: number;
}

/**
 * Behaviour conditions for counts and reach, which visit every profile:
 * each condition's window is read once for all users and grouped by user
 * (see groupedUsers), then each profile is a hash lookup; what the latest
 * instant per event name decides reads migration 006's latest_events
 * instead (latest-events.ts). Never a probe of the events index per
 * profile, which at a million profiles costs seconds when that index is
 * not cached. One instance per query: it collects that query's joins.
 */
export function setBehaviour(): SetBehaviour {
  const joins: string[] = [];
  let sets = 0;

  /**
   * The profile's user is among the user ids `users` selects (`unique`: at
   * most once each). A condition the whole segment requires
   * (`ctx.conjunct`) is an `IN (subquery)`, which Postgres turns into a
   * semi-join (hash, merge, or probes of the small profiles key). Anywhere
   * else (under `or` or `not`) an IN would stay a subplan, hashed only while
   * the set fits in work_mem and rescanned for every profile beyond it, so
   * the set is LEFT JOINed instead and tested for a match; a `NOT` over
   * that becomes an anti-join. The joined set says `ORDER BY` its user:
   * pulled up into the outer query, a latest_events range on the nullable
   * side of the join lost the order of its primary key (the `name = $n`
   * that makes `(name, user_id)` ordered by user is not used for ordering
   * there), so the planner sorted it (184,398 pairs spilled to disk for
   * "did A but not B" at 1,000,000 profiles); planned on its own, the set
   * reads that key in order, or sorts only when that is cheaper.
   */
  function inSet(users: string, unique: boolean, ctx: CompileContext): string {
    sets += 1;
    if (ctx.conjunct) return `(${ctx.profile}.user_id IN (${users}))`;
    const alias = `b${joins.length + 1}`;
    const set = unique ? users : `SELECT DISTINCT u.user_id FROM (${users}) u`;
    joins.push(`LEFT JOIN (${set} ORDER BY 1) ${alias} ON ${alias}.user_id = ${ctx.profile}.user_id`);
    return `(${alias}.user_id IS NOT NULL)`;
  }

  /** Not among `users`: always the LEFT JOIN, so the negation is an anti-join and never probes per profile. */
  function notInSet(users: string, unique: boolean, ctx: CompileContext): string {
    return `(NOT ${inSet(users, unique, { ...ctx, conjunct: false })})`;
  }

  /** The matching events' users (passing `having`) are a set: in it. */
  const inUserSet = (
    filter: EventFilter,
    window: EventWindow | undefined,
    having: string | undefined,
    ctx: CompileContext,
  ) => inSet(groupedUsers(filter, window, having, ctx), true, ctx);

  /** Not in the set of the matching events' users (see notInSet). */
  const notInUserSet = (
    filter: EventFilter,
    window: EventWindow | undefined,
    having: string | undefined,
    ctx: CompileContext,
  ) => notInSet(groupedUsers(filter, window, having, ctx), true, ctx);

  return {
    joins,
    get sets() {
      return sets;
    },

    did(event, count, window, ctx) {
      if (latestDecides(event, window)) {
        // latest_events holds one row per (name, user): each user is in the set once.
        if (count.op === 'atLeast' && count.value === 1)
          return inSet(latestDidSet([event.name], window, ctx), true, ctx);
        if (count.op !== 'atLeast' && count.value === 0)
          return notInSet(latestDidSet([event.name], window, ctx), true, ctx);
      }
      const countParam = () => `${ctx.params.add(count.value)}::bigint`;
      switch (count.op) {
        case 'atLeast':
          return inUserSet(event, window, count.value === 1 ? undefined : `count(*) >= ${countParam()}`, ctx);
        case 'atMost':
          return notInUserSet(event, window, `count(*) > ${countParam()}`, ctx);
        case 'exactly':
          if (count.value === 0) return notInUserSet(event, window, undefined, ctx);
          return inUserSet(event, window, `count(*) = ${countParam()}`, ctx);
        default:
          return assertNever(count.op, 'count operator');
      }
    },

    didNot(event, window, ctx) {
      if (latestDecides(event, window)) return notInSet(latestDidSet([event.name], window, ctx), true, ctx);
      return notInUserSet(event, window, undefined, ctx);
    },

    firstOrLast({ type, event, op, date }, ctx) {
      if (type === 'lastTime' && latestDecidesLastTime(event)) {
        return inSet(latestTimeSet(event, op, resolveBound(date, ctx.now), ctx), true, ctx);
      }
      const pick = type === 'firstTime' ? 'min' : 'max';
      const comparison = op === 'before' ? '<' : '>';
      const bound = instant(resolveBound(date, ctx.now), ctx.params);
      return inUserSet(event, undefined, `${pick}(e."time") ${comparison} ${bound}`, ctx);
    },

    /** "Did it at least once" children sharing a window read one set for all their names. */
    mergeOr(children, ctx) {
      const { groups, rest } = groupDidsByWindow(children);
      // An `or` read as a single set is that set: where the segment requires the `or`, it requires the
      // set, which can then be a semi-join (duplicates and all) instead of a de-duplicated LEFT JOIN.
      const conjunct = ctx.conjunct && groups.length === 1 && rest.length === 0;
      const merged = groups.map((group) =>
        inSet(latestDidSet(group.names, group.window, ctx), group.names.length === 1, { ...ctx, conjunct }),
      );
      return { merged, rest };
    },
  };
}

/** The users with events matching `filter` in `window` (passing `having`), each once: one scan of the window through events (name, time) INCLUDE (user_id). */
function groupedUsers(
  filter: EventFilter,
  window: EventWindow | undefined,
  having: string | undefined,
  ctx: CompileContext,
): string {
  return `SELECT e.user_id ${matchingEvents(filter, window, ctx, false)} GROUP BY e.user_id${having === undefined ? '' : ` HAVING ${having}`}`;
}
