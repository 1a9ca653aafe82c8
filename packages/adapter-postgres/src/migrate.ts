import { type MigrateResult, runMigrations } from './migrations/index.js';
import { ClientOptions, parseOptions } from './options.js';
import { type PostgresClient, type SqlClient, toSqlClient } from './sql/client.js';

export interface MigrateOptions {
  client: PostgresClient | SqlClient;
  /** Default `herald`. */
  schema?: string;
}

/**
 * Creates or upgrades Herald's schema. Idempotent, and safe when several
 * processes call it at once (they queue on an advisory lock).
 */
export function migrate(options: MigrateOptions): Promise<MigrateResult> {
  const { client, schema } = parseOptions(ClientOptions, options, 'migrate');
  return runMigrations(toSqlClient(client), schema ?? 'herald');
}
