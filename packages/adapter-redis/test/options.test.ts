import { ValidationError } from '@herald/core';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisCounters, redisQueue } from '../src/index.js';
import { connect } from './support/redis.js';

/**
 * Both factories parse their options where they are called: a misspelt `prefix` would otherwise be
 * dropped, and the queue or counters share the default prefix with whatever else uses it.
 */
describe('options of the Redis adapter', () => {
  let connection: Redis;
  beforeAll(async () => {
    connection = await connect();
  });
  afterAll(() => connection.disconnect());

  const factories = {
    redisQueue: (options: unknown) => redisQueue(options as never),
    redisCounters: (options: unknown) => redisCounters(options as never),
  };

  for (const [name, create] of Object.entries(factories)) {
    it(`${name} refuses a misspelt key, an empty prefix and a URL where the connection goes`, () => {
      const refusal = (options: unknown) => {
        try {
          create(options);
        } catch (error) {
          expect(error).toBeInstanceOf(ValidationError);
          expect((error as Error).message).toContain(`${name} options`);
          return (error as ValidationError).issues;
        }
        throw new Error('expected a ValidationError');
      };
      expect(refusal({ connection, prefx: 'app' })).toEqual([
        { path: 'prefx', message: 'unknown key; did you mean "prefix"?' },
      ]);
      expect(refusal({ connection, prefix: '' })).toEqual([{ path: 'prefix', message: 'must not be empty' }]);
      expect(refusal({ connection: 'redis://127.0.0.1:6379' })).toEqual([
        { path: 'connection', message: 'must be an ioredis client (new Redis(url))' },
      ]);
    });
  }
});
