import { runQueueSuite } from '@herald/core/testing';
import type { Redis } from 'ioredis';
import { redisQueue } from '../src/index.js';
import { clearPrefix, connect, uniquePrefix } from './support/redis.js';

const prefix = uniquePrefix('queue-suite');
let connection: Redis;

runQueueSuite({
  name: 'redis',
  create: async () => {
    connection = await connect();
    return redisQueue({ connection, prefix });
  },
  reset: () => clearPrefix(connection, prefix),
  close: async () => {
    await clearPrefix(connection, prefix);
    connection.disconnect();
  },
});
