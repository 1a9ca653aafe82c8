/**
 * Saved segments, the decision log and conversions,
 * and the indexes behind behaviour segments and per-user histories.
 */
export default (schema: string): string[] => [
  `CREATE TABLE ${schema}.segments (
    id          text COLLATE "C" PRIMARY KEY,
    name        text COLLATE "C" NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    -- The whole SavedSegment as core's schema reads it.
    doc         jsonb NOT NULL
  )`,
  `CREATE INDEX segments_name_idx ON ${schema}.segments (name, id)`,

  // An append-only log: several decisions per recipient (delayed, then sent), read per user.
  `CREATE TABLE ${schema}.decisions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id  text COLLATE "C" NOT NULL,
    occurrence   text NOT NULL,
    user_id      text COLLATE "C" NOT NULL,
    at           timestamptz NOT NULL,
    outcome      text NOT NULL,
    reason       text,
    facts        jsonb NOT NULL DEFAULT '{}'
  )`,
  `CREATE INDEX decisions_user_at_idx ON ${schema}.decisions (user_id, at, id)`,

  // One conversion per (campaign, occurrence, user): last-touch attribution records it once.
  `CREATE TABLE ${schema}.conversions (
    campaign_id  text COLLATE "C" NOT NULL,
    occurrence   text NOT NULL,
    user_id      text COLLATE "C" NOT NULL,
    control      boolean NOT NULL,
    at           timestamptz NOT NULL,
    event_name   text NOT NULL,
    -- numeric: revenue sums exactly, whatever the order rows are added in.
    revenue      numeric,
    PRIMARY KEY (campaign_id, occurrence, user_id)
  )`,

  `CREATE INDEX interactions_user_at_idx ON ${schema}.interactions (user_id, at)`,
];
