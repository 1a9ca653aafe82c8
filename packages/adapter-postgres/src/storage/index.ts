import type { Storage } from '@herald/core';
import { parseOptions, StorageOptions } from '../options.js';
import { isEmbedded, type PostgresClient, type SqlClient, toSqlClient } from '../sql/client.js';
import { quoteSchema } from '../sql/identifiers.js';
import { audience } from './audience.js';
import { campaignBrowsers } from './browsers.js';
import { campaignHistory } from './campaign-history.js';
import { campaigns } from './campaigns.js';
import { conversions } from './conversions.js';
import { decisionLog } from './decisions.js';
import { events } from './events.js';
import { outcomes } from './outcomes.js';
import { profiles } from './profiles.js';
import { retention } from './retention.js';
import { savedSegments } from './segments.js';
import { campaignStatistics } from './stats.js';
import { subscriptions } from './subscriptions.js';
import { campaignTimeline } from './timeline.js';

export interface PostgresStorageOptions {
  /** A `pg` Pool (or connected Client) or a PGlite instance. Herald never closes it. */
  client: PostgresClient | SqlClient;
  /** The schema holding Herald's tables, apart from the host's; created by `migrate()`. Default `herald`. */
  schema?: string;
  /**
   * Run the delivery path's statements (a job's profiles, subscriptions,
   * recipients and outcomes) as named prepared statements on a `pg` Pool or
   * Client: parsed once per connection and then run on a generic plan,
   * which spares Postgres about a tenth of its CPU per message. Default
   * true. Turn it off behind a pooler in transaction mode without
   * prepared-statement support (PgBouncer before 1.21, or with
   * `max_prepared_statements = 0`); Herald says so with a `ConfigError` at
   * the first statement that meets one. PGlite ignores it.
   */
  preparedStatements?: boolean;
}

/**
 * Herald's Storage on Postgres. The schema must have been migrated first
 * (`migrate({ client, schema })` or the `herald-migrate` bin); this factory
 * runs no DDL, so starting an app never races a migration.
 */
export function postgresStorage(options: PostgresStorageOptions): Storage {
  const {
    client,
    schema: schemaName,
    preparedStatements,
  } = parseOptions(StorageOptions, options, 'postgresStorage');
  const sql = toSqlClient(client, { prepare: preparedStatements ?? true });
  const schema = quoteSchema(schemaName ?? 'herald');
  return {
    capabilities: { nativeSegments: true, shared: !isEmbedded(client) },
    ...profiles(sql, schema),
    ...subscriptions(sql, schema),
    ...events(sql, schema),
    ...campaigns(sql, schema),
    ...campaignHistory(sql, schema),
    ...audience(sql, schema),
    ...outcomes(sql, schema),
    ...savedSegments(sql, schema),
    ...decisionLog(sql, schema),
    ...conversions(sql, schema),
    ...campaignStatistics(sql, schema),
    ...campaignTimeline(sql, schema),
    ...retention(sql, schema),
    ...campaignBrowsers(sql, schema),
  };
}
