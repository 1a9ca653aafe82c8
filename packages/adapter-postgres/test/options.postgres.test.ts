import { ConfigError, ValidationError } from '@herald/core';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, postgresCounters, postgresQueue, postgresStorage } from '../src/index.js';
import { testPool } from './helpers.js';

/**
 * Every factory of the package parses its options where it is called: a misspelt key would
 * otherwise be dropped, and the factory run on the default schema (where no table may exist, or
 * another install's do), and a connection string passed as the client would fail at the first query.
 */
describe('options of the Postgres adapter', () => {
  let pool: pg.Pool;
  beforeAll(() => {
    pool = testPool(1);
  });
  afterAll(() => pool.end());

  const factories = {
    postgresStorage: (options: unknown) => postgresStorage(options as never),
    postgresQueue: (options: unknown) => postgresQueue(options as never),
    postgresCounters: (options: unknown) => postgresCounters(options as never),
    migrate: (options: unknown) => migrate(options as never),
  };

  for (const [name, create] of Object.entries(factories)) {
    it(`${name} refuses a misspelt key, naming it and the key meant`, async () => {
      const error = await (async () => create({ client: pool, shcema: 'app' }))().catch(
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as Error).message).toContain(`${name} options`);
      expect((error as ValidationError).issues).toEqual([
        { path: 'shcema', message: 'unknown key; did you mean "schema"?' },
      ]);
    });

    it(`${name} refuses a connection string where the client goes`, async () => {
      const error = await (async () => create({ client: 'postgres://herald@127.0.0.1/app' }))().catch(
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).issues).toEqual([
        { path: 'client', message: 'must be a pg Pool or Client, or a PGlite instance' },
      ]);
    });
  }

  it('postgresStorage refuses a preparedStatements that is not a boolean', () => {
    expect(() => postgresStorage({ client: pool, preparedStatements: 'no' } as never)).toThrow(
      /preparedStatements: must be true or false/,
    );
  });

  it('says a schema was never migrated, and how to mend it, instead of only "relation does not exist"', async () => {
    // A schema nobody migrated: the user forgot migrate(), or gave it another schema than the factories.
    const schema = 'herald_never_migrated';
    const hint =
      /Herald's schema is not there\. Run migrate\(\{ client, schema \}\) \(or herald-migrate, with --schema\)/;
    const storageError = await postgresStorage({ client: pool, schema })
      .getProfile('ada' as never)
      .catch((caught: unknown) => caught);
    expect(storageError).toBeInstanceOf(ConfigError);
    expect((storageError as Error).message).toMatch(
      /^Postgres answered "relation "herald_never_migrated\.profiles" does not exist"/,
    );
    expect((storageError as Error).message).toMatch(hint);
    const queueError = await postgresQueue({ client: pool, schema })
      .claim({ limit: 1, leaseMs: 1000, now: new Date() })
      .catch((caught: unknown) => caught);
    expect((queueError as Error).message).toMatch(hint);
    const countersError = await postgresCounters({ client: pool, schema })
      .consume([{ key: 'k', limit: 1, expiresAt: new Date(Date.now() + 60_000) }], new Date())
      .catch((caught: unknown) => caught);
    expect((countersError as Error).message).toMatch(hint);
  });
});
