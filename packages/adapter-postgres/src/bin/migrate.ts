#!/usr/bin/env node
/**
 * herald-migrate: creates or upgrades Herald's schema on the database at
 * DATABASE_URL. `--schema <name>` (or HERALD_SCHEMA) picks the schema; the
 * default is `herald`. Safe to run from several deploys at once.
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { migrate } from '../migrate.js';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { schema: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log('usage: DATABASE_URL=postgres://... herald-migrate [--schema herald]');
    return 0;
  }
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.error(
      'herald-migrate: set DATABASE_URL to the database to migrate (postgres://user@host:port/db)',
    );
    return 2;
  }
  const schema = values.schema ?? process.env.HERALD_SCHEMA ?? 'herald';
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await migrate({ client, schema });
    console.log(
      result.applied.length
        ? `herald-migrate: schema "${schema}" migrated to version ${result.version} (applied ${result.applied.join(', ')})`
        : `herald-migrate: schema "${schema}" already at version ${result.version}`,
    );
    return 0;
  } finally {
    await client.end();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error('herald-migrate failed:', error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
