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
 * `interactions_occurrence_idx`: reports are counted per (campaign,
 * occurrence, kind) with distinct users; the index of migration 001 is on
 * (campaign_id, kind) only, so each per-run read would visit every report of
 * the campaign in the heap. With the occurrence and the user in the index the
 * grouped count is an index-only scan in group order.
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
  `CREATE INDEX interactions_occurrence_idx ON ${s}.interactions (campaign_id, occurrence, kind, user_id)`,
];
