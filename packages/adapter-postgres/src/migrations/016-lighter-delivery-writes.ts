/**
 * Lighter delivery writes (issue 19): Postgres's share of a delivered message, on the rows every
 * delivery job writes — a recipient inserted `pending` then updated to its outcome, and a
 * delivery row per subscription with its browser tallies.
 *
 * - `recipients_stats_idx` (migration 009) is dropped. Since the tallies of migration 010 it had
 *   one reader, `recompute_settled`, which runs only when a statement deletes recipients or moves
 *   a settled one (Herald does neither: a job only moves rows out of `pending`, retention never
 *   deletes recipients; an operator's hand-written statement can). Yet every recipient paid for
 *   it: an index entry per insert, and, because it indexes `state`, every pending → delivered
 *   UPDATE was non-HOT (a new heap tuple elsewhere, and new entries in both indexes). It also
 *   tied with the primary key for `getRecipients` on a table not yet analyzed, and won as the
 *   table grew (a scan of the whole run per call); the primary key is now the only index of the table. `recompute_settled` now finds a
 *   group's latest instant through the primary key's (campaign_id, occurrence) prefix: one scan of
 *   the run per group that lost its latest row, in those rare statements only.
 * - `fillfactor = 50` on `recipients`: rows go in by batches that fill their pages, and each is
 *   updated once, moments later, by the same job; a HOT update needs room for the new version on
 *   the same page. Half a page free holds one new version of every row on it. It costs no disk
 *   against before: a non-HOT update put the new version on another page, so the table grew to
 *   twice its rows' size as well, and the old versions are pruned (HOT) or vacuumed (not) either
 *   way. Pages written before this migration keep their fill; new ones follow the setting.
 * - `browser_deliveries_changed()` (migration 013), on INSERT (the delivery path; UPDATE and
 *   DELETE keep their code): the same upserts of `browser_users` and `browser_tallies`, in the
 *   same key order and transaction, now straight from the transition table instead of through
 *   `jsonb_agg` and `jsonb_to_recordset` (`browser_delivery_changes`), as migration 014 did for
 *   the recipients' tallies. An insert only adds messages, so a pair is newly reached exactly
 *   when its count after the upsert is what this statement brought. Migration 013's concurrency
 *   argument holds unchanged.
 *
 * Measured in bench/README.md ("Where a message's CPU goes").
 */
export default (s: string): string[] => [
  `DROP INDEX ${s}.recipients_stats_idx`,
  `ALTER TABLE ${s}.recipients SET (fillfactor = 50)`,
  `CREATE OR REPLACE FUNCTION ${s}.browser_deliveries_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      -- INSERT has "after" only, DELETE "before" only, UPDATE both.
      IF TG_OP = 'INSERT' THEN
        WITH pairs AS (
          SELECT campaign_id, occurrence, user_id, coalesce(browser, 'other') AS browser,
            coalesce(browser_target, 'web-push') AS target,
            count(*) FILTER (WHERE status = 'sent') AS sent, count(*) FILTER (WHERE status <> 'sent') AS failed
          FROM after
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
];
