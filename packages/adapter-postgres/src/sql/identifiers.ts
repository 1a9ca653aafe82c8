import { ConfigError } from '@herald/core';

/** Postgres identifiers Herald accepts for its schema: lower case, so they never need case-folding rules. */
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Validates a schema name and returns it double-quoted, ready to splice into SQL. */
export function quoteSchema(name: string): string {
  if (!IDENTIFIER.test(name)) {
    throw new ConfigError(
      `Invalid Postgres schema name ${JSON.stringify(name)}: use 1-63 characters of a-z, 0-9 and _, not starting with a digit`,
    );
  }
  return `"${name}"`;
}
