import { assertNever, type SegmentDefinition } from '@herald/core';
import { compileCondition } from './conditions.js';
import type { CompileContext } from './context.js';
import { Params } from './params.js';
import { probeBehaviour } from './probe-behaviour.js';
import { compileReachable } from './reachability.js';
import { setBehaviour } from './set-behaviour.js';

/**
 * A segment definition as a SQL predicate over one profiles row, with the
 * reference evaluator's semantics (packages/core/src/segments/evaluate.ts).
 * One case per definition type, each delegating to one function: property
 * conditions (conditions.ts), past behaviour (the context's BehaviourReads:
 * probe-behaviour.ts or set-behaviour.ts), reachability (reachability.ts).
 * Every case yields true or false, never NULL.
 */
export function compileSegment(def: SegmentDefinition, ctx: CompileContext): string {
  switch (def.type) {
    case 'all':
      return 'true';
    case 'property':
      return compileCondition(def.condition, `${ctx.profile}.properties`, ctx.params, ctx.schema, ctx.now);
    case 'did': {
      const count = def.count ?? { op: 'atLeast', value: 1 };
      // Every user did it at least zero times; adding no parameters keeps the numbering dense.
      if (count.op === 'atLeast' && count.value === 0) return 'true';
      return ctx.behaviour.did(def.event, count, def.window, ctx);
    }
    case 'didNot':
      return ctx.behaviour.didNot(def.event, def.window, ctx);
    case 'firstTime':
    case 'lastTime':
      return ctx.behaviour.firstOrLast(def, ctx);
    case 'reachable':
      return compileReachable(def.target, ctx.profile, ctx.now, ctx.params);
    case 'and':
      return `(${def.of.map((child) => compileSegment(child, ctx)).join(' AND ')})`;
    case 'or': {
      const orContext = { ...ctx, conjunct: false };
      const { merged, rest } = ctx.behaviour.mergeOr(def.of, ctx);
      return `(${[...merged, ...rest.map((child) => compileSegment(child, orContext))].join(' OR ')})`;
    }
    case 'not':
      return `(NOT ${compileSegment(def.of, { ...ctx, conjunct: false })})`;
    default:
      return assertNever(def, 'segment type');
  }
}

export interface PredicateOptions {
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
}

/** A compiled segment: the predicate, its parameters, and what else the query around it needs. */
export interface CompiledPredicate {
  where: string;
  params: Params;
  /** With `behaviour: 'set'`, the joins to place after `FROM profiles` (empty otherwise). */
  joins: string;
  /**
   * With `behaviour: 'set'`, whether the predicate reads a set of users from
   * the event tables (a behaviour condition): the counting queries keep
   * such predicates off parallel plans (see countingQuery in audience.ts).
   */
  readsSets: boolean;
}

/** Compiles `def` with fresh parameters. */
export function segmentPredicate(
  def: SegmentDefinition,
  { behaviour = 'probe', ...options }: PredicateOptions,
): CompiledPredicate {
  const params = new Params();
  if (behaviour === 'probe') {
    const where = compileSegment(def, { ...options, params, behaviour: probeBehaviour, conjunct: true });
    return { where, params, joins: '', readsSets: false };
  }
  const reads = setBehaviour();
  const where = compileSegment(def, { ...options, params, behaviour: reads, conjunct: true });
  return { where, params, joins: reads.joins.join('\n'), readsSets: reads.sets > 0 };
}
