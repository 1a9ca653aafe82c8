import type { EventCount, EventFilter, EventWindow, SegmentDefinition } from '@herald/core';
import type { Params } from './params.js';

/** What every part of the compiler reads while it turns one segment into SQL. */
export interface CompileContext {
  params: Params;
  /** The quoted schema holding Herald's tables and SQL functions. */
  schema: string;
  /** The profiles row alias the predicate reads. */
  profile: string;
  /** The evaluation instant, bound as a parameter (relative dates), never SQL now(). */
  now: Date;
  /** How behaviour conditions read events: chosen once per query (see compile.ts). */
  behaviour: BehaviourReads;
  /**
   * True while compiling a condition reached from the root through `and`
   * only: the whole segment requires it, so Postgres can turn an `IN
   * (subquery)` there into a semi-join (see set-behaviour.ts).
   */
  conjunct: boolean;
  /**
   * An audience page's keyset bound (the parameter holding `after`): the profile's own events are
   * read from users after it too (see `PredicateOptions.after`).
   */
  after?: string | undefined;
}

export type FirstOrLastDefinition = Extract<SegmentDefinition, { type: 'firstTime' | 'lastTime' }>;

/**
 * Past-behaviour conditions (rules 9-12 of core's evaluator) as SQL. Two
 * implementations with the same meaning, for two kinds of query:
 * probe-behaviour.ts for audience pages, which stop after a page, and
 * set-behaviour.ts for counts and reach, which visit every profile.
 */
export interface BehaviourReads {
  /** Rule 11: the number of matching events compared with `count` (never "at least 0": the compiler answers that). */
  did(event: EventFilter, count: EventCount, window: EventWindow | undefined, ctx: CompileContext): string;
  /** Rule 11: no matching event in the window. */
  didNot(event: EventFilter, window: EventWindow | undefined, ctx: CompileContext): string;
  /** Rule 12: the earliest or latest matching event, at any time, strictly before or after the bound; false with none. */
  firstOrLast(def: FirstOrLastDefinition, ctx: CompileContext): string;
  /**
   * The children of an `or` this implementation reads together, compiled
   * (`merged`), and the others, for the compiler to compile one by one
   * (`rest`); merged parts come first in the `or`. `ctx` is the `or`'s
   * own: `ctx.conjunct` says whether the segment requires the `or` itself.
   */
  mergeOr(
    children: readonly SegmentDefinition[],
    ctx: CompileContext,
  ): { merged: string[]; rest: SegmentDefinition[] };
}
