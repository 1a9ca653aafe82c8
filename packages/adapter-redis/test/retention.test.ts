import { memoryStorage, type Storage } from '@herald/core';
import { memoryStorageInspector, runRetentionSuite } from '@herald/core/testing';
import type { Redis } from 'ioredis';
import { vi } from 'vitest';
import { redisQueue } from '../src/index.js';
import { clearPrefix, connect, uniquePrefix } from './support/redis.js';

// The engine sends real encrypted pushes to a loopback push service.
vi.setConfig({ testTimeout: 60_000 });

const prefix = uniquePrefix('retention');
let connection: Redis;
let storage: Storage;

/** herald.prune with its failed jobs on the Redis queue. */
runRetentionSuite({
  name: 'memoryStorage + redisQueue',
  async create() {
    connection = await connect();
    storage = memoryStorage();
    return { storage, newQueue: () => redisQueue({ connection, prefix }) };
  },
  async reset() {
    memoryStorageInspector(storage).clear();
    await clearPrefix(connection, prefix);
  },
  async close() {
    await clearPrefix(connection, prefix);
    connection.disconnect();
  },
});
