/**
 * Cheaper writes on the delivery path (issue 19), where `pg_stat_statements` of the delivery
 * benchmark put the costliest statements: the recipients UPDATE after sending, with its tally
 * trigger, and the deliveries INSERT.
 *
 * - `recipients_updated()` (migration 010) kept, in the same transaction and with the same
 *   results: its deltas now go to the upsert straight from the transition tables, instead of
 *   being aggregated into one JSON array and parsed back (`apply_recipient_deltas`); groups whose
 *   count and settledAt the statement leaves alone (net zero, nothing settled) are not upserted,
 *   so they take no row lock; and the search for settled rows that left their group (a join of the
 *   old and new rows, then a recount from `recipients_stats_idx`) runs only when the statement
 *   changed a settled row. A delivery job only moves rows out of `pending`, so it skips that part
 *   entirely. The concurrency argument of migration 010 holds unchanged: one upsert in key order,
 *   then the recount in a new statement after it.
 * - `deliveries_stats_idx` (migration 009) is dropped: since migration 010 nothing reads
 *   deliveries by (campaign, occurrence, status) — the tallies answer stats, and stats by browser
 *   use `deliveries_browser_idx` — while every delivery row written paid for it.
 */
export default (s: string): string[] => [
  `CREATE OR REPLACE FUNCTION ${s}.recipients_updated() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      INSERT INTO ${s}.recipient_tallies AS t (campaign_id, occurrence, state, reason, n, settled_at)
      SELECT c.campaign_id, c.occurrence, c.state, c.reason, sum(c.delta),
        max(c.updated_at) FILTER (WHERE c.delta > 0 AND c.state <> 'pending')
      FROM (SELECT campaign_id, occurrence, state, coalesce(reason, '') AS reason, -1 AS delta,
              NULL::timestamptz AS updated_at
            FROM before
            UNION ALL
            SELECT campaign_id, occurrence, state, coalesce(reason, ''), 1, updated_at FROM after) c
      GROUP BY 1, 2, 3, 4
      -- Upserting such a group would add 0 and keep settled_at (greatest ignores NULL): same result, no lock.
      HAVING sum(c.delta) <> 0 OR max(c.updated_at) FILTER (WHERE c.delta > 0 AND c.state <> 'pending') IS NOT NULL
      ORDER BY 1, 2, 3, 4
      ON CONFLICT (campaign_id, occurrence, state, reason)
      DO UPDATE SET n = t.n + excluded.n, settled_at = greatest(t.settled_at, excluded.settled_at);
      -- Pending groups keep no settledAt, so only settled rows can take a group's latest instant away.
      IF EXISTS (SELECT 1 FROM before WHERE state <> 'pending') THEN
        -- Rows that left their group or moved back in time: the group's latest instant may have gone with them.
        PERFORM ${s}.recompute_settled(coalesce(jsonb_agg(l), '[]'))
        FROM (SELECT b.campaign_id, b.occurrence, b.state, coalesce(b.reason, '') AS reason, b.updated_at
              FROM before b LEFT JOIN after a
                ON a.campaign_id = b.campaign_id AND a.occurrence = b.occurrence AND a.user_id = b.user_id
              WHERE b.state <> 'pending'
                AND (a.user_id IS NULL OR a.state <> b.state OR a.reason IS DISTINCT FROM b.reason
                  OR a.updated_at < b.updated_at)) l;
      END IF;
      RETURN NULL;
    END
  $fn$`,
  `DROP INDEX ${s}.deliveries_stats_idx`,
];
