/**
 * Shared counters for per-user caps and campaign throttles (`postgresCounters`,
 * the `Counters` port): one row per counter, and `consume_counters`, the
 * atomic all-or-nothing check-and-count.
 *
 * A counter is live while expires_at > now, with `now` always the caller's
 * (the engine's clock); a row whose window has ended reads as 0 and the next
 * consume of its key starts a new window in place. Keys that are never
 * consumed again (yesterday's day caps) are deleted by the adapter's bounded
 * sweep over `counters_expires_at_idx`.
 *
 * Why a function and not one statement: the decision for one key depends on
 * every other key of the call, and a single statement reads all of them in
 * the snapshot taken before it waited for any lock; under READ COMMITTED only
 * the row being updated is re-read after a wait, so two callers could both
 * pass a limit of 1. A function's statements each take a new snapshot.
 *
 * Correctness under READ COMMITTED: the first statement locks every row the
 * call names, in key order (COLLATE "C"), in one INSERT … ON CONFLICT DO
 * UPDATE … WHERE false: an existing row is locked without being written (the
 * WHERE false update still locks), a missing one is inserted as already
 * expired (value 0, -infinity, which reads exactly as a missing counter) and
 * is locked by being ours and uncommitted. A caller that finds a row locked
 * waits until its holder commits. The second statement therefore reads, in a
 * new snapshot, values no one else can change until this call commits, and
 * writes them in the same statement. Everyone takes locks in the same key
 * order, and the only other writers (release, the sweep) lock in that order
 * or skip locked rows, so two calls naming the same keys in opposite orders
 * queue rather than deadlock.
 */
export default (s: string): string[] => [
  `CREATE TABLE ${s}.counters (
    key         text COLLATE "C" PRIMARY KEY,
    value       integer NOT NULL CHECK (value >= 0),
    expires_at  timestamptz NOT NULL
  )`,
  // The sweep deletes expired rows oldest first, a bounded batch at a time. Increments change only
  // `value`, so they stay HOT updates despite this index; only a new window rewrites the entry.
  `CREATE INDEX counters_expires_at_idx ON ${s}.counters (expires_at)`,

  // specs: [{ key, limit, expires_at }] in the caller's order. Returns blocked = the 1-based position of
  // the first spec that would go over its limit (nothing changed), or null with counts = each spec's
  // value after the increment. A key listed twice counts twice; a new window takes the expiry of the
  // key's first spec.
  `CREATE FUNCTION ${s}.consume_counters(specs jsonb, caller_now timestamptz, OUT blocked integer, OUT counts integer[])
    LANGUAGE plpgsql AS $fn$
    BEGIN
      INSERT INTO ${s}.counters AS c (key, value, expires_at)
      SELECT DISTINCT x.key COLLATE "C", 0, '-infinity'::timestamptz
      FROM jsonb_to_recordset(specs) AS x(key text)
      ORDER BY 1
      ON CONFLICT (key) DO UPDATE SET value = c.value WHERE false;

      -- A new statement: it sees every commit made before the locks above were granted.
      WITH spec AS (
        SELECT x.key COLLATE "C" AS key, x."limit", x.expires_at, x.ord
        FROM ROWS FROM (jsonb_to_recordset(specs) AS (key text, "limit" integer, expires_at timestamptz))
          WITH ORDINALITY AS x(key, "limit", expires_at, ord)
      ), current AS (
        SELECT c.key, CASE WHEN c.expires_at > caller_now THEN c.value ELSE 0 END AS value,
               c.expires_at > caller_now AS live
        FROM ${s}.counters c WHERE c.key IN (SELECT key FROM spec)
      ), planned AS (
        SELECT spec.ord, spec."limit",
               (current.value + count(*) OVER (PARTITION BY spec.key ORDER BY spec.ord))::integer AS value
        FROM spec JOIN current ON current.key = spec.key
      ), verdict AS (
        SELECT min(ord) FILTER (WHERE value > "limit")::integer AS blocked,
               array_agg(value ORDER BY ord) AS counts
        FROM planned
      ), written AS (
        UPDATE ${s}.counters c
        SET value = current.value + uses.n,
            expires_at = CASE WHEN current.live THEN c.expires_at ELSE uses.first_expiry END
        FROM current,
             (SELECT key, count(*)::integer AS n, (array_agg(expires_at ORDER BY ord))[1] AS first_expiry
              FROM spec GROUP BY key) AS uses,
             verdict
        WHERE c.key = current.key AND uses.key = current.key AND verdict.blocked IS NULL
      )
      SELECT verdict.blocked, CASE WHEN verdict.blocked IS NULL THEN verdict.counts END
      INTO blocked, counts FROM verdict;
    END
  $fn$`,
];
