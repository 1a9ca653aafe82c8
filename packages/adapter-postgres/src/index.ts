export { type PostgresCountersOptions, postgresCounters } from './counters/index.js';
export { type MigrateOptions, migrate } from './migrate.js';
export { MIGRATIONS, type MigrateResult, type Migration } from './migrations/index.js';
export { type PostgresQueueOptions, postgresQueue } from './queue/index.js';
export type { PGliteLike, PgClientLike, PgPoolLike, PostgresClient, SqlClient } from './sql/client.js';
export { toSqlClient } from './sql/client.js';
export { type PostgresStorageOptions, postgresStorage } from './storage/index.js';
