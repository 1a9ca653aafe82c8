/**
 * The latest instant of every (event name, user): `latest_events`, and a
 * covering index that reads profiles in user order with their reach.
 *
 * Why: the commonest behaviour conditions ("did X in the last 30 days",
 * "did not do Y", "last did X before a date") only need that one instant.
 * Counting such a segment over every profile from the events table means
 * reading the window's events, grouping them by user and joining them with
 * all profiles; at a million profiles and ten million events that cost 5-8x
 * a plain count of the profiles. From this table a condition is one index
 * range, already in user order (primary key (name, user_id)), merged with
 * the profiles read in the same order from `profiles_reach_idx` (see the
 * adapter's README, "Benchmark").
 *
 * It is exact, not a cache. Every change to events keeps it right: an
 * insert raises the instants of the (name, user) pairs it touches, an
 * update or delete recomputes its pairs from the events table, a truncate
 * empties it. Pairs may exist before their profile does, as events may.
 *
 * Recomputations first lock the pairs' rows, then read events in a new
 * statement: under READ COMMITTED that statement sees every insert
 * committed before the locks were granted, and a later insert's upsert
 * waits for them and then raises what the recomputation wrote.
 */
export default (schema: string): string[] => [
  `CREATE TABLE ${schema}.latest_events (
    name     text NOT NULL,
    user_id  text COLLATE "C" NOT NULL,
    last_at  timestamptz NOT NULL,
    PRIMARY KEY (name, user_id) INCLUDE (last_at)
  )`,

  // Profiles in user order with their reach (migration 005), so a count merges them with the sets above
  // without visiting the heap.
  `CREATE INDEX profiles_reach_idx ON ${schema}.profiles (user_id) INCLUDE (reach_webpush_until, reach_safari)`,

  // Whether the user has an event of that name in [from, to]. Segments call it only for pairs whose
  // latest event is after "to" (a device's clock ahead): COST 1 tells the planner so, which it could
  // not know, and which otherwise makes it cost the probe for every pair and give up reading the
  // primary key in order.
  `CREATE FUNCTION ${schema}.has_event_between(user_id text, name text, "from" timestamptz, "to" timestamptz)
    RETURNS boolean LANGUAGE plpgsql STABLE PARALLEL SAFE COST 1 AS $fn$
    BEGIN
      RETURN EXISTS (SELECT 1 FROM ${schema}.events e
                     WHERE e.user_id = has_event_between.user_id AND e.name = has_event_between.name
                       AND e."time" >= "from" AND e."time" <= "to");
    END
  $fn$`,

  // Pairs in (name, user) order, so two concurrent batches lock the rows they share in the same order.
  `CREATE FUNCTION ${schema}.events_inserted() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      INSERT INTO ${schema}.latest_events AS l (name, user_id, last_at)
      SELECT name, user_id, max("time") FROM inserted GROUP BY name, user_id ORDER BY name, user_id
      ON CONFLICT (name, user_id) DO UPDATE SET last_at = excluded.last_at WHERE l.last_at < excluded.last_at;
      RETURN NULL;
    END
  $fn$`,

  // The pairs (names[i], users[i]) recomputed from the events table.
  `CREATE FUNCTION ${schema}.refresh_latest_events(names text[], users text[]) RETURNS void LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM 1 FROM ${schema}.latest_events l JOIN unnest(names, users) AS k(name, user_id)
        ON l.name = k.name AND l.user_id = k.user_id
      ORDER BY l.name, l.user_id FOR UPDATE OF l;
      -- New statements from here: they see every insert committed before those locks were granted.
      DELETE FROM ${schema}.latest_events l USING unnest(names, users) AS k(name, user_id)
      WHERE l.name = k.name AND l.user_id = k.user_id
        AND NOT EXISTS (SELECT 1 FROM ${schema}.events e WHERE e.user_id = k.user_id AND e.name = k.name);
      INSERT INTO ${schema}.latest_events AS l (name, user_id, last_at)
      SELECT k.name, k.user_id, m.last_at
      FROM (SELECT DISTINCT n, u COLLATE "C" FROM unnest(names, users) AS x(n, u)) AS k(name, user_id)
      CROSS JOIN LATERAL (SELECT max(e."time") AS last_at FROM ${schema}.events e
                          WHERE e.user_id = k.user_id AND e.name = k.name) m
      WHERE m.last_at IS NOT NULL
      ORDER BY k.name, k.user_id
      ON CONFLICT (name, user_id) DO UPDATE SET last_at = excluded.last_at WHERE l.last_at <> excluded.last_at;
    END
  $fn$`,
  `CREATE FUNCTION ${schema}.events_updated() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM ${schema}.refresh_latest_events(array_agg(name), array_agg(user_id))
      FROM (SELECT name, user_id FROM before UNION SELECT name, user_id FROM after) changed;
      RETURN NULL;
    END
  $fn$`,
  `CREATE FUNCTION ${schema}.events_deleted() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM ${schema}.refresh_latest_events(array_agg(name), array_agg(user_id))
      FROM (SELECT DISTINCT name, user_id FROM deleted) changed;
      RETURN NULL;
    END
  $fn$`,
  // DELETE, not TRUNCATE: a statement truncating both tables (TRUNCATE events, latest_events) would
  // otherwise fail with "being used by active queries".
  `CREATE FUNCTION ${schema}.events_truncated() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      DELETE FROM ${schema}.latest_events;
      RETURN NULL;
    END
  $fn$`,
  `CREATE TRIGGER latest_on_insert AFTER INSERT ON ${schema}.events
     REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.events_inserted()`,
  `CREATE TRIGGER latest_on_update AFTER UPDATE ON ${schema}.events
     REFERENCING OLD TABLE AS before NEW TABLE AS after FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.events_updated()`,
  `CREATE TRIGGER latest_on_delete AFTER DELETE ON ${schema}.events
     REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.events_deleted()`,
  `CREATE TRIGGER latest_on_truncate AFTER TRUNCATE ON ${schema}.events
     FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.events_truncated()`,

  // Existing installations: the pairs of the events already stored.
  `INSERT INTO ${schema}.latest_events (name, user_id, last_at)
   SELECT name, user_id, max("time") FROM ${schema}.events GROUP BY name, user_id ORDER BY name, user_id`,
];
