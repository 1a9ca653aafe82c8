import { runCountersSuite } from '@herald/core/testing';
import type { Redis } from 'ioredis';
import { redisCounters } from '../src/index.js';
import { clearPrefix, connect, uniquePrefix } from './support/redis.js';

const prefix = uniquePrefix('counters-suite');
let connection: Redis;

runCountersSuite({
  name: 'redis',
  create: async () => {
    connection = await connect();
    return redisCounters({ connection, prefix });
  },
  reset: () => clearPrefix(connection, prefix),
  close: async () => {
    await clearPrefix(connection, prefix);
    connection.disconnect();
  },
});
