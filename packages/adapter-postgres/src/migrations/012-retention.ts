/**
 * Retention (issue 15): the indexes that keep a prune pass cheap. Each pass
 * deletes rows older than a cutoff in bounded batches; without an index on
 * the instant, every batch would scan the whole table from the start.
 *
 * - `decisions_at_brin`: decisions are appended in time order (the engine's
 *   clock), so a BRIN on `at` finds the old block ranges from a few pages
 *   of index and costs next to nothing per insert at fan-out rates, where a
 *   btree would add one entry per decision. Events already have one
 *   (`events_time_brin`, migration 001).
 * - `jobs_failed_idx`: failed jobs by the due instant of their last run, in
 *   the order the pass takes them. Partial, so the hot waiting/active rows
 *   never pay for it (completed jobs are deleted, never failed).
 */
export default (s: string): string[] => [
  `CREATE INDEX decisions_at_brin ON ${s}.decisions USING brin (at)`,
  `CREATE INDEX jobs_failed_idx ON ${s}.jobs (run_at) WHERE state = 'failed'`,
];
