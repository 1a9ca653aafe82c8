import {
  assertNever,
  type DateBound,
  type EventCount,
  type EventFilter,
  type EventWindow,
} from '@herald/core';
import type { CompileContext } from './compile.js';
import { compileCondition } from './conditions.js';
import { instant, resolveBound, windowRange } from './time.js';

/**
 * Past-behaviour conditions (rules 9-12 of core's evaluator) as correlated
 * subqueries on the user's events: each is an index range scan on
 * events (user_id, name, time), and counts stop as soon as the answer is
 * known (LIMIT n or n + 1), so "did it at least 3 times" reads at most 3 rows.
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
 * The same matching events as a set of users, for `behaviour: 'set'`:
 * "user_id IN (users whose matching events satisfy `having`)". Scans the
 * window once through events (name, time) instead of probing per profile.
 */
function usersWhere(
  filter: EventFilter,
  window: EventWindow | undefined,
  having: string | null,
  ctx: CompileContext,
): string {
  const events = matchingEvents(filter, window, ctx, false);
  const grouped = having === null ? '' : ` GROUP BY e.user_id HAVING ${having}`;
  return `${ctx.profile}.user_id IN (SELECT e.user_id ${events}${grouped})`;
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
  if (ctx.behaviour === 'set') {
    const n = () => `${ctx.params.add(rule.value)}::bigint`;
    switch (rule.op) {
      case 'atLeast':
        return `(${usersWhere(event, window, rule.value === 1 ? null : `count(*) >= ${n()}`, ctx)})`;
      case 'atMost':
        return `(NOT ${usersWhere(event, window, `count(*) > ${n()}`, ctx)})`;
      case 'exactly':
        if (rule.value === 0) return `(NOT ${usersWhere(event, window, null, ctx)})`;
        return `(${usersWhere(event, window, `count(*) = ${n()}`, ctx)})`;
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
  const pick = which === 'firstTime' ? 'min' : 'max';
  const comparison = op === 'before' ? '<' : '>';
  const bound = instant(resolveBound(date, ctx.now), ctx.params);
  if (ctx.behaviour === 'set')
    return `(${usersWhere(event, undefined, `${pick}(e."time") ${comparison} ${bound}`, ctx)})`;
  return `coalesce((SELECT ${pick}(e."time") ${matchingEvents(event, undefined, ctx)}) ${comparison} ${bound}, false)`;
}
