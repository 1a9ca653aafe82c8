import type { AudiencePage, ReachEstimate, SegmentDefinition, UserId } from '@herald/core';
import { segmentPredicate } from '../segments/compile.js';
import { liveReach } from '../segments/reachability.js';
import type { SqlClient } from '../sql/client.js';

/**
 * Audiences are evaluated inside Postgres: the segment compiles to a
 * parameterised predicate over profiles, pages come by keyset on the
 * primary key (never OFFSET), so each page costs the same however deep
 * into the audience it is.
 */
export function audience(sql: SqlClient, schema: string) {
  return {
    async selectAudience(segment: SegmentDefinition, page: AudiencePage): Promise<UserId[]> {
      if (page.limit <= 0) return [];
      const { where, params, after, readsEvents } = segmentPredicate(segment, {
        schema,
        profile: 'p',
        now: page.now,
        after: page.after,
      });
      const keyset = after === undefined ? '' : `p.user_id > ${after} AND `;
      const text = `SELECT p.user_id FROM ${schema}.profiles p WHERE ${keyset}${where} ORDER BY p.user_id LIMIT ${params.add(page.limit)}`;
      const rows = readsEvents
        ? await pageQuery(sql, text, params.values)
        : (await sql.query<{ user_id: UserId }>(text, params.values)).rows;
      return rows.map((row) => row.user_id);
    },

    async countAudience(segment: SegmentDefinition, now: Date): Promise<number> {
      const { where, params, joins, readsEvents, testsEveryProfile } = segmentPredicate(segment, {
        schema,
        profile: 'p',
        now,
        behaviour: 'set',
      });
      const rows = await countingQuery(sql, {
        text: `SELECT count(*)::int AS n FROM ${schema}.profiles p ${joins} WHERE ${where}`,
        values: params.values,
        parallel: !readsEvents,
        hashJoins: testsEveryProfile,
      });
      return (rows[0] as { n: number } | undefined)?.n ?? 0;
    },

    /**
     * Qualified users and, among them, those with a live subscription, by target: one pass over the
     * qualified profiles. Reachability is read from the profile row (kept exact by migration 005's
     * triggers and compared with `now` here), so no join to subscriptions is needed.
     */
    async estimateReach(segment: SegmentDefinition, now: Date): Promise<ReachEstimate> {
      const { where, params, joins, readsEvents, testsEveryProfile } = segmentPredicate(segment, {
        schema,
        profile: 'p',
        now,
        behaviour: 'set',
      });
      const webpush = liveReach('webpush', 'p', now, params);
      const safari = liveReach('safari', 'p', now, params);
      const rows = await countingQuery(sql, {
        text: `SELECT count(*)::int AS qualified,
           count(*) FILTER (WHERE ${webpush} OR ${safari})::int AS total,
           count(*) FILTER (WHERE ${webpush})::int AS webpush,
           count(*) FILTER (WHERE ${safari})::int AS safari
         FROM ${schema}.profiles p ${joins}
         WHERE ${where}`,
        values: params.values,
        parallel: !readsEvents,
        hashJoins: testsEveryProfile,
      });
      const row = (rows[0] as
        | { qualified: number; total: number; webpush: number; safari: number }
        | undefined) ?? {
        qualified: 0,
        total: 0,
        webpush: 0,
        safari: 0,
      };
      return {
        qualified: row.qualified,
        reachable: { total: row.total, webpush: row.webpush, safari: row.safari },
      };
    },
  };
}

/**
 * Counts over the whole audience run with three planner settings changed for
 * their own transaction only (`set_config(..., true)` is SET LOCAL; the
 * server's configuration is untouched):
 * - JIT off: these plans pass Postgres' default JIT cost thresholds at a few
 *   hundred thousand profiles, and compiling took 25-340 ms of queries that
 *   run in a few hundred (EXPLAIN ANALYZE at 1,000,000 profiles).
 * - no parallel workers when the predicate reads a set of users from the
 *   event tables (`parallel: false`): that set sits on the inner side of a
 *   join, and every worker builds the whole set again (`loops=3` on its
 *   HashAggregate or Sort), so two workers triple the dominant cost to split
 *   the cheap profiles scan; serial plans measured 1.5-2x faster for every
 *   behaviour segment of the benchmark. A predicate on the profile row alone
 *   (properties, reachability) has no such set, and the server's own
 *   parallel settings apply: the profiles heap is then split between the
 *   workers as `count(*)` splits its index (a parallel bitmap heap scan for
 *   `plan = pro` at 1,000,000 profiles; see the adapter's README, "Benchmark").
 * - no hash joins: profiles come in user order from profiles_reach_idx and
 *   latest_events' sets in user order from its primary key, so merge joins
 *   read both once, in order, in constant memory. The planner's costs
 *   still preferred hashing a few hundred thousand user ids and probing
 *   the table with every profile, which measured 2.5-4x slower at
 *   1,000,000 profiles (memory-bound: a random access per profile).
 *   Except when the predicate tests every profile's properties (a property
 *   condition under an `or` or a `not`, `hashJoins`): the whole heap is
 *   read then, cheapest in one sequential scan, and a merge needs it in
 *   user order, an index scan visiting the heap once per profile. Hashing
 *   the sets measured 2-3x faster there ("did `charged` in 30 days or
 *   country FR" 0.61 s against 1.12; "not FR and `charged`" 0.46 against
 *   1.18). Where the property is a conjunct, hashing changed nothing
 *   (0.29-0.44 s either way), and those counts keep merging.
 */
function countingQuery(
  sql: SqlClient,
  query: { text: string; values: readonly unknown[]; parallel: boolean; hashJoins: boolean },
): Promise<unknown[]> {
  const settings: Array<[string, string]> = [['jit', 'off']];
  if (!query.parallel) settings.push(['max_parallel_workers_per_gather', '0']);
  if (!query.hashJoins) settings.push(['enable_hashjoin', 'off']);
  return queryWithSettings(sql, settings, query.text, query.values);
}

/**
 * An audience page that reads the event tables, with three planner settings for its own transaction
 * (`set_config(..., true)`): no sorts, no hash joins, no parallel workers. A page reads profiles in
 * key order and stops after `limit` members, so each event condition is best probed per profile or
 * merged from an index already in user order; a sort or a hash reads its whole input before the
 * first row, and parallel workers are processes started per query. Left to itself the planner
 * chose, by position in the audience, to sort a condition's window for every page (240 ms a page of
 * "FR and charged" in the middle of 1,000,000 profiles, against 73 with these settings) or to hash
 * it in parallel (bench/README.md, "Segments").
 */
function pageQuery(sql: SqlClient, text: string, values: readonly unknown[]) {
  return queryWithSettings<{ user_id: UserId }>(
    sql,
    [
      ['enable_sort', 'off'],
      ['enable_hashjoin', 'off'],
      ['max_parallel_workers_per_gather', '0'],
    ],
    text,
    values,
  );
}

/** `text`'s rows, in a transaction of its own after `settings` for that transaction only (`set_config(..., true)`). */
function queryWithSettings<Row>(
  sql: SqlClient,
  settings: ReadonlyArray<readonly [name: string, value: string]>,
  text: string,
  values: readonly unknown[],
): Promise<Row[]> {
  const configs = settings.map(([name, value]) => `set_config('${name}', '${value}', true)`);
  return sql.transaction(async (tx) => {
    await tx.query(`SELECT ${configs.join(', ')}`);
    const { rows } = await tx.query<Row>(text, values);
    return rows;
  });
}
