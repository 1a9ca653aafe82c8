import { parseInput } from '@herald/core';
import type { Redis } from 'ioredis';
import { z } from 'zod';

/**
 * The options `redisQueue` and `redisCounters` take, parsed at the call: a misspelt key (`prefx`)
 * would otherwise be dropped without a word, and the factory would share the default prefix with
 * whatever else uses it on that Redis.
 */
export const RedisOptions = z.strictObject({
  connection: z.custom<Redis>(
    (value) =>
      typeof value === 'object' &&
      value !== null &&
      typeof (value as { options?: unknown }).options === 'object' &&
      typeof (value as { evalsha?: unknown }).evalsha === 'function',
    { message: 'must be an ioredis client (new Redis(url))' },
  ),
  prefix: z.string({ error: 'must be a string' }).min(1, 'must not be empty').optional(),
});

/** The options of `factory`, or a ValidationError naming each bad key. */
export function parseRedisOptions(options: unknown, factory: string): z.output<typeof RedisOptions> {
  return parseInput(RedisOptions, options, `${factory} options`);
}
