/**
 * Stats by browser from tallies (issue 16): `campaigns.browsers` read every
 * message, report and conversion of the campaign (21-25 s at a million
 * recipients); it now reads `browser_tallies`, a few rows per run.
 *
 * Each report and conversion keeps its own browser, as each delivery does
 * since migration 011, so every figure is counted where its row is written:
 * - `interactions.browser`, `browser_target`: the browser the report token
 *   claims (core puts the browser of the subscription the message went to in
 *   the token); for a token signed before that, core looks up the run's
 *   latest message sent to the user. NULL: unknown.
 * - `conversions.browser`, `browser_target`: the browser of the run's latest
 *   message sent to the user, looked up by core at attribution. NULL for
 *   control and when unknown.
 * Rows stored before this migration get the browser of the run's latest
 * sent message to their user (core's rule for old tokens), when there is one.
 *
 * `browser_tallies` holds per (campaign, occurrence, browser, target), NULL
 * browser as `other`, `web-push`: distinct users sent a message there,
 * messages sent and failed (`failed` and `gone`), viewed and clicked
 * reports, recipients' conversions (control left out) and their revenue.
 * Kept by statement triggers like the tallies of migrations 010 and 011 (the
 * concurrency argument of 010 holds: upserts in key order, in the writer's
 * transaction, exact, no cache), with one addition for `users`:
 *
 * A (run, user) pair counts once per browser however many of its
 * subscriptions there were sent the message, and whichever statement
 * brought them: `browser_users` holds each pair's sent messages per
 * browser, upserted by the trigger; a pair adds 1 to `users` when its count
 * goes from none to some, and takes 1 away when it goes back to none. Its
 * primary key makes this exact under concurrency, as `interaction_users`
 * does for reports (migration 011): two writers of one pair meet on its row.
 * Why not probe `deliveries` for the pair's other sent messages instead of
 * keeping a row per pair: on a table not yet analyzed the planner read the
 * probe through `deliveries_stats_idx` (every sent row of the run), and
 * 5,000 messages inserted at once took 19 s instead of 0.3.
 *
 * Write cost: a delivery write adds one upsert per (run, user, browser) with
 * a sent message and one per (run, browser); a report or conversion adds one
 * upsert. `deliveries_browser_idx` (migration 011), which only the
 * old grouping read, is dropped: a delivery write maintains one index less.
 */
