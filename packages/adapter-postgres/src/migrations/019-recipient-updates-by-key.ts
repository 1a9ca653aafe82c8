/**
 * `update_recipients`: a job's recipient transitions and their decisions, one index probe per
 * recipient whatever the statistics say (`postgresStorage.updateRecipients`).
 *
 * As a prepared `UPDATE … FROM jsonb_to_recordset(…)`, the statement kept the plan `pg` made for it
 * at its sixth call. On a fresh install (the tables analyzed empty) or while `recipients` was under
 * some 40,000 rows, that plan was a hash join over a sequential scan of `recipients`: every call,
 * a retried message's one-row settle included, read the whole table (5 ms a call at 20,000 rows,
 * bench/delivery `--unavailable`), until autovacuum's next ANALYZE replanned it. Here the same
 * statement is planned with hash and merge joins and sequential scans off, so the join can only
 * probe the primary key per row; plpgsql keeps that plan for the session.
 *
 * Same semantics as the statement it replaces: the transitions and their decisions in one statement
 * (they commit together or not at all); a row with a decision moves only while it is pending, and
 * its decision goes in only for a row the UPDATE moved. Of two jobs settling the same row, the
 * second's UPDATE waits for the first's row lock, then (READ COMMITTED) re-checks `state =
 * 'pending'` on the committed row, finds it moved and neither updates nor appends.
 */
export default (s: string): string[] => [
  `CREATE FUNCTION ${s}.update_recipients(updates jsonb, updated timestamptz) RETURNS void
    LANGUAGE plpgsql
    SET enable_hashjoin = off
    SET enable_mergejoin = off
    SET enable_seqscan = off
    AS $fn$
    BEGIN
      WITH u AS (
        SELECT * FROM ROWS FROM (jsonb_to_recordset(updates) AS (campaign_id text, occurrence text,
          user_id text, state text, reason text, decision jsonb))
          WITH ORDINALITY AS u(campaign_id, occurrence, user_id, state, reason, decision, ord)),
      moved AS (
        UPDATE ${s}.recipients t SET state = u.state, reason = u.reason, updated_at = updated
        FROM u
        WHERE t.campaign_id = u.campaign_id AND t.occurrence = u.occurrence AND t.user_id = u.user_id
          AND (u.decision IS NULL OR t.state = 'pending')
        RETURNING u.ord, u.decision)
      INSERT INTO ${s}.decisions (campaign_id, occurrence, user_id, at, outcome, reason, facts)
      SELECT d.campaign_id, d.occurrence, d.user_id, d.at, d.outcome, d.reason, d.facts
      FROM moved CROSS JOIN LATERAL jsonb_to_record(moved.decision) AS d(campaign_id text, occurrence text,
        user_id text, at timestamptz, outcome text, reason text, facts jsonb)
      WHERE moved.decision IS NOT NULL
      ORDER BY moved.ord;
    END
    $fn$`,
];
