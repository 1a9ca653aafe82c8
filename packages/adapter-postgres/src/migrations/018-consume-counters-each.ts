/**
 * `consume_counters_each`: the counter steps of a whole delivery batch in one call
 * (`Counters.consumeEach`, `postgresCounters`). Under global caps a batch of 250 users made 250
 * sequential `consume_counters` calls, one round trip and three statements each: on the delivery
 * benchmark with `perDay` and `perWeek` caps that was about 1.2 ms of Postgres CPU a message and a
 * third of the uncapped throughput (bench/README.md, "Under caps").
 *
 * The same answers as calling `consume_counters` for each request in turn: each request is
 * all-or-nothing (the first of its specs over its limit blocks it, and it changes nothing), and a
 * blocked request does not stop the next ones. Locking is migration 007's, once for every key the
 * call names: one INSERT … ON CONFLICT DO UPDATE … WHERE false locks them in key order (COLLATE
 * "C"), the next statement reads them in a new snapshot, the loop decides every request on those
 * values, and one UPDATE writes them. So the batch is one step to every other caller, and two
 * batches over shared keys (a campaign's throttle, a user in two campaigns) queue rather than
 * deadlock, as two single calls do.
 *
 * Arguments: the specs of all requests as three arrays in order (`keys`, `limits`, `expiries`), and
 * where each request ends (`request_ends[r]`, 1-based and inclusive: request r is the specs after
 * `request_ends[r - 1]` up to it; an empty request ends where the previous one did). Returns per
 * request `blocked` (0 when it was counted, else the 1-based position within the request of the spec
 * that blocked it) and per spec `counts` (its value after the increment; null in a blocked request).
 */
export default (s: string): string[] => [
  `CREATE FUNCTION ${s}.consume_counters_each(keys text[], request_ends integer[], limits integer[],
                                               expiries timestamptz[], caller_now timestamptz,
                                               OUT blocked integer[], OUT counts integer[])
    LANGUAGE plpgsql
    SET plan_cache_mode = force_generic_plan
    AS $fn$
    DECLARE
      named text[] := ARRAY(SELECT DISTINCT k COLLATE "C" FROM unnest(keys) AS k ORDER BY 1);
      -- Per named key, in key order: its value so far and its window end (null: none live yet).
      running integer[];
      windows timestamptz[];
      -- Per spec: the position of its key in named.
      slots integer[];
      -- The slots the request being decided has moved, with their values before it, restored (last
      -- first) when it is blocked: copying the whole arrays per request made a batch quadratic.
      touched integer[];
      kept_running integer[];
      kept_windows timestamptz[];
      first integer := 1;
      slot integer;
      counted boolean;
    BEGIN
      INSERT INTO ${s}.counters AS c (key, value, expires_at)
      SELECT k, 0, '-infinity'::timestamptz FROM unnest(named) WITH ORDINALITY AS n(k, ord) ORDER BY ord
      ON CONFLICT (key) DO UPDATE SET value = c.value WHERE false;

      -- A new statement: it sees every commit made before the locks above were granted. Every
      -- named key has its row now, so the arrays line up with named.
      SELECT array_agg(CASE WHEN c.expires_at > caller_now THEN c.value ELSE 0 END ORDER BY n.ord),
             array_agg(CASE WHEN c.expires_at > caller_now THEN c.expires_at END ORDER BY n.ord)
      INTO running, windows
      FROM unnest(named) WITH ORDINALITY AS n(key, ord) JOIN ${s}.counters c ON c.key = n.key;

      SELECT array_agg(n.ord ORDER BY k.ord) INTO slots
      FROM unnest(keys) WITH ORDINALITY AS k(key, ord)
        JOIN unnest(named) WITH ORDINALITY AS n(key, ord) ON n.key = k.key COLLATE "C";

      blocked := '{}';
      counts := array_fill(NULL::integer, ARRAY[cardinality(keys)]);
      FOR r IN 1 .. cardinality(request_ends) LOOP
        touched := '{}';
        kept_running := '{}';
        kept_windows := '{}';
        counted := true;
        FOR i IN first .. request_ends[r] LOOP
          slot := slots[i];
          touched := touched || slot;
          kept_running := kept_running || running[slot];
          kept_windows := kept_windows || windows[slot];
          running[slot] := running[slot] + 1;
          IF running[slot] > limits[i] THEN
            counted := false;
            blocked := blocked || (i - first + 1);
            EXIT;
          END IF;
          windows[slot] := coalesce(windows[slot], expiries[i]);
          counts[i] := running[slot];
        END LOOP;
        IF counted THEN
          blocked := blocked || 0;
        ELSE
          FOR t IN REVERSE cardinality(touched) .. 1 LOOP
            running[touched[t]] := kept_running[t];
            windows[touched[t]] := kept_windows[t];
          END LOOP;
          FOR i IN first .. request_ends[r] LOOP
            counts[i] := NULL;
          END LOOP;
        END IF;
        first := request_ends[r] + 1;
      END LOOP;

      -- A key no counted request started a window for keeps its row as it was (an expired row
      -- reads as 0, as a missing one does). Joined on the key alone, one primary-key probe per
      -- key: with consume_counters' extra \`c.key = ANY(named)\` the generic plan scanned every
      -- named row for each key, 34 ms a batch of 500 keys.
      UPDATE ${s}.counters c SET value = u.value, expires_at = u.expires_at
      FROM unnest(named, running, windows) AS u(key, value, expires_at)
      WHERE c.key = u.key AND u.expires_at IS NOT NULL
        AND (c.value, c.expires_at) IS DISTINCT FROM (u.value, u.expires_at);
    END
  $fn$`,
];
