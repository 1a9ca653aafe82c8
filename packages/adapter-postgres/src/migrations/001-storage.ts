/**
 * Herald's storage tables. User ids use the "C" collation so keyset pages
 * (`user_id > $after ORDER BY user_id`) order by bytes, the same on every
 * host whatever its default collation, and the btree serves them directly.
 *
 * There are no foreign keys between these tables on purpose: events and
 * subscriptions may arrive before a profile, and per-recipient rows are
 * written at fan-out rates where an FK check per row is pure cost.
 */
export default (schema: string): string[] => [
  `CREATE TABLE ${schema}.profiles (
    user_id     text COLLATE "C" PRIMARY KEY,
    properties  jsonb NOT NULL DEFAULT '{}',
    timezone    text,
    test        boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
  )`,
  // Containment (@>) lookups on properties; jsonb_path_ops is smaller and faster than the default opclass for @>.
  `CREATE INDEX profiles_properties_idx ON ${schema}.profiles USING gin (properties jsonb_path_ops)`,
  `CREATE INDEX profiles_test_idx ON ${schema}.profiles (user_id) WHERE test`,

  `CREATE TABLE ${schema}.subscriptions (
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
  `CREATE INDEX subscriptions_user_target_idx ON ${schema}.subscriptions (user_id, target)`,

  `CREATE TABLE ${schema}.events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     text COLLATE "C" NOT NULL,
    name        text NOT NULL,
    time        timestamptz NOT NULL,
    properties  jsonb NOT NULL DEFAULT '{}'
  )`,
  // A user's history of one event in a window: listEvents and behaviour segments.
  `CREATE INDEX events_user_name_time_idx ON ${schema}.events (user_id, name, time)`,
  // Events arrive roughly in time order, so a BRIN on time prunes whole-table window scans for a few pages of index.
  `CREATE INDEX events_time_brin ON ${schema}.events USING brin (time)`,

  `CREATE TABLE ${schema}.campaigns (
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
  `CREATE INDEX campaigns_due_idx ON ${schema}.campaigns (next_run_at) WHERE next_run_at IS NOT NULL`,
  `CREATE INDEX campaigns_status_idx ON ${schema}.campaigns (status)`,
  `CREATE INDEX campaigns_labels_idx ON ${schema}.campaigns USING gin (labels)`,

  // One decision per (campaign, occurrence, user): the primary key is what makes sends idempotent.
  `CREATE TABLE ${schema}.recipients (
    campaign_id  text COLLATE "C" NOT NULL,
    occurrence   text NOT NULL,
    user_id      text COLLATE "C" NOT NULL,
    state        text NOT NULL CHECK (state IN ('pending', 'delivered', 'undeliverable', 'skipped', 'control')),
    reason       text,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (campaign_id, occurrence, user_id)
  )`,

  `CREATE TABLE ${schema}.deliveries (
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
  `CREATE INDEX deliveries_recipient_idx ON ${schema}.deliveries (campaign_id, occurrence, user_id)`,

  `CREATE TABLE ${schema}.interactions (
    report_id    text PRIMARY KEY,
    campaign_id  text NOT NULL,
    occurrence   text NOT NULL,
    user_id      text COLLATE "C" NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('viewed', 'clicked', 'closed')),
    action       text,
    at           timestamptz NOT NULL
  )`,
  `CREATE INDEX interactions_campaign_idx ON ${schema}.interactions (campaign_id, kind)`,

  // Segment date conditions read a property holding an ISO 8601 string or epoch milliseconds exactly as
  // core's reference evaluator does (rule 7 of segments/evaluate.ts: strict calendar dates, hours 0-23,
  // no offset means UTC, fractions truncated to ms), NULL for anything else, and never raise an error
  // on a bad string. Checked against the evaluator by the adapter's equivalence tests.
  // No regular expressions: Postgres' regex engine costs microseconds to milliseconds per value on
  // this pattern. Mapping every digit to 9 gives the text's shape ('2024-05-01T10:00Z' becomes
  // '9999-99-99T99:99Z'), which plain string comparisons check; the fixed-width parts are then read
  // by position. Only ASCII digits count, as in the evaluator's \d.
  `CREATE FUNCTION ${schema}.iso_epoch_ms(t text) RETURNS double precision
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
    DECLARE
      shape text := translate(t, '012345678', '999999999');
      p int := 17;
      n int;
      zone text;
      y int; mo int; d int; h int := 0; mi int := 0; sec int := 0; ms int := 0;
      oh int := 0; om int := 0; sign int := 1;
    BEGIN
      IF left(shape, 10) <> '9999-99-99' THEN RETURN NULL; END IF;
      IF length(shape) > 10 THEN
        IF substr(shape, 11, 6) <> 'T99:99' THEN RETURN NULL; END IF;
        h := substr(t, 12, 2)::int;
        mi := substr(t, 15, 2)::int;
        IF substr(shape, p, 3) = ':99' THEN
          sec := substr(t, p + 1, 2)::int;
          p := p + 3;
          IF substr(shape, p, 1) = '.' THEN
            n := length(substr(shape, p + 1)) - length(ltrim(substr(shape, p + 1), '9'));
            IF n NOT BETWEEN 1 AND 9 THEN RETURN NULL; END IF;
            ms := rpad(substr(t, p + 1, least(n, 3)), 3, '0')::int;  -- truncated to milliseconds
            p := p + 1 + n;
          END IF;
        END IF;
        zone := substr(shape, p);
        IF zone IN ('+99:99', '-99:99', '+9999', '-9999') THEN
          sign := CASE substr(t, p, 1) WHEN '-' THEN -1 ELSE 1 END;
          oh := substr(t, p + 1, 2)::int;
          om := right(t, 2)::int;
        ELSIF zone NOT IN ('', 'Z') THEN
          RETURN NULL;
        END IF;
      END IF;
      -- +400 years (one Gregorian cycle, 146097 days) keeps make_date away from year 0, which it rejects.
      y := left(t, 4)::int + 400;
      mo := substr(t, 6, 2)::int;
      d := substr(t, 9, 2)::int;
      IF mo NOT BETWEEN 1 AND 12 OR d < 1 OR h > 23 OR mi > 59 OR sec > 59 OR oh > 23 OR om > 59 THEN
        RETURN NULL;
      END IF;
      IF d > extract(day FROM make_date(y, mo, 1) + interval '1 month - 1 day') THEN RETURN NULL; END IF;
      RETURN ((make_date(y, mo, d) - date '1970-01-01') - 146097)::float8 * 86400000
        + h * 3600000 + mi * 60000 + sec * 1000 + ms - sign * (oh * 3600000 + om * 60000);
    END
  $fn$`,
  `CREATE FUNCTION ${schema}.epoch_ms(value jsonb) RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT CASE jsonb_typeof(value)
      WHEN 'number' THEN (value)::float8
      WHEN 'string' THEN ${schema}.iso_epoch_ms(value #>> '{}')
    END
  $fn$`,
];
