import { ConfigError } from '@herald/core';
import type { SqlClient } from '../sql/client.js';
import { quoteSchema } from '../sql/identifiers.js';
import storage from './001-storage.js';
import jobs from './002-jobs.js';
import segmentsDecisions from './003-segments-decisions.js';
import eventsByName from './004-events-by-name.js';
import profileReach from './005-profile-reach.js';
import latestEvents from './006-latest-events.js';
import counters from './007-counters.js';
import campaignHistory from './008-campaign-history.js';
import campaignStats from './009-campaign-stats.js';
import campaignTallies from './010-campaign-tallies.js';
import browsersReportTallies from './011-browsers-report-tallies.js';
import retention from './012-retention.js';
import browserTallies from './013-browser-tallies.js';
import cheaperDeliveryWrites from './014-cheaper-delivery-writes.js';
import latestEventsByTime from './015-latest-events-by-time.js';
import lighterDeliveryWrites from './016-lighter-delivery-writes.js';
import oneDeliveryInsertTrigger from './017-one-delivery-insert-trigger.js';
import consumeCountersEach from './018-consume-counters-each.js';
import recipientUpdatesByKey from './019-recipient-updates-by-key.js';

export interface Migration {
  version: number;
  name: string;
  /** The statements, given the quoted schema name. Never edit a shipped migration: add the next one. */
  statements: (schema: string) => string[];
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'storage', statements: storage },
  { version: 2, name: 'jobs', statements: jobs },
  { version: 3, name: 'segments-decisions', statements: segmentsDecisions },
  { version: 4, name: 'events-by-name', statements: eventsByName },
  { version: 5, name: 'profile-reach', statements: profileReach },
  { version: 6, name: 'latest-events', statements: latestEvents },
  { version: 7, name: 'counters', statements: counters },
  { version: 8, name: 'campaign-history', statements: campaignHistory },
  { version: 9, name: 'campaign-stats', statements: campaignStats },
  { version: 10, name: 'campaign-tallies', statements: campaignTallies },
  { version: 11, name: 'browsers-report-tallies', statements: browsersReportTallies },
  { version: 12, name: 'retention', statements: retention },
  { version: 13, name: 'browser-tallies', statements: browserTallies },
  { version: 14, name: 'cheaper-delivery-writes', statements: cheaperDeliveryWrites },
  { version: 15, name: 'latest-events-by-time', statements: latestEventsByTime },
  { version: 16, name: 'lighter-delivery-writes', statements: lighterDeliveryWrites },
  { version: 17, name: 'one-delivery-insert-trigger', statements: oneDeliveryInsertTrigger },
  { version: 18, name: 'consume-counters-each', statements: consumeCountersEach },
  { version: 19, name: 'recipient-updates-by-key', statements: recipientUpdatesByKey },
];

export interface MigrateResult {
  /** Versions applied by this call (empty when the schema was already current). */
  applied: number[];
  /** The schema's version afterwards. */
  version: number;
}

/**
 * Brings `schema` up to the latest version in one transaction. A
 * transaction-scoped advisory lock keyed on the schema name serialises
 * concurrent callers (two processes starting at once): the second waits,
 * then finds everything applied.
 */
export async function runMigrations(sql: SqlClient, schemaName: string): Promise<MigrateResult> {
  const schema = quoteSchema(schemaName);
  return sql.transaction(async (tx) => {
    await requireServerVersion(tx);
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`herald.migrate:${schemaName}`]);
    await tx.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (
        version     integer PRIMARY KEY,
        name        text NOT NULL,
        applied_at  timestamptz NOT NULL DEFAULT now()
      )`,
    );
    const { rows } = await tx.query<{ version: number }>(`SELECT version FROM ${schema}.schema_migrations`);
    const done = new Set(rows.map((row) => row.version));
    const applied: number[] = [];
    for (const migration of MIGRATIONS) {
      if (done.has(migration.version)) continue;
      for (const statement of migration.statements(schema)) await tx.query(statement);
      await tx.query(`INSERT INTO ${schema}.schema_migrations (version, name) VALUES ($1, $2)`, [
        migration.version,
        migration.name,
      ]);
      applied.push(migration.version);
    }
    const version = Math.max(0, ...done, ...applied);
    return { applied, version };
  });
}

/** The oldest PostgreSQL the migrations run on: 017 uses `date_bin` (14). */
export const MIN_SERVER_VERSION_NUM = 140000;

/** Refuses an older server by name and version, before any statement could fail halfway with a bare SQL error. */
async function requireServerVersion(tx: Pick<SqlClient, 'query'>): Promise<void> {
  const { rows } = await tx.query<{ num: string; version: string }>(
    `SELECT current_setting('server_version_num') AS num, current_setting('server_version') AS version`,
  );
  if (rows[0]) assertSupportedServer(rows[0]);
}

/** Throws a ConfigError naming the server's version when it is older than the migrations need. */
export function assertSupportedServer(server: { num: string; version: string }): void {
  if (Number(server.num) < MIN_SERVER_VERSION_NUM) {
    throw new ConfigError(
      `Herald's Postgres adapter needs PostgreSQL 14 or newer; this server is ${server.version}`,
    );
  }
}
