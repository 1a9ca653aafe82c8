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
 * new snapshot, values no one else can change until this call commits; the
 * function decides on them and the last statement writes them, or nothing.
 * Everyone takes locks in the same key order, and the only other writers
 * (release, the sweep) lock in that order or skip locked rows, so two calls
 * naming the same keys in opposite orders queue rather than deadlock.
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

  // The specs as three arrays in the caller's order (keys[i], limits[i], expiries[i]). Returns blocked = the
  // 1-based position of the first spec that would go over its limit (nothing changed), or null with
  // counts = each spec's value after the increment. A key listed twice counts twice; a new window takes
  // the expiry of the key's first spec. Rows are only ever reached through the primary key (= ANY(named)).
  `CREATE FUNCTION ${s}.consume_counters(keys text[], limits integer[], expiries timestamptz[], caller_now timestamptz,
                                          OUT blocked integer, OUT counts integer[])
    LANGUAGE plpgsql
    -- The plans are the same for every call (a few keys, each found by the primary key); planning them
    -- afresh on each call, as the plan cache otherwise may keep doing, cost several times the call.
    SET plan_cache_mode = force_generic_plan
    AS $fn$
    DECLARE
      named text[] := ARRAY(SELECT DISTINCT k COLLATE "C" FROM unnest(keys) AS k ORDER BY 1);
      -- Per named key, in key order: its key, its value so far, and its window end (null: starts one).
      found text[];
      running integer[];
      windows timestamptz[];
      slot integer;
    BEGIN
      INSERT INTO ${s}.counters AS c (key, value, expires_at)
      SELECT k, 0, '-infinity'::timestamptz FROM unnest(named) WITH ORDINALITY AS n(k, ord) ORDER BY ord
      ON CONFLICT (key) DO UPDATE SET value = c.value WHERE false;

      -- A new statement: it sees every commit made before the locks above were granted.
      SELECT array_agg(c.key ORDER BY c.key),
             array_agg(CASE WHEN c.expires_at > caller_now THEN c.value ELSE 0 END ORDER BY c.key),
             array_agg(CASE WHEN c.expires_at > caller_now THEN c.expires_at END ORDER BY c.key)
      INTO found, running, windows
      FROM ${s}.counters c WHERE c.key = ANY(named);

      counts := '{}';
      FOR i IN 1 .. cardinality(keys) LOOP
        slot := array_position(found, keys[i] COLLATE "C");
        running[slot] := running[slot] + 1;
        IF running[slot] > limits[i] THEN
          blocked := i;
          counts := NULL;
          RETURN;
        END IF;
        windows[slot] := coalesce(windows[slot], expiries[i]);
        counts := counts || running[slot];
      END LOOP;

      UPDATE ${s}.counters c SET value = u.value, expires_at = u.expires_at
      FROM unnest(found, running, windows) AS u(key, value, expires_at)
      WHERE c.key = ANY(found) AND c.key = u.key;
    END
  $fn$`,
];
