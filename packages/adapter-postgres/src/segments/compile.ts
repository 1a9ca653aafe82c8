import { assertNever, type SegmentDefinition } from '@herald/core';
import { compileDid, compileDidAny, compileDidNot, compileFirstOrLast } from './behaviour.js';
import { compileCondition } from './conditions.js';
import { groupDidsByWindow } from './latest-events.js';
import { Params } from './params.js';
import { compileReachable } from './reachability.js';

export interface CompileContext {
  params: Params;
  /** The quoted schema holding Herald's tables and SQL functions. */
  schema: string;
  /** The profiles row alias the predicate reads. */
  profile: string;
  /** The evaluation instant, bound as a parameter (relative dates), never SQL now(). */
  now: Date;
  /**
   * How behaviour conditions read events. `probe` (default): a correlated
   * index probe per profile, cheapest when a query stops after a page.
   * `set`: one pass over the matching events grouped by user, then a hash
   * lookup per profile, cheapest when every profile is visited (counts, reach).
   */
  behaviour?: 'probe' | 'set';
  /** With `behaviour: 'set'`: the LEFT JOINs the predicate reads, collected while compiling (see behaviour.ts). */
  joins?: string[];
  /**
   * True while compiling a condition reached from the root through `and`
   * only: the whole segment requires it, so Postgres can turn an `IN
   * (subquery)` there into a semi-join (see behaviour.ts).
   */
  conjunct?: boolean;
}

/**
 * A segment definition as a SQL predicate over one profiles row, with the
 * reference evaluator's semantics (packages/core/src/segments/evaluate.ts).
 * One case per definition type, each delegating to one function: property
 * conditions (conditions.ts), past behaviour (behaviour.ts), reachability
 * (reachability.ts). Every case yields true or false, never NULL.
 */
export function compileSegment(def: SegmentDefinition, ctx: CompileContext): string {
  switch (def.type) {
    case 'all':
      return 'true';
    case 'property':
      return compileCondition(def.condition, `${ctx.profile}.properties`, ctx.params, ctx.schema, ctx.now);
    case 'did':
      return compileDid(def.event, def.count, def.window, ctx);
    case 'didNot':
      return compileDidNot(def.event, def.window, ctx);
    case 'firstTime':
    case 'lastTime':
      return compileFirstOrLast(def.type, def.event, def.op, def.date, ctx);
    case 'reachable':
      return compileReachable(def.target, ctx.profile, ctx.now, ctx.params);
    case 'and':
      return `(${def.of.map((child) => compileSegment(child, ctx)).join(' AND ')})`;
    case 'or':
      return compileOr(def.of, { ...ctx, conjunct: false });
    case 'not':
      return `(NOT ${compileSegment(def.of, { ...ctx, conjunct: false })})`;
    default:
      return assertNever(def, 'segment type');
  }
}

/** An `or`; in `set` mode, "did X at least once" children sharing a window read one set for all their names. */
function compileOr(children: readonly SegmentDefinition[], ctx: CompileContext): string {
  if (ctx.behaviour !== 'set') return `(${children.map((child) => compileSegment(child, ctx)).join(' OR ')})`;
  const { groups, rest } = groupDidsByWindow(children);
  const parts = [
    ...groups.map((group) => compileDidAny(group.names, group.window, ctx)),
    ...rest.map((child) => compileSegment(child, ctx)),
  ];
  return `(${parts.join(' OR ')})`;
}

/**
 * Compiles `def` with fresh parameters; returns the predicate, its values,
 * and (with `behaviour: 'set'`) the joins to place after `FROM profiles`.
 */
export function segmentPredicate(
  def: SegmentDefinition,
  options: Omit<CompileContext, 'params' | 'joins'>,
): { where: string; params: Params; joins: string } {
  const params = new Params();
  const joins: string[] = [];
  const where = compileSegment(def, { ...options, params, joins, conjunct: true });
  return { where, params, joins: joins.join('\n') };
}
