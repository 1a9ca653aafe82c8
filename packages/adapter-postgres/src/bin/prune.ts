#!/usr/bin/env node
/**
 * herald-prune: Herald's retention pass for a cron job, on the database at
 * DATABASE_URL (schema from --schema or HERALD_SCHEMA, default `herald`).
 * Deletes tracked events, decision-log entries and failed queue jobs older
 * than the ages given, in bounded batches, keeping what live campaigns and
 * conversion attribution still read (docs/RETENTION.md). --dry-run prints
 * the cutoffs and how many rows are older, deleting nothing. SIGTERM or
 * SIGINT stops it between two batches; run it again to finish.
 *
 *   DATABASE_URL=postgres://… herald-prune --events 180d --decisions 90d --jobs 30d
 *
 * Prints one line per kind, then the whole result as one JSON line.
 */
import { parseArgs } from 'node:util';
import {
  consoleLogger,
  type PruneKind,
  type PruneOptions,
  type PruneResult,
  prune,
  ValidationError,
} from '@herald/core';
import pg from 'pg';
import { postgresQueue } from '../queue/index.js';
import { type SqlClient, toSqlClient } from '../sql/client.js';
import { quoteSchema } from '../sql/identifiers.js';
import { postgresStorage } from '../storage/index.js';

const USAGE = `usage: DATABASE_URL=postgres://... herald-prune [options]
  --events <age>        delete tracked events older than <age>
  --decisions <age>     delete decision-log entries older than <age>
  --jobs <age>          delete failed queue jobs whose last run was due more than <age> ago
  --older-than <age>    the age for every kind not given on its own
  --batch-size <n>      rows per DELETE (default 1000)
  --dry-run             print the cutoffs and how many rows are older; delete nothing
  --schema <name>       Herald's schema (default HERALD_SCHEMA or herald)
<age> is a number and a unit: 45s, 90m, 12h, 30d, 2w.
Live campaigns may move a cutoff back: what their windows still read is kept.`;

const KINDS: readonly PruneKind[] = ['events', 'decisions', 'jobs'];

/** How many rows each kind holds before its cutoff: what a dry run reports. */
const OLDER_ROWS: Record<PruneKind, (schema: string) => string> = {
  events: (schema) => `SELECT count(*)::int AS n FROM ${schema}.events WHERE "time" < $1::timestamptz`,
  decisions: (schema) => `SELECT count(*)::int AS n FROM ${schema}.decisions WHERE at < $1::timestamptz`,
  jobs: (schema) =>
    `SELECT count(*)::int AS n FROM ${schema}.jobs WHERE state = 'failed' AND run_at < $1::timestamptz`,
};

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string' },
      decisions: { type: 'string' },
      jobs: { type: 'string' },
      'older-than': { type: 'string' },
      'batch-size': { type: 'string' },
      'dry-run': { type: 'boolean' },
      schema: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const olderThan: PruneOptions['olderThan'] = {};
  for (const kind of KINDS) {
    const age = values[kind] ?? values['older-than'];
    if (age !== undefined) olderThan[kind] = age;
  }
  if (Object.keys(olderThan).length === 0) {
    console.error(
      `herald-prune: say what to prune (--events, --decisions, --jobs or --older-than)\n${USAGE}`,
    );
    return 2;
  }
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.error('herald-prune: set DATABASE_URL to Herald’s database (postgres://user@host:port/db)');
    return 2;
  }
  const schema = values.schema ?? process.env.HERALD_SCHEMA ?? 'herald';
  const dryRun = values['dry-run'] ?? false;
  const batchSize = values['batch-size'] === undefined ? undefined : Number(values['batch-size']);

  // One connection: batches run one after another, each its own short transaction.
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    const sql = toSqlClient(client);
    const result = await prune({
      storage: postgresStorage({ client: sql, schema }),
      queue: postgresQueue({ client: sql, schema }),
      olderThan,
      ...(batchSize === undefined ? {} : { batchSize }),
      dryRun,
      signal: stop.signal,
      // The bin prints its own lines; the engine's per-kind log would say the same again.
      logger: consoleLogger('warn'),
    });
    const older = dryRun ? await olderRows(sql, quoteSchema(schema), result) : null;
    for (const kind of KINDS) {
      const entry = result[kind];
      if (!entry) continue;
      const kept = entry.keptForCampaigns ? ' (moved back: live campaigns still read newer rows)' : '';
      const what = older
        ? `would delete ${older[kind]}`
        : `deleted ${entry.deleted}${entry.complete ? '' : ' (stopped before the end: run again)'}`;
      console.log(`herald-prune: ${kind} before ${entry.cutoff.toISOString()}${kept}: ${what}`);
    }
    console.log(JSON.stringify({ schema, ...result, ...(older ? { older } : {}) }));
    return KINDS.every((kind) => result[kind]?.complete ?? true) ? 0 : 1;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await client.end();
  }
}

async function olderRows(
  sql: SqlClient,
  schema: string,
  result: PruneResult,
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const kind of KINDS) {
    const entry = result[kind];
    if (!entry) continue;
    const { rows } = await sql.query<{ n: number }>(OLDER_ROWS[kind](schema), [entry.cutoff.toISOString()]);
    counts[kind] = rows[0]?.n ?? 0;
  }
  return counts;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ValidationError) {
      console.error(`herald-prune: ${error.message}\n${USAGE}`);
      process.exitCode = 2;
      return;
    }
    console.error('herald-prune failed:', error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
