import { ValidationError } from '@herald/core';
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
});
