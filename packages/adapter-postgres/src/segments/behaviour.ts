import {
  assertNever,
  type DateBound,
  type EventCount,
  type EventFilter,
  type EventWindow,
} from '@herald/core';
import type { CompileContext } from './compile.js';
import { compileCondition } from './conditions.js';
import { latestDecides, latestDecidesLastTime, latestDidSet, latestTimeSet } from './latest-events.js';
import { instant, resolveBound, windowRange } from './time.js';

/**
 * Past-behaviour conditions (rules 9-12 of core's evaluator), two ways with
 * the same meaning. (In `set` mode, what the latest instant per event name
 * decides reads migration 006's latest_events instead: latest-events.ts.)
 * `probe` (audience pages): correlated subqueries on the user's events,
 * each an index range scan on events (user_id, name, time) whose count
 * stops as soon as the answer is known (LIMIT n or n + 1), so
 * "did it at least 3 times" reads at most 3 rows. `set` (counts and reach,
 * which visit every profile): each condition's window is read once for all
 * users, grouped (see inUserSet).
 */

/** FROM/WHERE selecting the events that match `filter`, inside `window` when given: the profile's own, or everyone's. */
function matchingEvents(
  filter: EventFilter,
  window: EventWindow | undefined,
  ctx: CompileContext,
  correlated = true,
): string {
  const where = [`e.name = ${ctx.params.add(filter.name)}::text`];
  if (correlated) where.unshift(`e.user_id = ${ctx.profile}.user_id`);
  if (window !== undefined) {
    // Rule 10: inLast is closed [now - d, now]; between is half-open [from, to).
    const range = windowRange(window, ctx.now);
    where.push(`e."time" >= ${instant(range.from, ctx.params)}`);
    where.push(`e."time" ${range.closed ? '<=' : '<'} ${instant(range.to, ctx.params)}`);
  }
  for (const condition of filter.where) {
    where.push(compileCondition(condition, 'e.properties', ctx.params, ctx.schema, ctx.now));
  }
  return `FROM ${ctx.schema}.events e WHERE ${where.join(' AND ')}`;
}

/**
 * The matching events of every user at once, for `behaviour: 'set'`: one
 * scan of the window (through events (name, time) INCLUDE (user_id)),
 * grouped by user; `having` keeps only the users whose events pass it (a
 * count, a first or last time). Never a probe of the events index per
 * profile, which at a million profiles costs seconds when that index is
 * not cached. Returns a boolean: the profile's user is in the set.
 *
 * A condition the whole segment requires (`ctx.conjunct`) is an `IN
 * (subquery)`, which Postgres turns into a semi-join (hash, merge, or
 * probes of the small profiles key). Anywhere else (under `or` or `not`)
 * an IN would stay a subplan, hashed only while the set fits in work_mem
 * and rescanned for every profile beyond it, so the set is LEFT JOINed
 * instead and tested for a match; a `NOT` over that becomes an anti-join.
 */
function inUserSet(
  filter: EventFilter,
  window: EventWindow | undefined,
  having: string | undefined,
  ctx: CompileContext,
): string {
  return inSet(groupedUsers(filter, window, having, ctx), true, ctx);
}

/** The users with events matching `filter` in `window` (passing `having`), each once. */
function groupedUsers(
  filter: EventFilter,
  window: EventWindow | undefined,
  having: string | undefined,
  ctx: CompileContext,
): string {
  return `SELECT e.user_id ${matchingEvents(filter, window, ctx, false)} GROUP BY e.user_id${having === undefined ? '' : ` HAVING ${having}`}`;
}

/**
 * The profile's user is among the user ids `users` selects (`unique`: at
 * most once each): an IN where the whole segment requires it, a LEFT JOIN
 * anywhere else (see inUserSet).
 */
function inSet(users: string, unique: boolean, ctx: CompileContext): string {
  if (ctx.conjunct) return `(${ctx.profile}.user_id IN (${users}))`;
  const joins = ctx.joins;
  if (!joins) throw new Error("behaviour 'set' needs a joins list in the compile context");
  const alias = `b${joins.length + 1}`;
  const set = unique ? users : `SELECT DISTINCT u.user_id FROM (${users}) u`;
  joins.push(`LEFT JOIN (${set}) ${alias} ON ${alias}.user_id = ${ctx.profile}.user_id`);
  return `(${alias}.user_id IS NOT NULL)`;
}

/** Not among `users`: always the LEFT JOIN, so the negation is an anti-join and never probes per profile. */
function notInSet(users: string, unique: boolean, ctx: CompileContext): string {
  return `(NOT ${inSet(users, unique, { ...ctx, conjunct: false })})`;
}

