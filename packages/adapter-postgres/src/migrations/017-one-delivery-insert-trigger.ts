/**
 * Postgres's CPU per delivered message (issue 19), on the deliveries INSERT: a delivery job writes
 * its outcomes in about ten statements of 25 rows, and in the delivery benchmark's writes that
 * statement cost about half the backend's CPU, most of it in its three statement triggers.
 *
 * - `quarter_of()` (migration 011) becomes `date_bin('15 minutes', at, epoch)`: the same instant
 *   (the floor of the epoch to a multiple of 900 s; checked equal on 440,006 instants from 1900 to
 *   2300, before 1970 and at microsecond edges included). Its old body called `extract(epoch FROM
 *   timestamptz)`, which Postgres marks STABLE, so this IMMUTABLE function was never inlined:
 *   every sent delivery, report and conversion paid a SQL function call. `date_bin` is
 *   IMMUTABLE, so the planner now inlines it into every caller (the timeline triggers, the
 *   recount).
 * - One INSERT trigger on `deliveries` instead of three: `deliveries_inserted()` (migration 010,
 *   on `tallies_on_insert`) now also does the work of `browsers_on_insert` (migration 016's INSERT
 *   branch of `browser_deliveries_changed()`) and `timeline_on_insert`
 *   (`timeline_deliveries_inserted()`, dropped). Each statement fires one trigger and reads its
 *   transition table in one function. The upserts are the same statements, in the order the
 *   three triggers ran in (they fire by name: browsers, tallies, timeline), so every writer still
 *   takes the tally rows' locks in one order: browser_users, browser_tallies, delivery_tallies,
 *   timeline_tallies, each in key order. The concurrency arguments of migrations 010, 011 and 013
 *   hold unchanged. UPDATE and DELETE keep their triggers.
 *
 * Measured in bench/README.md ("Where a message's CPU goes").
 */
export default (s: string): string[] => [
  `CREATE OR REPLACE FUNCTION ${s}.quarter_of(at timestamptz) RETURNS timestamptz
     LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
     SELECT date_bin('15 minutes', at, timestamptz '1970-01-01T00:00:00Z')
   $fn$`,
  `CREATE OR REPLACE FUNCTION ${s}.deliveries_inserted() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      -- Browsers: a (run, user, browser) pair is newly reached when its count after the upsert is what
      -- this statement brought (an insert only adds messages; migration 013 has the argument).
      WITH pairs AS (
        SELECT campaign_id, occurrence, user_id, coalesce(browser, 'other') AS browser,
          coalesce(browser_target, 'web-push') AS target,
          count(*) FILTER (WHERE status = 'sent') AS sent, count(*) FILTER (WHERE status <> 'sent') AS failed
        FROM inserted
        GROUP BY 1, 2, 3, 4, 5
      ), reached AS (
        INSERT INTO ${s}.browser_users AS u (campaign_id, occurrence, browser, target, user_id, sent)
        SELECT campaign_id, occurrence, browser, target, user_id, sent FROM pairs WHERE sent > 0
        ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (campaign_id, occurrence, browser, target, user_id) DO UPDATE SET sent = u.sent + excluded.sent
        RETURNING campaign_id, occurrence, browser, target, user_id, sent AS sent_now
      )
      INSERT INTO ${s}.browser_tallies AS t
        (campaign_id, occurrence, browser, target, users, sent, failed, viewed, clicked, conversions, revenue)
      SELECT p.campaign_id, p.occurrence, p.browser, p.target, count(r.user_id) FILTER (WHERE r.sent_now = p.sent),
        sum(p.sent), sum(p.failed), 0, 0, 0, 0
      FROM pairs p LEFT JOIN reached r
        ON r.campaign_id = p.campaign_id AND r.occurrence = p.occurrence AND r.browser = p.browser
          AND r.target = p.target AND r.user_id = p.user_id
      GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
      ON CONFLICT (campaign_id, occurrence, browser, target) DO UPDATE SET users = t.users + excluded.users,
        sent = t.sent + excluded.sent, failed = t.failed + excluded.failed;

      INSERT INTO ${s}.delivery_tallies AS t (campaign_id, occurrence, status, n)
      SELECT campaign_id, occurrence, status, count(*) FROM inserted GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
      ON CONFLICT (campaign_id, occurrence, status) DO UPDATE SET n = t.n + excluded.n;

      INSERT INTO ${s}.timeline_tallies AS t (campaign_id, quarter, sent, viewed, clicked, conversions, revenue)
      SELECT campaign_id, ${s}.quarter_of(at), count(*), 0, 0, 0, 0
      FROM inserted WHERE status = 'sent' GROUP BY 1, 2 ORDER BY 1, 2
      ON CONFLICT (campaign_id, quarter) DO UPDATE SET sent = t.sent + excluded.sent;
      RETURN NULL;
    END
  $fn$`,
  `DROP TRIGGER browsers_on_insert ON ${s}.deliveries`,
  `DROP TRIGGER timeline_on_insert ON ${s}.deliveries`,
  `DROP FUNCTION ${s}.timeline_deliveries_inserted()`,
];
