import { randomUUID } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';

/**
 * The throwaway Redis the suites run against. There is no fallback: these
 * tests are about real Redis, so a missing server is an error, not a skip.
 */
export function redisUrl(): string {
  const url = process.env.HERALD_TEST_REDIS_URL;
  if (!url) {
    throw new Error(
      'HERALD_TEST_REDIS_URL is not set. Start a throwaway Redis first:\n' +
        '  eval "$(bash scripts/services/redis.sh start)"\n' +
        '(npm test does this for you; `bash scripts/services/redis.sh stop` shuts it down).',
    );
  }
  return url;
}

/** A new client of the test Redis; the test owns it and must disconnect it. */
export async function connect(options: RedisOptions = {}): Promise<Redis> {
  const connection = new Redis(redisUrl(), { lazyConnect: true, ...options });
  await connection.connect();
  return connection;
}

/** A key prefix no other test file (or run) uses, so files can run in parallel on one Redis. */
export const uniquePrefix = (label: string): string => `herald-test:${label}:${randomUUID().slice(0, 8)}`;

/** Deletes every key under `prefix` (never FLUSHDB: other files share the server). */
export async function clearPrefix(connection: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await connection.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    if (keys.length > 0) await connection.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}
