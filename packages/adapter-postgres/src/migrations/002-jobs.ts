/**
 * The Postgres queue's jobs. Completed jobs are deleted; failed ones stay
 * for inspection. A job is `waiting` (claimable once run_at has come) or
 * `active` (leased until locked_until; claimable again after that).
 */
export default (schema: string): string[] => [
  `CREATE TABLE ${schema}.jobs (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL,
    payload       jsonb NOT NULL,
    run_at        timestamptz NOT NULL,
    dedupe_key    text,
    state         text NOT NULL CHECK (state IN ('waiting', 'active', 'failed')),
    attempts      integer NOT NULL DEFAULT 0,
    lock_token    text,
    locked_until  timestamptz,
    last_error    text
  )`,
  // At most one unfinished job per dedupe key; a failed job frees its key.
  `CREATE UNIQUE INDEX jobs_dedupe_key_idx ON ${schema}.jobs (dedupe_key) WHERE dedupe_key IS NOT NULL AND state IN ('waiting', 'active')`,
  `CREATE INDEX jobs_waiting_idx ON ${schema}.jobs (run_at, id) WHERE state = 'waiting'`,
  `CREATE INDEX jobs_active_idx ON ${schema}.jobs (locked_until) WHERE state = 'active'`,
];
