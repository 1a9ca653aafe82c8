import type { EventFilter, EventWindow } from '@herald/core';
import { compileCondition } from './conditions.js';
import type { CompileContext } from './context.js';
import { instant, windowRange } from './time.js';

/**
 * FROM/WHERE selecting the events that match `filter`, inside `window` when
 * given: the profile's own (`correlated`), or everyone's.
 */
export function matchingEvents(
  filter: EventFilter,
  window: EventWindow | undefined,
  ctx: CompileContext,
  correlated: boolean,
): string {
  return eventsWhere(`e.name = ${ctx.params.add(filter.name)}::text`, filter.where, window, ctx, correlated);
}

/** The same for events named any of `names`, with no property filter: "did any of X, Y, Z". */
export function eventsNamedAny(
  names: readonly string[],
  window: EventWindow | undefined,
  ctx: CompileContext,
  correlated: boolean,
): string {
  return eventsWhere(`e.name = ANY(${ctx.params.add(names)}::text[])`, [], window, ctx, correlated);
}

function eventsWhere(
  named: string,
  conditions: EventFilter['where'],
  window: EventWindow | undefined,
  ctx: CompileContext,
  correlated: boolean,
): string {
  const where = [named];
  if (correlated) {
    where.unshift(`e.user_id = ${ctx.profile}.user_id`);
    if (ctx.after !== undefined) where.splice(1, 0, `e.user_id > ${ctx.after}`);
  }
  if (window !== undefined) {
    // Rule 10: inLast is closed [now - d, now]; between is half-open [from, to).
    const range = windowRange(window, ctx.now);
    where.push(`e."time" >= ${instant(range.from, ctx.params)}`);
    where.push(`e."time" ${range.closed ? '<=' : '<'} ${instant(range.to, ctx.params)}`);
  }
  for (const condition of conditions) {
    where.push(compileCondition(condition, 'e.properties', ctx.params, ctx.schema, ctx.now));
  }
  return `FROM ${ctx.schema}.events e WHERE ${where.join(' AND ')}`;
}
