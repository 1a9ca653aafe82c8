/**
 * Reachability kept on the profile row, so `estimateReach` counts reachable
 * users in the same pass that counts qualified ones, with no join to
 * subscriptions (at a million profiles that join cost more than the rest of
 * the query).
 *
 * What is stored is exact, not a cache: rule 13 of core's evaluator makes a
 * web push subscription live while its numeric expirationTime is after now
 * (or it has none), and a Safari one always. So a user has a live web push
 * subscription at `now` exactly when the greatest of their web push
 * subscriptions' expiry instants (+Infinity for one without a numeric
 * expiry) is after `now`; that greatest instant is `reach_webpush_until`
 * (NULL: no web push subscription), and `reach_safari` says whether they
 * have a Safari one. Queries compare it with `now` when they run.
 *
 * Triggers keep both right. Every change to subscriptions (insert, update
 * — a subscription may move to another user — delete, truncate) recomputes
 * the affected users from the subscriptions table, and a new profile reads
 * its own on insert, since subscriptions may arrive first. Recomputing under
 * READ COMMITTED could read a concurrent writer's state too early, so each
 * recomputation first takes a transaction advisory lock per user (or, for a
 * statement touching more than 1,000 users, one lock for all of them) and
 * only then reads: its next statement sees everything committed before the
 * lock was granted, and later writers wait for it.
 */
const BULK = 1000;

export default (schema: string): string[] => {
  // Advisory lock keys of this schema: per user (hashtext of the id) and one for bulk statements.
  const userLocks = `hashtext(${literal(`herald.reach:${schema}`)})`;
  const allLock = `hashtext(${literal(`herald.reach.all:${schema}`)})`;
  return [
    `ALTER TABLE ${schema}.profiles
       ADD COLUMN reach_webpush_until double precision,
       ADD COLUMN reach_safari boolean NOT NULL DEFAULT false`,

    // Serialises recomputations of the same users; see the header comment.
    `CREATE FUNCTION ${schema}.lock_reach(users text[]) RETURNS void LANGUAGE plpgsql AS $fn$
    BEGIN
      IF cardinality(users) > ${BULK} THEN
        PERFORM pg_advisory_xact_lock(${allLock}, 0);
      ELSE
        PERFORM pg_advisory_xact_lock_shared(${allLock}, 0);
        -- One order for every transaction, so two of them never wait on each other crosswise.
        PERFORM pg_advisory_xact_lock(${userLocks}, k) FROM (SELECT DISTINCT hashtext(u) AS k FROM unnest(users) u) x ORDER BY k;
      END IF;
    END
    $fn$`,

    // A user's reach from their subscriptions: rule 13 of core's evaluator, as a maximum.
    `CREATE FUNCTION ${schema}.refresh_reach(users text[]) RETURNS void LANGUAGE plpgsql AS $fn$
    BEGIN
      IF cardinality(users) = 0 THEN RETURN; END IF;
      PERFORM ${schema}.lock_reach(users);
      UPDATE ${schema}.profiles p
      SET reach_webpush_until = r.until, reach_safari = r.safari
      FROM (
        SELECT u.user_id, max(${expiry('s')}) FILTER (WHERE s.target = 'webpush') AS until,
               coalesce(bool_or(s.target = 'safari'), false) AS safari
        FROM (SELECT DISTINCT x COLLATE "C" AS user_id FROM unnest(users) x) u
        LEFT JOIN ${schema}.subscriptions s ON s.user_id = u.user_id
        GROUP BY u.user_id
      ) r
      WHERE p.user_id = r.user_id
        AND (p.reach_webpush_until IS DISTINCT FROM r.until OR p.reach_safari <> r.safari);
    END
    $fn$`,

    // Statement-level triggers with transition tables: a batch of any size is one recomputation.
    `CREATE FUNCTION ${schema}.subscriptions_inserted() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM ${schema}.refresh_reach(ARRAY(SELECT DISTINCT user_id FROM inserted));
      RETURN NULL;
    END
    $fn$`,
    `CREATE FUNCTION ${schema}.subscriptions_updated() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM ${schema}.refresh_reach(ARRAY(SELECT user_id FROM before UNION SELECT user_id FROM after));
      RETURN NULL;
    END
    $fn$`,
    `CREATE FUNCTION ${schema}.subscriptions_deleted() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM ${schema}.refresh_reach(ARRAY(SELECT DISTINCT user_id FROM deleted));
      RETURN NULL;
    END
    $fn$`,
    `CREATE FUNCTION ${schema}.subscriptions_truncated() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM pg_advisory_xact_lock(${allLock}, 0);
      UPDATE ${schema}.profiles SET reach_webpush_until = NULL, reach_safari = false
      WHERE reach_webpush_until IS NOT NULL OR reach_safari;
      RETURN NULL;
    END
    $fn$`,
    `CREATE TRIGGER reach_on_insert AFTER INSERT ON ${schema}.subscriptions
       REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.subscriptions_inserted()`,
    `CREATE TRIGGER reach_on_update AFTER UPDATE ON ${schema}.subscriptions
       REFERENCING OLD TABLE AS before NEW TABLE AS after FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.subscriptions_updated()`,
    `CREATE TRIGGER reach_on_delete AFTER DELETE ON ${schema}.subscriptions
       REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.subscriptions_deleted()`,
    `CREATE TRIGGER reach_on_truncate AFTER TRUNCATE ON ${schema}.subscriptions
       FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.subscriptions_truncated()`,

    // New profiles (an upsert that updates an existing one leaves its reach alone: subscriptions did not change).
    `CREATE FUNCTION ${schema}.profiles_inserted() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM ${schema}.refresh_reach(ARRAY(SELECT user_id FROM inserted));
      RETURN NULL;
    END
    $fn$`,
    `CREATE TRIGGER reach_on_insert AFTER INSERT ON ${schema}.profiles
       REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.profiles_inserted()`,

    // Existing installations: every profile's reach from the subscriptions already stored.
    `UPDATE ${schema}.profiles p SET reach_webpush_until = r.until, reach_safari = r.safari
     FROM (
       SELECT s.user_id, max(${expiry('s')}) FILTER (WHERE s.target = 'webpush') AS until, bool_or(s.target = 'safari') AS safari
       FROM ${schema}.subscriptions s GROUP BY s.user_id
     ) r
     WHERE p.user_id = r.user_id`,
  ];
};

/** The instant (epoch ms) until which one subscription is live: its numeric expirationTime, or +Infinity. */
const expiry = (alias: string) =>
  `CASE WHEN jsonb_typeof(${alias}.expiration_time) = 'number' THEN (${alias}.expiration_time)::float8 ELSE 'Infinity'::float8 END`;

const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;
