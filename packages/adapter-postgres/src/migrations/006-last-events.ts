import { reachLocks } from './005-profile-reach.js';

/**
 * Each profile's latest event of every name, kept on the profile row:
 * `last_event_us` maps an event name to the epoch microseconds of the
 * user's latest event of that name.
 *
 * Why it is there: the commonest behaviour conditions ("did X in the last
 * 30 days", "did not do Y", "last did X before a date") only need that one
 * instant, and reading it from the row being scanned costs a lookup per
 * profile. Without it, counting a segment over every profile means reading
 * each condition's window of events, grouping it by user and joining it
 * with all profiles: at a million profiles and ten million events, a hash
 * join of that size cost 4-8x a plain count of the profiles, and a summary
 * table keyed by (name, user) still needed the same join (see the
 * adapter's README, "Benchmark").
 *
 * It is exact, not a cache. Every change to events recomputes or merges
 * the affected users' maps: an insert merges the batch's latest instants
 * (a later event wins), an update or delete recomputes those users from
 * the events table, a truncate empties every map. A new profile reads its
 * own map on insert, since events may arrive before their profile. The
 * same per-user advisory locks as migration 005's reachability serialise
 * these (see `lock_reach`): an insert of events and the insert of their
 * profile can't miss each other.
 *
 * Microseconds, as an integer, because timestamptz has that precision, so
 * comparisons with a bound (milliseconds x 1000) are exact.
 */
export default (s: string): string[] => [
  `ALTER TABLE ${s}.profiles ADD COLUMN last_event_us jsonb NOT NULL DEFAULT '{}'`,

  // Clamped into bigint, so an event at ±infinity (or beyond year 292,000) never makes an insert fail.
  `CREATE FUNCTION ${s}.epoch_us(t timestamptz) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
    SELECT CASE
      WHEN t = 'infinity' THEN 9223372036854775807
      WHEN t = '-infinity' THEN -9223372036854775808
      ELSE least(greatest(extract(epoch FROM t) * 1000000, -9223372036854775808), 9223372036854775807)::bigint
    END
  $fn$`,

  // The entries of \`incoming\` later than \`current\`'s for the same name ('{}' when none is).
  `CREATE FUNCTION ${s}.later_events(current jsonb, incoming jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
    SELECT coalesce(jsonb_object_agg(i.name, i.at), '{}')
    FROM jsonb_each(incoming) AS i(name, at)
    WHERE (current -> i.name) IS NULL OR (current -> i.name)::bigint < i.at::bigint
  $fn$`,

  // Users' maps rebuilt from their events, under migration 005's per-user locks.
  `CREATE FUNCTION ${s}.refresh_last_events(users text[]) RETURNS void LANGUAGE plpgsql AS $fn$
    BEGIN
      IF cardinality(users) = 0 THEN RETURN; END IF;
      PERFORM ${s}.lock_reach(users);
      UPDATE ${s}.profiles p SET last_event_us = r.latest
      FROM (
        SELECT u.user_id, coalesce((
          SELECT jsonb_object_agg(g.name, g.at)
          FROM (SELECT e.name, max(${s}.epoch_us(e."time")) AS at FROM ${s}.events e
                WHERE e.user_id = u.user_id GROUP BY e.name) g
        ), '{}') AS latest
        FROM (SELECT DISTINCT x COLLATE "C" AS user_id FROM unnest(users) x) u
      ) r
      WHERE p.user_id = r.user_id AND p.last_event_us <> r.latest;
    END
  $fn$`,

  `CREATE FUNCTION ${s}.events_inserted() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM ${s}.lock_reach(ARRAY(SELECT DISTINCT user_id FROM inserted));
      -- A new statement after the locks: it sees every profile committed before they were granted.
      UPDATE ${s}.profiles p SET last_event_us = p.last_event_us || ${s}.later_events(p.last_event_us, n.latest)
      FROM (
        SELECT g.user_id, jsonb_object_agg(g.name, g.at) AS latest
        FROM (SELECT user_id, name, max(${s}.epoch_us("time")) AS at FROM inserted GROUP BY user_id, name) g
        GROUP BY g.user_id
      ) n
      WHERE p.user_id = n.user_id AND ${s}.later_events(p.last_event_us, n.latest) <> '{}';
      RETURN NULL;
    END
  $fn$`,
  `CREATE FUNCTION ${s}.events_updated() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM ${s}.refresh_last_events(ARRAY(SELECT user_id FROM before UNION SELECT user_id FROM after));
      RETURN NULL;
    END
  $fn$`,
  `CREATE FUNCTION ${s}.events_deleted() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM ${s}.refresh_last_events(ARRAY(SELECT DISTINCT user_id FROM deleted));
      RETURN NULL;
    END
  $fn$`,
  `CREATE FUNCTION ${s}.events_truncated() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM pg_advisory_xact_lock(${reachLocks(s).allLock}, 0);
      UPDATE ${s}.profiles SET last_event_us = '{}' WHERE last_event_us <> '{}';
      RETURN NULL;
    END
  $fn$`,
  `CREATE TRIGGER last_events_on_insert AFTER INSERT ON ${s}.events
     REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION ${s}.events_inserted()`,
  `CREATE TRIGGER last_events_on_update AFTER UPDATE ON ${s}.events
     REFERENCING OLD TABLE AS before NEW TABLE AS after FOR EACH STATEMENT EXECUTE FUNCTION ${s}.events_updated()`,
  `CREATE TRIGGER last_events_on_delete AFTER DELETE ON ${s}.events
     REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION ${s}.events_deleted()`,
  `CREATE TRIGGER last_events_on_truncate AFTER TRUNCATE ON ${s}.events
     FOR EACH STATEMENT EXECUTE FUNCTION ${s}.events_truncated()`,

  // New profiles read the events that arrived before them (an upsert that updates one leaves it alone).
  `CREATE FUNCTION ${s}.profiles_inserted_last_events() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM ${s}.refresh_last_events(ARRAY(SELECT user_id FROM inserted));
      RETURN NULL;
    END
  $fn$`,
  `CREATE TRIGGER last_events_on_insert AFTER INSERT ON ${s}.profiles
     REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION ${s}.profiles_inserted_last_events()`,

  // Existing installations: every profile's map from the events already stored.
  `UPDATE ${s}.profiles p SET last_event_us = n.latest
   FROM (
     SELECT g.user_id, jsonb_object_agg(g.name, g.at) AS latest
     FROM (SELECT user_id, name, max(${s}.epoch_us("time")) AS at FROM ${s}.events GROUP BY user_id, name) g
     GROUP BY g.user_id
   ) n
   WHERE p.user_id = n.user_id`,
];