export default (s: string): string[] => [
  `ALTER TABLE ${s}.interactions ADD COLUMN browser text, ADD COLUMN browser_target text`,
  `ALTER TABLE ${s}.conversions ADD COLUMN browser text, ADD COLUMN browser_target text`,

  // Rows already stored: the browser of the run's latest message sent to the user (ties: the last
  // subscription id, as core picks). The tally triggers of 011 are off meanwhile: no figure they
  // keep changes, and they would recount every row.
  `CREATE TEMPORARY TABLE latest_sent AS
   SELECT DISTINCT ON (campaign_id, occurrence, user_id) campaign_id, occurrence, user_id, browser, browser_target
   FROM ${s}.deliveries WHERE status = 'sent' AND browser IS NOT NULL
   ORDER BY campaign_id, occurrence, user_id, at DESC, subscription_id DESC`,
  `ALTER TABLE ${s}.interactions DISABLE TRIGGER tallies_on_update`,
  `UPDATE ${s}.interactions i SET browser = l.browser, browser_target = l.browser_target FROM latest_sent l
   WHERE l.campaign_id = i.campaign_id AND l.occurrence = i.occurrence AND l.user_id = i.user_id`,
  `ALTER TABLE ${s}.interactions ENABLE TRIGGER tallies_on_update`,
  `ALTER TABLE ${s}.conversions DISABLE TRIGGER timeline_on_update`,
  `UPDATE ${s}.conversions c SET browser = l.browser, browser_target = l.browser_target FROM latest_sent l
   WHERE NOT c.control AND l.campaign_id = c.campaign_id AND l.occurrence = c.occurrence AND l.user_id = c.user_id`,
  `ALTER TABLE ${s}.conversions ENABLE TRIGGER timeline_on_update`,
  `DROP TABLE latest_sent`,

  `CREATE TABLE ${s}.browser_users (
    campaign_id  text COLLATE "C" NOT NULL,
    occurrence   text NOT NULL,
    browser      text NOT NULL,
    target       text NOT NULL,
    user_id      text COLLATE "C" NOT NULL,
    sent         bigint NOT NULL,
    PRIMARY KEY (campaign_id, occurrence, browser, target, user_id)
  )`,
  `CREATE TABLE ${s}.browser_tallies (
    campaign_id  text COLLATE "C" NOT NULL,
    occurrence   text NOT NULL,
    browser      text NOT NULL,
    target       text NOT NULL,
    users        bigint NOT NULL,
    sent         bigint NOT NULL,
    failed       bigint NOT NULL,
    viewed       bigint NOT NULL,
    clicked      bigint NOT NULL,
    conversions  bigint NOT NULL,
    revenue      numeric NOT NULL,
    PRIMARY KEY (campaign_id, occurrence, browser, target)
  )`,

  // Adds signed figures (every key present in each element) to the tallies, in key order.
  `CREATE FUNCTION ${s}.apply_browser_deltas(changes jsonb) RETURNS void LANGUAGE plpgsql AS $fn$
    BEGIN
      INSERT INTO ${s}.browser_tallies AS t
        (campaign_id, occurrence, browser, target, users, sent, failed, viewed, clicked, conversions, revenue)
      SELECT c.campaign_id, c.occurrence, coalesce(c.browser, 'other'), coalesce(c.target, 'web-push'),
        sum(c.users), sum(c.sent), sum(c.failed), sum(c.viewed), sum(c.clicked), sum(c.conversions), sum(c.revenue)
      FROM jsonb_to_recordset(changes) AS c(campaign_id text, occurrence text, browser text, target text, users int,
        sent int, failed int, viewed int, clicked int, conversions int, revenue numeric)
      GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
      ON CONFLICT (campaign_id, occurrence, browser, target) DO UPDATE SET users = t.users + excluded.users,
        sent = t.sent + excluded.sent, failed = t.failed + excluded.failed, viewed = t.viewed + excluded.viewed,
        clicked = t.clicked + excluded.clicked, conversions = t.conversions + excluded.conversions,
        revenue = t.revenue + excluded.revenue;
    END
  $fn$`,

  // Deliveries, given their signed rows: messages by outcome, and (run, user) pairs that gained their
  // first or lost their last sent message on a browser (the header's argument).
  `CREATE FUNCTION ${s}.browser_delivery_changes(changes jsonb) RETURNS void LANGUAGE plpgsql AS $fn$
    BEGIN
      WITH pairs AS (
        SELECT campaign_id, occurrence, user_id, coalesce(browser, 'other') AS browser,
          coalesce(browser_target, 'web-push') AS target,
          coalesce(sum(delta) FILTER (WHERE status = 'sent'), 0) AS sent,
          coalesce(sum(delta) FILTER (WHERE status <> 'sent'), 0) AS failed
        FROM jsonb_to_recordset(changes) AS c(campaign_id text, occurrence text, user_id text, browser text,
          browser_target text, status text, delta int)
        GROUP BY 1, 2, 3, 4, 5
      ), reached AS (
        INSERT INTO ${s}.browser_users AS u (campaign_id, occurrence, browser, target, user_id, sent)
        SELECT campaign_id, occurrence, browser, target, user_id, sent FROM pairs WHERE sent <> 0
        ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (campaign_id, occurrence, browser, target, user_id) DO UPDATE SET sent = u.sent + excluded.sent
        RETURNING campaign_id, occurrence, browser, target, user_id, sent AS sent_now
      )
      INSERT INTO ${s}.browser_tallies AS t
        (campaign_id, occurrence, browser, target, users, sent, failed, viewed, clicked, conversions, revenue)
      SELECT p.campaign_id, p.occurrence, p.browser, p.target,
        sum(coalesce((r.sent_now > 0)::int - (r.sent_now - p.sent > 0)::int, 0)), sum(p.sent), sum(p.failed), 0, 0, 0, 0
      FROM pairs p LEFT JOIN reached r
        ON r.campaign_id = p.campaign_id AND r.occurrence = p.occurrence AND r.browser = p.browser
          AND r.target = p.target AND r.user_id = p.user_id
      GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
      ON CONFLICT (campaign_id, occurrence, browser, target) DO UPDATE SET users = t.users + excluded.users,
        sent = t.sent + excluded.sent, failed = t.failed + excluded.failed;
    END
  $fn$`,
  `CREATE FUNCTION ${s}.browser_deliveries_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      -- INSERT has "after" only, DELETE "before" only, UPDATE both.
      IF TG_OP = 'INSERT' THEN
        PERFORM ${s}.browser_delivery_changes(coalesce(jsonb_agg(c), '[]'))
        FROM (SELECT campaign_id, occurrence, user_id, browser, browser_target, status, 1 AS delta FROM after) c;
      ELSIF TG_OP = 'UPDATE' THEN
        PERFORM ${s}.browser_delivery_changes(coalesce(jsonb_agg(c), '[]'))
        FROM (SELECT campaign_id, occurrence, user_id, browser, browser_target, status, -1 AS delta FROM before
              UNION ALL
              SELECT campaign_id, occurrence, user_id, browser, browser_target, status, 1 FROM after) c;
      ELSE
        PERFORM ${s}.browser_delivery_changes(coalesce(jsonb_agg(c), '[]'))
        FROM (SELECT campaign_id, occurrence, user_id, browser, browser_target, status, -1 AS delta FROM before) c;
      END IF;
      RETURN NULL;
    END
  $fn$`,
  `CREATE TRIGGER browsers_on_insert AFTER INSERT ON ${s}.deliveries
     REFERENCING NEW TABLE AS after FOR EACH STATEMENT EXECUTE FUNCTION ${s}.browser_deliveries_changed()`,
  `CREATE TRIGGER browsers_on_update AFTER UPDATE ON ${s}.deliveries
     REFERENCING OLD TABLE AS before NEW TABLE AS after FOR EACH STATEMENT
     EXECUTE FUNCTION ${s}.browser_deliveries_changed()`,
  `CREATE TRIGGER browsers_on_delete AFTER DELETE ON ${s}.deliveries
     REFERENCING OLD TABLE AS before FOR EACH STATEMENT EXECUTE FUNCTION ${s}.browser_deliveries_changed()`,

  // Reports: viewed and clicked, under the report's own browser.
  `CREATE FUNCTION ${s}.browser_interactions_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        -- One upsert, no JSON: this runs on every report (the cost measured in bench/README.md, "Stats").
        INSERT INTO ${s}.browser_tallies AS t
          (campaign_id, occurrence, browser, target, users, sent, failed, viewed, clicked, conversions, revenue)
        SELECT campaign_id, occurrence, coalesce(browser, 'other'), coalesce(browser_target, 'web-push'), 0, 0, 0,
          count(*) FILTER (WHERE kind = 'viewed'), count(*) FILTER (WHERE kind = 'clicked'), 0, 0
        FROM after WHERE kind IN ('viewed', 'clicked') GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        ON CONFLICT (campaign_id, occurrence, browser, target) DO UPDATE SET viewed = t.viewed + excluded.viewed,
          clicked = t.clicked + excluded.clicked;
      ELSIF TG_OP = 'UPDATE' THEN
        PERFORM ${s}.apply_browser_deltas(coalesce(jsonb_agg(c), '[]'))
        FROM (SELECT campaign_id, occurrence, browser, browser_target AS target, 0 AS users, 0 AS sent, 0 AS failed,
                -(kind = 'viewed')::int AS viewed, -(kind = 'clicked')::int AS clicked, 0 AS conversions, 0 AS revenue
              FROM before WHERE kind IN ('viewed', 'clicked')
              UNION ALL
              SELECT campaign_id, occurrence, browser, browser_target, 0, 0, 0, (kind = 'viewed')::int,
                (kind = 'clicked')::int, 0, 0
              FROM after WHERE kind IN ('viewed', 'clicked')) c;
      ELSE
        PERFORM ${s}.apply_browser_deltas(coalesce(jsonb_agg(c), '[]'))
        FROM (SELECT campaign_id, occurrence, browser, browser_target AS target, 0 AS users, 0 AS sent, 0 AS failed,
                -(kind = 'viewed')::int AS viewed, -(kind = 'clicked')::int AS clicked, 0 AS conversions, 0 AS revenue
              FROM before WHERE kind IN ('viewed', 'clicked')) c;
      END IF;
      RETURN NULL;
    END
  $fn$`,
  `CREATE TRIGGER browsers_on_insert AFTER INSERT ON ${s}.interactions
     REFERENCING NEW TABLE AS after FOR EACH STATEMENT EXECUTE FUNCTION ${s}.browser_interactions_changed()`,
  `CREATE TRIGGER browsers_on_update AFTER UPDATE ON ${s}.interactions
     REFERENCING OLD TABLE AS before NEW TABLE AS after FOR EACH STATEMENT
     EXECUTE FUNCTION ${s}.browser_interactions_changed()`,
  `CREATE TRIGGER browsers_on_delete AFTER DELETE ON ${s}.interactions
     REFERENCING OLD TABLE AS before FOR EACH STATEMENT EXECUTE FUNCTION ${s}.browser_interactions_changed()`,

  // Conversions: recipients' (not control), with their revenue, under the conversion's browser.
  `CREATE FUNCTION ${s}.browser_conversions_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        PERFORM ${s}.apply_browser_deltas(coalesce(jsonb_agg(c), '[]'))
        FROM (SELECT campaign_id, occurrence, browser, browser_target AS target, 0 AS users, 0 AS sent, 0 AS failed,
                0 AS viewed, 0 AS clicked, 1 AS conversions, coalesce(revenue, 0) AS revenue
              FROM after WHERE NOT control) c;
      ELSIF TG_OP = 'UPDATE' THEN
        PERFORM ${s}.apply_browser_deltas(coalesce(jsonb_agg(c), '[]'))
        FROM (SELECT campaign_id, occurrence, browser, browser_target AS target, 0 AS users, 0 AS sent, 0 AS failed,
                0 AS viewed, 0 AS clicked, -1 AS conversions, -coalesce(revenue, 0) AS revenue
              FROM before WHERE NOT control
              UNION ALL
              SELECT campaign_id, occurrence, browser, browser_target, 0, 0, 0, 0, 0, 1, coalesce(revenue, 0)
              FROM after WHERE NOT control) c;
      ELSE
        PERFORM ${s}.apply_browser_deltas(coalesce(jsonb_agg(c), '[]'))
        FROM (SELECT campaign_id, occurrence, browser, browser_target AS target, 0 AS users, 0 AS sent, 0 AS failed,
                0 AS viewed, 0 AS clicked, -1 AS conversions, -coalesce(revenue, 0) AS revenue
              FROM before WHERE NOT control) c;
      END IF;
      RETURN NULL;
    END
  $fn$`,
  `CREATE TRIGGER browsers_on_insert AFTER INSERT ON ${s}.conversions
     REFERENCING NEW TABLE AS after FOR EACH STATEMENT EXECUTE FUNCTION ${s}.browser_conversions_changed()`,
  `CREATE TRIGGER browsers_on_update AFTER UPDATE ON ${s}.conversions
     REFERENCING OLD TABLE AS before NEW TABLE AS after FOR EACH STATEMENT
     EXECUTE FUNCTION ${s}.browser_conversions_changed()`,
  `CREATE TRIGGER browsers_on_delete AFTER DELETE ON ${s}.conversions
     REFERENCING OLD TABLE AS before FOR EACH STATEMENT EXECUTE FUNCTION ${s}.browser_conversions_changed()`,

  // Counts every row again: the backfill below, and after a TRUNCATE of any of the three tables
  // (a TRUNCATE of several at once leaves all of them empty by the time this runs).
  `CREATE FUNCTION ${s}.recount_browsers() RETURNS void LANGUAGE plpgsql AS $fn$
    BEGIN
      DELETE FROM ${s}.browser_users;
      INSERT INTO ${s}.browser_users (campaign_id, occurrence, browser, target, user_id, sent)
      SELECT campaign_id, occurrence, coalesce(browser, 'other'), coalesce(browser_target, 'web-push'), user_id, count(*)
      FROM ${s}.deliveries WHERE status = 'sent' GROUP BY 1, 2, 3, 4, 5;
      DELETE FROM ${s}.browser_tallies;
      INSERT INTO ${s}.browser_tallies
        (campaign_id, occurrence, browser, target, users, sent, failed, viewed, clicked, conversions, revenue)
      SELECT campaign_id, occurrence, browser, target, sum(users), sum(sent), sum(failed), sum(viewed), sum(clicked),
        sum(conversions), sum(revenue)
      FROM (SELECT campaign_id, occurrence, coalesce(browser, 'other') AS browser,
              coalesce(browser_target, 'web-push') AS target,
              count(DISTINCT user_id) FILTER (WHERE status = 'sent') AS users,
              count(*) FILTER (WHERE status = 'sent') AS sent, count(*) FILTER (WHERE status <> 'sent') AS failed,
              0 AS viewed, 0 AS clicked, 0 AS conversions, 0::numeric AS revenue
            FROM ${s}.deliveries GROUP BY 1, 2, 3, 4
            UNION ALL
            SELECT campaign_id, occurrence, coalesce(browser, 'other'), coalesce(browser_target, 'web-push'), 0, 0, 0,
              count(*) FILTER (WHERE kind = 'viewed'), count(*) FILTER (WHERE kind = 'clicked'), 0, 0
            FROM ${s}.interactions WHERE kind IN ('viewed', 'clicked') GROUP BY 1, 2, 3, 4
            UNION ALL
            SELECT campaign_id, occurrence, coalesce(browser, 'other'), coalesce(browser_target, 'web-push'), 0, 0, 0,
              0, 0, count(*), coalesce(sum(revenue), 0)
            FROM ${s}.conversions WHERE NOT control GROUP BY 1, 2, 3, 4) figures
      GROUP BY 1, 2, 3, 4;
    END
  $fn$`,
  `CREATE FUNCTION ${s}.browser_tallies_truncated() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM ${s}.recount_browsers();
      RETURN NULL;
    END
  $fn$`,
  `CREATE TRIGGER browsers_on_truncate AFTER TRUNCATE ON ${s}.deliveries
     FOR EACH STATEMENT EXECUTE FUNCTION ${s}.browser_tallies_truncated()`,
  `CREATE TRIGGER browsers_on_truncate AFTER TRUNCATE ON ${s}.interactions
     FOR EACH STATEMENT EXECUTE FUNCTION ${s}.browser_tallies_truncated()`,
  `CREATE TRIGGER browsers_on_truncate AFTER TRUNCATE ON ${s}.conversions
     FOR EACH STATEMENT EXECUTE FUNCTION ${s}.browser_tallies_truncated()`,

  `DROP INDEX ${s}.deliveries_browser_idx`,
  `SELECT ${s}.recount_browsers()`,
];
