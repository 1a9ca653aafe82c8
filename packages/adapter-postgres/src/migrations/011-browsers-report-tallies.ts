/**
 * Stats by browser, and per-run and over-time stats from tallies (issue 16).
 *
 * Browsers: `deliveries.browser` and `deliveries.browser_target` hold the
 * browser and target core classified when the outcome was recorded (NULL:
 * unknown). Deliveries already stored are classified here by their
 * subscription's push service, when the subscription is still there (the
 * user agents the SDK sends now were never stored before). The breakdown is
 * a GROUP BY over the campaign's deliveries, served by
 * `deliveries_browser_idx` as an index-only scan.
 *
 * Report tallies, kept like those of migration 010 (its concurrency argument
 * holds here unchanged: statement triggers, upserts in key order, exact, no
 * cache) so `campaigns.runs` no longer groups a campaign's reports:
 * - `interaction_tallies`: reports per (campaign, occurrence, kind, action),
 *   action '' when NULL (a primary key column cannot be NULL).
 * - `interaction_users`: one row per (campaign, occurrence, kind, user) with
 *   at least one report; its primary key is what makes the count of distinct
 *   users exact under concurrency: two first reports of one user written at
 *   once meet on the key, and only the one whose row went in adds 1 to
 *   `interaction_user_tallies`. When reports are deleted (retention), a user
 *   row goes once no report of that key is left. A report of that same key
 *   committed while the delete runs is not seen by it, and the user row goes
 *   anyway (one user uncounted): reports of a run being pruned are long past
 *   their token's expiry, so this is left as is.
 * - `timeline_tallies`: sent deliveries, viewed and clicked reports,
 *   recipients' conversions (control left out) and their revenue per
 *   campaign and UTC quarter hour, so `campaigns.timeline` buckets a few
 *   rows per quarter hour instead of every row. Exact for every zone whose
 *   UTC offset is a whole number of quarter hours (all of them since 1972):
 *   a local hour or day then never starts inside a quarter hour.
 *
 * Write cost: a report is one insert into `interactions` and, from its
 * trigger, one upsert each into `interaction_tallies` and `timeline_tallies`
 * and an insert-if-absent into `interaction_users` (plus an upsert of its
 * tally on a first report); a delivery batch adds one upsert per quarter hour
 * it touches to those of migration 010. The backfill at the end counts the
 * rows already stored.
 */
