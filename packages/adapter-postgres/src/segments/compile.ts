import { assertNever, type SegmentDefinition, type UserId } from '@herald/core';
import { compileCondition } from './conditions.js';
import type { BehaviourReads, CompileContext } from './context.js';
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
  /**
   * An audience page's keyset: members after this user id (null or absent: from the start). The
   * profile's own events are then read from users after it too. The bound is implied by
   * `e.user_id = p.user_id`, but Postgres does not carry an inequality across an equality, and a
   * merge join it chose for a page's semi- or anti-join read the events index from the first user
   * on: 986 ms a page in the middle of 1,000,000 profiles, where bounded it reads that page's users.
   */
  after?: UserId | null;
}

/** A compiled segment: the predicate, its parameters, and what else the query around it needs. */
export interface CompiledPredicate {
  where: string;
  params: Params;
  /** With `behaviour: 'set'`, the joins to place after `FROM profiles` (empty otherwise). */
  joins: string;
  /** With `after`, the parameter holding it, for the query's own `p.user_id > …`. */
  after: string | undefined;
  /**
   * Whether the predicate reads the event tables (a behaviour condition). Counting queries keep
   * such predicates off parallel plans (see countingQuery in audience.ts); audience pages run them
   * with sorts and hash joins off (see pageQuery there).
   */
  readsEvents: boolean;
  /**
   * Whether the predicate tests the properties of every profile: a property condition under an `or`
   * or a `not`, which no index narrows to its matches. Counts then let Postgres hash their user sets
   * (see countingQuery in audience.ts).
   */
  testsEveryProfile: boolean;
}

/** Compiles `def` with fresh parameters. */
export function segmentPredicate(
  def: SegmentDefinition,
  { behaviour = 'probe', after: afterUser, ...options }: PredicateOptions,
): CompiledPredicate {
  const params = new Params();
  const after = afterUser === undefined || afterUser === null ? undefined : params.add(afterUser);
  const testsEveryProfile = propertyOutsideConjuncts(def);
  if (behaviour === 'probe') {
    const reads = countingReads(probeBehaviour);
    const where = compileSegment(def, { ...options, params, behaviour: reads, conjunct: true, after });
    return {
      where,
      params,
      joins: '',
      after,
      readsEvents: reads.count() > 0,
      testsEveryProfile,
    };
  }
  const reads = setBehaviour();
  const where = compileSegment(def, { ...options, params, behaviour: reads, conjunct: true, after });
  return {
    where,
    params,
    joins: reads.joins.join('\n'),
    after,
    // Every behaviour condition the set compiler reads is a set (inSet in set-behaviour.ts).
    readsEvents: reads.sets > 0,
    testsEveryProfile,
  };
}

/** Whether a property condition of `def` sits under an `or` or a `not` (`conjunct`: `def` is reached through `and` only). */
function propertyOutsideConjuncts(def: SegmentDefinition, conjunct = true): boolean {
  switch (def.type) {
    case 'property':
      return !conjunct;
    case 'and':
      return def.of.some((child) => propertyOutsideConjuncts(child, conjunct));
    case 'or':
      return def.of.some((child) => propertyOutsideConjuncts(child, false));
    case 'not':
      return propertyOutsideConjuncts(def.of, false);
    default:
      return false;
  }
}

/** `reads`, counting the behaviour conditions compiled through it (merged ones included). */
function countingReads(reads: BehaviourReads): BehaviourReads & { count(): number } {
  let compiled = 0;
  const counted = <T>(sql: T): T => {
    compiled += 1;
    return sql;
  };
  return {
    did: (event, count, window, ctx) => counted(reads.did(event, count, window, ctx)),
    didNot: (event, window, ctx) => counted(reads.didNot(event, window, ctx)),
    firstOrLast: (def, ctx) => counted(reads.firstOrLast(def, ctx)),
    mergeOr(children, ctx) {
      const result = reads.mergeOr(children, ctx);
      compiled += result.merged.length;
      return result;
    },
    count: () => compiled,
  };
}
