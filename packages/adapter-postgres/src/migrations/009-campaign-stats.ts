/**
 * Campaign statistics per occurrence (issue 16).
 *
 * `audience_pages`: one row per audience page that fan-out queued, with how
 * many users it read. Why: recipient rows appear only when a delivery batch
 * is picked up, so without it a run cannot tell users still waiting in
 * queued batches from users never meant to get it. One small insert per page
 * (hundreds of users) is the cheapest write that counts them: nothing is
 * written per user, and the primary key makes a page re-run count once.
 *
 * Covering indexes for the per-run and total counts, so each is an
 * index-only scan of one campaign's entries, already in group order, rather
 * than a visit of every row in the heap (at 1,000,000 recipients the heap
 * visits were most of the time of `campaigns.stats`):
 * - `recipients_stats_idx`: state, reason and updated_at (settledAt) per
 *   occurrence. The price: a recipient's state change is no longer a HOT
 *   update (one more index entry per change; each recipient changes once or
 *   twice in its life).
 * - `deliveries_stats_idx`: outcomes per occurrence (deliveries are only
 *   inserted, never updated).
 * - `interactions_occurrence_idx`: reports per occurrence and kind, with the
 *   user (distinct users) and the action; the index of migration 001 is on
 *   (campaign_id, kind) only.
 */
export default (s: string): string[] => [
  `CREATE TABLE ${s}.audience_pages (
    campaign_id  text COLLATE "C" NOT NULL,
    occurrence   text COLLATE "C" NOT NULL,
    after        text COLLATE "C" NOT NULL,
    users        integer NOT NULL,
    last         boolean NOT NULL,
    at           timestamptz NOT NULL,
    PRIMARY KEY (campaign_id, occurrence, after)
  )`,
  `CREATE INDEX recipients_stats_idx ON ${s}.recipients (campaign_id, occurrence, state, reason) INCLUDE (updated_at)`,
  `CREATE INDEX deliveries_stats_idx ON ${s}.deliveries (campaign_id, occurrence, status)`,
  `CREATE INDEX interactions_occurrence_idx ON ${s}.interactions (campaign_id, occurrence, kind, user_id) INCLUDE (action)`,
];
