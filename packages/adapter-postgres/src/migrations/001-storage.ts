/**
 * Herald's storage tables. User ids use the "C" collation so keyset pages
 * (`user_id > $after ORDER BY user_id`) order by bytes, the same on every
 * host whatever its default collation, and the btree serves them directly.
 *
 * There are no foreign keys between these tables on purpose: events and
 * subscriptions may arrive before a profile, and per-recipient rows are
 * written at fan-out rates where an FK check per row is pure cost.
 */
export default (s: string): string[] => [
  `CREATE TABLE ${s}.profiles (
    user_id     text COLLATE "C" PRIMARY KEY,
    properties  jsonb NOT NULL DEFAULT '{}',
    timezone    text,
    test        boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
  )`,
  // Containment (@>) lookups on properties; jsonb_path_ops is smaller and faster than the default opclass for @>.
  `CREATE INDEX profiles_properties_idx ON ${s}.profiles USING gin (properties jsonb_path_ops)`,
  `CREATE INDEX profiles_test_idx ON ${s}.profiles (user_id) WHERE test`,

  `CREATE TABLE ${s}.subscriptions (
    id               text COLLATE "C" PRIMARY KEY,
    user_id          text COLLATE "C" NOT NULL,
    target           text NOT NULL CHECK (target IN ('webpush', 'safari')),
    endpoint         text,
    keys             jsonb,
    -- SQL NULL: absent; JSON null: explicitly null (PushSubscriptionJSON distinguishes them).
    expiration_time  jsonb,
    device_token     text,
    timezone         text,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    CHECK ((target = 'webpush' AND endpoint IS NOT NULL) OR (target = 'safari' AND device_token IS NOT NULL))
  )`,
  `CREATE INDEX subscriptions_user_target_idx ON ${s}.subscriptions (user_id, target)`,

  `CREATE TABLE ${s}.events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     text COLLATE "C" NOT NULL,
    name        text NOT NULL,
    time        timestamptz NOT NULL,
    properties  jsonb NOT NULL DEFAULT '{}'
  )`,
  // A user's history of one event in a window: listEvents and behaviour segments.
  `CREATE INDEX events_user_name_time_idx ON ${s}.events (user_id, name, time)`,
  // Events arrive roughly in time order, so a BRIN on time prunes whole-table window scans for a few pages of index.
  `CREATE INDEX events_time_brin ON ${s}.events USING brin (time)`,

  `CREATE TABLE ${s}.campaigns (
    id           text COLLATE "C" PRIMARY KEY,
    status       text NOT NULL,
    next_run_at  timestamptz,
    version      integer NOT NULL,
    labels       text[] NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    -- The whole campaign as Herald's Campaign schema reads it; the columns above are copies for indexing.
    doc          jsonb NOT NULL
  )`,
  `CREATE INDEX campaigns_due_idx ON ${s}.campaigns (next_run_at) WHERE next_run_at IS NOT NULL`,
  `CREATE INDEX campaigns_status_idx ON ${s}.campaigns (status)`,
  `CREATE INDEX campaigns_labels_idx ON ${s}.campaigns USING gin (labels)`,

  // One decision per (campaign, occurrence, user): the primary key is what makes sends idempotent.
  `CREATE TABLE ${s}.recipients (
    campaign_id  text COLLATE "C" NOT NULL,
    occurrence   text NOT NULL,
    user_id      text COLLATE "C" NOT NULL,
    state        text NOT NULL CHECK (state IN ('pending', 'delivered', 'undeliverable', 'skipped', 'control')),
    reason       text,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (campaign_id, occurrence, user_id)
  )`,

  `CREATE TABLE ${s}.deliveries (
    campaign_id      text NOT NULL,
    occurrence       text NOT NULL,
    subscription_id  text NOT NULL,
    user_id          text COLLATE "C" NOT NULL,
    status           text NOT NULL CHECK (status IN ('sent', 'failed', 'gone')),
    status_code      integer,
    reason           text,
    attempts         integer NOT NULL,
    at               timestamptz NOT NULL,
    PRIMARY KEY (campaign_id, occurrence, subscription_id)
  )`,
  `CREATE INDEX deliveries_recipient_idx ON ${s}.deliveries (campaign_id, occurrence, user_id)`,

  `CREATE TABLE ${s}.interactions (
    report_id    text PRIMARY KEY,
    campaign_id  text NOT NULL,
    occurrence   text NOT NULL,
    user_id      text COLLATE "C" NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('viewed', 'clicked', 'closed')),
    action       text,
    at           timestamptz NOT NULL
  )`,
  `CREATE INDEX interactions_campaign_idx ON ${s}.interactions (campaign_id, kind)`,

  // Segment date conditions read a property holding an ISO 8601 string or epoch milliseconds exactly as
  // core's reference evaluator does (rule 7 of segments/evaluate.ts, including JavaScript's Date.parse
  // quirks: day 31 of any month rolls over, 24:00 is the next midnight, fractions truncate to ms),
  // NULL for anything else. Checked against the evaluator by the adapter's equivalence tests.
  `CREATE FUNCTION ${s}.iso_epoch_ms(t text) RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT CASE
      WHEN m IS NULL THEN NULL
      WHEN m[2]::int NOT BETWEEN 1 AND 12 OR m[3]::int NOT BETWEEN 1 AND 31 THEN NULL
      WHEN m[4] IS NOT NULL AND (
        m[4]::int > 24 OR m[5]::int > 59 OR coalesce(m[6], '0')::int > 59
        OR (m[4]::int = 24 AND (m[5]::int > 0 OR coalesce(m[6], '0')::int > 0 OR coalesce(m[7], '') ~ '[1-9]'))
      ) THEN NULL
      WHEN m[8] IS NOT NULL AND (m[9]::int > 23 OR m[10]::int > 59) THEN NULL
      ELSE
        -- Days from the epoch to the first of the month (+400 years keeps make_date off year 0; the
        -- Gregorian cycle is 146097 days), then the day of month, which may overflow the month as in V8.
        ((make_date(m[1]::int + 400, m[2]::int, 1) - date '1970-01-01') - 146097 + m[3]::int - 1)::float8 * 86400000
        + coalesce(m[4]::int, 0) * 3600000 + coalesce(m[5]::int, 0) * 60000 + coalesce(m[6]::int, 0) * 1000
        + coalesce(left(m[7] || '00', 3)::int, 0)
        - CASE m[8] WHEN '+' THEN 1 WHEN '-' THEN -1 ELSE 0 END
          * (coalesce(m[9]::int, 0) * 3600000 + coalesce(m[10]::int, 0) * 60000)
    END
    FROM (SELECT regexp_match(t, '^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\\.([0-9]{1,9}))?)?(?:Z|([+-])([0-9]{2}):?([0-9]{2}))?)?$') AS m) AS parsed
  $fn$`,
  `CREATE FUNCTION ${s}.epoch_ms(value jsonb) RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT CASE jsonb_typeof(value)
      WHEN 'number' THEN (value)::float8
      WHEN 'string' THEN ${s}.iso_epoch_ms(value #>> '{}')
    END
  $fn$`,
];
