import { assertNever, type SegmentDefinition } from '@herald/core';
import { compileCondition } from './conditions.js';
import { Params } from './params.js';

export interface CompileContext {
  params: Params;
  /** The quoted schema holding Herald's tables and SQL functions. */
  schema: string;
  /** The profiles row alias the predicate reads. */
  profile: string;
  /** The evaluation instant, bound as a parameter (relative dates), never SQL now(). */
  now: Date;
}

/**
 * A segment definition as a SQL predicate over one profiles row. One case
 * per definition type: behaviour and reachability conditions (issue 4) each
 * add a case and a function beside compileCondition.
 */
export function compileSegment(def: SegmentDefinition, ctx: CompileContext): string {
  switch (def.type) {
    case 'all':
      return 'true';
    case 'property':
      return compileCondition(def.condition, `${ctx.profile}.properties`, ctx.params, ctx.schema, ctx.now);
    case 'and':
      return `(${def.of.map((child) => compileSegment(child, ctx)).join(' AND ')})`;
    case 'or':
      return `(${def.of.map((child) => compileSegment(child, ctx)).join(' OR ')})`;
    case 'not':
      return `(NOT ${compileSegment(def.of, ctx)})`;
    default:
      return assertNever(def, 'segment type');
  }
}

/** Compiles `def` with fresh parameters; returns the predicate and its values. */
export function segmentPredicate(
  def: SegmentDefinition,
  options: Omit<CompileContext, 'params'>,
): { where: string; params: Params } {
  const params = new Params();
  return { where: compileSegment(def, { ...options, params }), params };
}