export default (schema: string): string[] => [
  `ALTER TABLE ${schema}.deliveries ADD COLUMN browser text, ADD COLUMN browser_target text`,
  `ALTER TABLE ${schema}.subscriptions ADD COLUMN user_agent text`,
  // Deliveries recorded before: by the subscription's push service (no user agent was stored then).
  // Migration 010's update trigger is off meanwhile: no status changes, and it would aggregate every
  // row of the table as JSON to find that out.
  `ALTER TABLE ${schema}.deliveries DISABLE TRIGGER tallies_on_update`,
  `UPDATE ${schema}.deliveries d
   SET browser = CASE
         WHEN s.target = 'safari' THEN 'safari'
         WHEN host IN ('fcm.googleapis.com', 'android.googleapis.com') THEN 'chrome'
         WHEN host = 'updates.push.services.mozilla.com' THEN 'firefox'
         WHEN host LIKE '%.notify.windows.com' THEN 'edge'
         WHEN host = 'web.push.apple.com' THEN 'safari'
         ELSE 'other' END,
       browser_target = CASE WHEN s.target = 'safari' THEN 'safari-legacy' ELSE 'web-push' END
   FROM (SELECT id, target, lower(substring(endpoint FROM '^https?://([^/:?#]+)')) AS host
         FROM ${schema}.subscriptions) s
   WHERE s.id = d.subscription_id AND d.browser IS NULL`,
  `ALTER TABLE ${schema}.deliveries ENABLE TRIGGER tallies_on_update`,
  // Stats by browser: the campaign's deliveries by outcome and browser, with the run and user for
  // distinct users and for matching reports, in one index-only scan.
  `CREATE INDEX deliveries_browser_idx ON ${schema}.deliveries
     (campaign_id, status, browser, browser_target, occurrence, user_id)`,

  `CREATE TABLE ${schema}.interaction_tallies (
    campaign_id  text COLLATE "C" NOT NULL,
    occurrence   text NOT NULL,
    kind         text NOT NULL,
    action       text NOT NULL,
    n            bigint NOT NULL,
    PRIMARY KEY (campaign_id, occurrence, kind, action)
  )`,
  `CREATE TABLE ${schema}.interaction_users (
    campaign_id  text COLLATE "C" NOT NULL,
    occurrence   text NOT NULL,
    kind         text NOT NULL,
    user_id      text COLLATE "C" NOT NULL,
    PRIMARY KEY (campaign_id, occurrence, kind, user_id)
  )`,
  `CREATE TABLE ${schema}.interaction_user_tallies (
    campaign_id  text COLLATE "C" NOT NULL,
    occurrence   text NOT NULL,
    kind         text NOT NULL,
    n            bigint NOT NULL,
    PRIMARY KEY (campaign_id, occurrence, kind)
  )`,
  `CREATE TABLE ${schema}.timeline_tallies (
    campaign_id  text COLLATE "C" NOT NULL,
    quarter      timestamptz NOT NULL,
    sent         bigint NOT NULL,
    viewed       bigint NOT NULL,
    clicked      bigint NOT NULL,
    conversions  bigint NOT NULL,
    revenue      numeric NOT NULL,
    PRIMARY KEY (campaign_id, quarter)
  )`,
  // The UTC quarter hour an instant falls in.
  `CREATE FUNCTION ${schema}.quarter_of(at timestamptz) RETURNS timestamptz
     LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
     SELECT to_timestamp(floor(extract(epoch FROM at) / 900) * 900)
   $fn$`,

  // Adds signed timeline facts (one per row, delta +1 or -1) to the quarter-hour tallies, in key order.
  `CREATE FUNCTION ${schema}.apply_timeline_deltas(changes jsonb) RETURNS void LANGUAGE plpgsql AS $fn$
    BEGIN
      INSERT INTO ${schema}.timeline_tallies AS t (campaign_id, quarter, sent, viewed, clicked, conversions, revenue)
      SELECT c.campaign_id, ${schema}.quarter_of(c.at), sum(c.delta * c.sent), sum(c.delta * c.viewed),
        sum(c.delta * c.clicked), sum(c.delta * c.conversions), sum(c.delta * c.revenue)
      FROM jsonb_to_recordset(changes) AS c(campaign_id text, at timestamptz, delta int, sent int, viewed int,
        clicked int, conversions int, revenue numeric)
      GROUP BY 1, 2 ORDER BY 1, 2
      ON CONFLICT (campaign_id, quarter) DO UPDATE SET sent = t.sent + excluded.sent,
        viewed = t.viewed + excluded.viewed, clicked = t.clicked + excluded.clicked,
        conversions = t.conversions + excluded.conversions, revenue = t.revenue + excluded.revenue;
    END
  $fn$`,

  // Deliveries: sent ones count in the timeline.
  `CREATE FUNCTION ${schema}.timeline_deliveries_inserted() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      INSERT INTO ${schema}.timeline_tallies AS t (campaign_id, quarter, sent, viewed, clicked, conversions, revenue)
      SELECT campaign_id, ${schema}.quarter_of(at), count(*), 0, 0, 0, 0
      FROM inserted WHERE status = 'sent' GROUP BY 1, 2 ORDER BY 1, 2
      ON CONFLICT (campaign_id, quarter) DO UPDATE SET sent = t.sent + excluded.sent;
      RETURN NULL;
    END
  $fn$`,
  `CREATE FUNCTION ${schema}.timeline_deliveries_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      -- Called for UPDATE (both transition tables) and DELETE (old rows only, as "before").
      IF TG_OP = 'UPDATE' THEN
        PERFORM ${schema}.apply_timeline_deltas(coalesce(jsonb_agg(c), '[]'))
        FROM (SELECT campaign_id, at, -1 AS delta, 1 AS sent, 0 AS viewed, 0 AS clicked, 0 AS conversions, 0 AS revenue
              FROM before WHERE status = 'sent'
              UNION ALL
              SELECT campaign_id, at, 1, 1, 0, 0, 0, 0 FROM after WHERE status = 'sent') c;
      ELSE
        PERFORM ${schema}.apply_timeline_deltas(coalesce(jsonb_agg(c), '[]'))
        FROM (SELECT campaign_id, at, -1 AS delta, 1 AS sent, 0 AS viewed, 0 AS clicked, 0 AS conversions, 0 AS revenue
              FROM before WHERE status = 'sent') c;
      END IF;
      RETURN NULL;
    END
  $fn$`,
  `CREATE TRIGGER timeline_on_insert AFTER INSERT ON ${schema}.deliveries
     REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.timeline_deliveries_inserted()`,
  `CREATE TRIGGER timeline_on_update AFTER UPDATE ON ${schema}.deliveries
     REFERENCING OLD TABLE AS before NEW TABLE AS after FOR EACH STATEMENT
     EXECUTE FUNCTION ${schema}.timeline_deliveries_changed()`,
  `CREATE TRIGGER timeline_on_delete AFTER DELETE ON ${schema}.deliveries
     REFERENCING OLD TABLE AS before FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.timeline_deliveries_changed()`,

  // Conversions: recipients' (not control) count in the timeline, with their revenue.
  `CREATE FUNCTION ${schema}.timeline_conversions_inserted() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      INSERT INTO ${schema}.timeline_tallies AS t (campaign_id, quarter, sent, viewed, clicked, conversions, revenue)
      SELECT campaign_id, ${schema}.quarter_of(at), 0, 0, 0, count(*), coalesce(sum(revenue), 0)
      FROM inserted WHERE NOT control GROUP BY 1, 2 ORDER BY 1, 2
      ON CONFLICT (campaign_id, quarter) DO UPDATE SET conversions = t.conversions + excluded.conversions,
        revenue = t.revenue + excluded.revenue;
      RETURN NULL;
    END
  $fn$`,
  `CREATE FUNCTION ${schema}.timeline_conversions_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      IF TG_OP = 'UPDATE' THEN
        PERFORM ${schema}.apply_timeline_deltas(coalesce(jsonb_agg(c), '[]'))
        FROM (SELECT campaign_id, at, -1 AS delta, 0 AS sent, 0 AS viewed, 0 AS clicked, 1 AS conversions,
                coalesce(revenue, 0) AS revenue
              FROM before WHERE NOT control
              UNION ALL
              SELECT campaign_id, at, 1, 0, 0, 0, 1, coalesce(revenue, 0) FROM after WHERE NOT control) c;
      ELSE
        PERFORM ${schema}.apply_timeline_deltas(coalesce(jsonb_agg(c), '[]'))
        FROM (SELECT campaign_id, at, -1 AS delta, 0 AS sent, 0 AS viewed, 0 AS clicked, 1 AS conversions,
                coalesce(revenue, 0) AS revenue
              FROM before WHERE NOT control) c;
      END IF;
      RETURN NULL;
    END
  $fn$`,
  `CREATE TRIGGER timeline_on_insert AFTER INSERT ON ${schema}.conversions
     REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.timeline_conversions_inserted()`,
  `CREATE TRIGGER timeline_on_update AFTER UPDATE ON ${schema}.conversions
     REFERENCING OLD TABLE AS before NEW TABLE AS after FOR EACH STATEMENT
     EXECUTE FUNCTION ${schema}.timeline_conversions_changed()`,
  `CREATE TRIGGER timeline_on_delete AFTER DELETE ON ${schema}.conversions
     REFERENCING OLD TABLE AS before FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.timeline_conversions_changed()`,

  // Interactions: reports by kind and action, first reports per user, and the timeline.
  `CREATE FUNCTION ${schema}.interactions_added(added jsonb) RETURNS void LANGUAGE plpgsql AS $fn$
    BEGIN
      INSERT INTO ${schema}.interaction_tallies AS t (campaign_id, occurrence, kind, action, n)
      SELECT campaign_id, occurrence, kind, coalesce(action, ''), count(*)
      FROM jsonb_to_recordset(added) AS a(campaign_id text, occurrence text, kind text, action text)
      GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
      ON CONFLICT (campaign_id, occurrence, kind, action) DO UPDATE SET n = t.n + excluded.n;

      WITH first_reports AS (
        INSERT INTO ${schema}.interaction_users (campaign_id, occurrence, kind, user_id)
        SELECT DISTINCT campaign_id, occurrence, kind, user_id
        FROM jsonb_to_recordset(added) AS a(campaign_id text, occurrence text, kind text, user_id text)
        ORDER BY 1, 2, 3, 4
        ON CONFLICT DO NOTHING
        RETURNING campaign_id, occurrence, kind
      )
      INSERT INTO ${schema}.interaction_user_tallies AS t (campaign_id, occurrence, kind, n)
      SELECT campaign_id, occurrence, kind, count(*) FROM first_reports GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
      ON CONFLICT (campaign_id, occurrence, kind) DO UPDATE SET n = t.n + excluded.n;

      PERFORM ${schema}.apply_timeline_deltas(coalesce(jsonb_agg(c), '[]'))
      FROM (SELECT campaign_id, at, 1 AS delta, 0 AS sent, (kind = 'viewed')::int AS viewed,
              (kind = 'clicked')::int AS clicked, 0 AS conversions, 0 AS revenue
            FROM jsonb_to_recordset(added) AS a(campaign_id text, kind text, at timestamptz)
            WHERE kind IN ('viewed', 'clicked')) c;
    END
  $fn$`,
  `CREATE FUNCTION ${schema}.interactions_removed(removed jsonb) RETURNS void LANGUAGE plpgsql AS $fn$
    BEGIN
      INSERT INTO ${schema}.interaction_tallies AS t (campaign_id, occurrence, kind, action, n)
      SELECT campaign_id, occurrence, kind, coalesce(action, ''), -count(*)
      FROM jsonb_to_recordset(removed) AS r(campaign_id text, occurrence text, kind text, action text)
      GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
      ON CONFLICT (campaign_id, occurrence, kind, action) DO UPDATE SET n = t.n + excluded.n;

      -- A user row goes once no report of its key is left (the table already lacks the removed rows).
      WITH gone AS (
        DELETE FROM ${schema}.interaction_users u
        USING (SELECT DISTINCT campaign_id, occurrence, kind, user_id
               FROM jsonb_to_recordset(removed) AS r(campaign_id text, occurrence text, kind text, user_id text)) r
        WHERE u.campaign_id = r.campaign_id AND u.occurrence = r.occurrence AND u.kind = r.kind
          AND u.user_id = r.user_id
          AND NOT EXISTS (SELECT 1 FROM ${schema}.interactions i
                          WHERE i.campaign_id = r.campaign_id AND i.occurrence = r.occurrence
                            AND i.kind = r.kind AND i.user_id = r.user_id)
        RETURNING u.campaign_id, u.occurrence, u.kind
      )
      INSERT INTO ${schema}.interaction_user_tallies AS t (campaign_id, occurrence, kind, n)
      SELECT campaign_id, occurrence, kind, -count(*) FROM gone GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
      ON CONFLICT (campaign_id, occurrence, kind) DO UPDATE SET n = t.n + excluded.n;

      PERFORM ${schema}.apply_timeline_deltas(coalesce(jsonb_agg(c), '[]'))
      FROM (SELECT campaign_id, at, -1 AS delta, 0 AS sent, (kind = 'viewed')::int AS viewed,
              (kind = 'clicked')::int AS clicked, 0 AS conversions, 0 AS revenue
            FROM jsonb_to_recordset(removed) AS r(campaign_id text, kind text, at timestamptz)
            WHERE kind IN ('viewed', 'clicked')) c;
    END
  $fn$`,
  `CREATE FUNCTION ${schema}.interactions_inserted() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM ${schema}.interactions_added(coalesce(jsonb_agg(i), '[]')) FROM inserted i;
      RETURN NULL;
    END
  $fn$`,
  `CREATE FUNCTION ${schema}.interactions_updated() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM ${schema}.interactions_removed(coalesce(jsonb_agg(b), '[]')) FROM before b;
      PERFORM ${schema}.interactions_added(coalesce(jsonb_agg(a), '[]')) FROM after a;
      RETURN NULL;
    END
  $fn$`,
  `CREATE FUNCTION ${schema}.interactions_deleted() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM ${schema}.interactions_removed(coalesce(jsonb_agg(d), '[]')) FROM deleted d;
      RETURN NULL;
    END
  $fn$`,
  `CREATE TRIGGER tallies_on_insert AFTER INSERT ON ${schema}.interactions
     REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.interactions_inserted()`,
  `CREATE TRIGGER tallies_on_update AFTER UPDATE ON ${schema}.interactions
     REFERENCING OLD TABLE AS before NEW TABLE AS after FOR EACH STATEMENT
     EXECUTE FUNCTION ${schema}.interactions_updated()`,
  `CREATE TRIGGER tallies_on_delete AFTER DELETE ON ${schema}.interactions
     REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.interactions_deleted()`,

  // TRUNCATE of any of the three tables: the tallies it feeds are recounted from what is left
  // (a TRUNCATE of several tables at once leaves all of them empty by the time this runs).
  `CREATE FUNCTION ${schema}.report_tallies_truncated() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      IF TG_TABLE_NAME = 'interactions' THEN
        DELETE FROM ${schema}.interaction_tallies;
        DELETE FROM ${schema}.interaction_users;
        DELETE FROM ${schema}.interaction_user_tallies;
      END IF;
      PERFORM ${schema}.recount_timeline();
      RETURN NULL;
    END
  $fn$`,
  `CREATE FUNCTION ${schema}.recount_timeline() RETURNS void LANGUAGE plpgsql AS $fn$
    BEGIN
      DELETE FROM ${schema}.timeline_tallies;
      INSERT INTO ${schema}.timeline_tallies (campaign_id, quarter, sent, viewed, clicked, conversions, revenue)
      SELECT campaign_id, ${schema}.quarter_of(at), sum(sent), sum(viewed), sum(clicked), sum(conversions), sum(revenue)
      FROM (SELECT campaign_id, at, 1 AS sent, 0 AS viewed, 0 AS clicked, 0 AS conversions, 0::numeric AS revenue
            FROM ${schema}.deliveries WHERE status = 'sent'
            UNION ALL
            SELECT campaign_id, at, 0, (kind = 'viewed')::int, (kind = 'clicked')::int, 0, 0
            FROM ${schema}.interactions WHERE kind IN ('viewed', 'clicked')
            UNION ALL
            SELECT campaign_id, at, 0, 0, 0, 1, coalesce(revenue, 0)
            FROM ${schema}.conversions WHERE NOT control) facts
      GROUP BY 1, 2;
    END
  $fn$`,
  `CREATE TRIGGER report_tallies_on_truncate AFTER TRUNCATE ON ${schema}.interactions
     FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.report_tallies_truncated()`,
  `CREATE TRIGGER report_tallies_on_truncate AFTER TRUNCATE ON ${schema}.deliveries
     FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.report_tallies_truncated()`,
  `CREATE TRIGGER report_tallies_on_truncate AFTER TRUNCATE ON ${schema}.conversions
     FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.report_tallies_truncated()`,

  // Existing installations: the rows already stored.
  `INSERT INTO ${schema}.interaction_tallies (campaign_id, occurrence, kind, action, n)
   SELECT campaign_id, occurrence, kind, coalesce(action, ''), count(*) FROM ${schema}.interactions GROUP BY 1, 2, 3, 4`,
  `INSERT INTO ${schema}.interaction_users (campaign_id, occurrence, kind, user_id)
   SELECT DISTINCT campaign_id, occurrence, kind, user_id FROM ${schema}.interactions`,
  `INSERT INTO ${schema}.interaction_user_tallies (campaign_id, occurrence, kind, n)
   SELECT campaign_id, occurrence, kind, count(*) FROM ${schema}.interaction_users GROUP BY 1, 2, 3`,
  `SELECT ${schema}.recount_timeline()`,
];
