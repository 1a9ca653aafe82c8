import type { PGlite } from '@electric-sql/pglite';
import { MIGRATIONS } from '../src/index.js';

/**
 * The `herald` schema as it stood before migration `version`: every earlier migration applied and
 * recorded, as a database upgraded from that release holds it, so a test can store rows and then
 * run `migrate()` over them.
 */
export async function schemaBefore(db: PGlite, version: number): Promise<void> {
  await db.exec(`CREATE SCHEMA herald;
    CREATE TABLE herald.schema_migrations (version integer PRIMARY KEY, name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`);
  for (const migration of MIGRATIONS.filter((candidate) => candidate.version < version)) {
    for (const statement of migration.statements('herald')) await db.exec(statement);
    await db.query(`INSERT INTO herald.schema_migrations (version, name) VALUES ($1, $2)`, [
      migration.version,
      migration.name,
    ]);
  }
}
