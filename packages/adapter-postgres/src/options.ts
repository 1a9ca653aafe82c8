import { parseInput } from '@herald/core';
import { z } from 'zod';
import type { PostgresClient, SqlClient } from './sql/client.js';

/**
 * The options every factory of this package takes, parsed at the call: a misspelt key (`shcema`)
 * would otherwise be dropped without a word and the factory would run on the default schema, where
 * no table may exist, or worse, another install's tables do.
 */
const Client = z.custom<PostgresClient | SqlClient>(
  (value) =>
    typeof value === 'object' && value !== null && typeof (value as { query?: unknown }).query === 'function',
  { message: 'must be a pg Pool or Client, or a PGlite instance' },
);

/** `migrate`, `postgresQueue`, `postgresCounters`. */
export const ClientOptions = z.strictObject({
  client: Client,
  schema: z.string({ error: 'must be a schema name (a string)' }).optional(),
});

/** `postgresStorage`. */
export const StorageOptions = ClientOptions.extend({
  preparedStatements: z.boolean({ error: 'must be true or false' }).optional(),
});

/** The options of `factory`, or a ValidationError naming each bad key. */
export function parseOptions<S extends z.ZodType>(schema: S, options: unknown, factory: string): z.output<S> {
  return parseInput(schema, options, `${factory} options`);
}