/** Not among the users `groupedUsers` selects (see notInSet). */
function notInUserSet(
  filter: EventFilter,
  window: EventWindow | undefined,
  having: string | undefined,
  ctx: CompileContext,
): string {
  return notInSet(groupedUsers(filter, window, having, ctx), true, ctx);
}

/** Rule 11: the number of matching events compared with `count` (default: at least once). */
export function compileDid(
  event: EventFilter,
  count: EventCount | undefined,
  window: EventWindow | undefined,
  ctx: CompileContext,
): string {
  const rule = count ?? { op: 'atLeast', value: 1 };
  // Every user did it at least zero times; adding no parameters keeps the numbering dense.
  if (rule.op === 'atLeast' && rule.value === 0) return 'true';
  if (ctx.behaviour === 'set' && latestDecides(event, window)) {
    // latest_events holds one row per (name, user): each user is in the set once.
    if (rule.op === 'atLeast' && rule.value === 1)
      return inSet(latestDidSet([event.name], window, ctx), true, ctx);
    if (rule.op !== 'atLeast' && rule.value === 0)
      return notInSet(latestDidSet([event.name], window, ctx), true, ctx);
  }
  if (ctx.behaviour === 'set') {
    const n = () => `${ctx.params.add(rule.value)}::bigint`;
    switch (rule.op) {
      case 'atLeast':
        return inUserSet(event, window, rule.value === 1 ? undefined : `count(*) >= ${n()}`, ctx);
      case 'atMost':
        return notInUserSet(event, window, `count(*) > ${n()}`, ctx);
      case 'exactly':
        if (rule.value === 0) return notInUserSet(event, window, undefined, ctx);
        return inUserSet(event, window, `count(*) = ${n()}`, ctx);
      default:
        return assertNever(rule.op, 'count operator');
    }
  }
  const events = matchingEvents(event, window, ctx);
  // Counting stops one past what can change the answer.
  const capped = (limit: number) =>
    `(SELECT count(*) FROM (SELECT 1 ${events} LIMIT ${ctx.params.add(limit)}::bigint) AS counted)`;
  switch (rule.op) {
    case 'atLeast':
      if (rule.value === 1) return `EXISTS (SELECT 1 ${events})`;
      return `(${capped(rule.value)} >= ${ctx.params.add(rule.value)}::bigint)`;
    case 'atMost':
      return `(${capped(rule.value + 1)} <= ${ctx.params.add(rule.value)}::bigint)`;
    case 'exactly':
      if (rule.value === 0) return `(NOT EXISTS (SELECT 1 ${events}))`;
      return `(${capped(rule.value + 1)} = ${ctx.params.add(rule.value)}::bigint)`;
    default:
      return assertNever(rule.op, 'count operator');
  }
}

/** Rule 11: no matching event in the window. */
export function compileDidNot(
  event: EventFilter,
  window: EventWindow | undefined,
  ctx: CompileContext,
): string {
  if (ctx.behaviour === 'set' && latestDecides(event, window)) {
    return notInSet(latestDidSet([event.name], window, ctx), true, ctx);
  }
  if (ctx.behaviour === 'set') return notInUserSet(event, window, undefined, ctx);
  return `(NOT EXISTS (SELECT 1 ${matchingEvents(event, window, ctx)}))`;
}

/** Rule 12: the earliest or latest matching event, at any time, strictly before or after the bound; false with none. */
export function compileFirstOrLast(
  which: 'firstTime' | 'lastTime',
  event: EventFilter,
  op: 'before' | 'after',
  date: DateBound,
  ctx: CompileContext,
): string {
  if (ctx.behaviour === 'set' && which === 'lastTime' && latestDecidesLastTime(event)) {
    return inSet(latestTimeSet(event, op, resolveBound(date, ctx.now), ctx), true, ctx);
  }
  const pick = which === 'firstTime' ? 'min' : 'max';
  const comparison = op === 'before' ? '<' : '>';
  const bound = instant(resolveBound(date, ctx.now), ctx.params);
  if (ctx.behaviour === 'set')
    return inUserSet(event, undefined, `${pick}(e."time") ${comparison} ${bound}`, ctx);
  return `coalesce((SELECT ${pick}(e."time") ${matchingEvents(event, undefined, ctx)}) ${comparison} ${bound}, false)`;
}

/** `set` mode: the user did any of `names` at least once within `window` (an `or` of such conditions, merged). */
export function compileDidAny(
  names: readonly string[],
  window: EventWindow | undefined,
  ctx: CompileContext,
): string {
  return inSet(latestDidSet(names, window, ctx), names.length === 1, ctx);
}
