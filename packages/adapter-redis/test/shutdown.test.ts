import { memoryStorage, type Storage } from '@herald/core';
import { memoryStorageInspector, runShutdownSuite } from '@herald/core/testing';
import type { Redis } from 'ioredis';
import { vi } from 'vitest';
import { redisQueue } from '../src/index.js';
import { clearPrefix, connect, uniquePrefix } from './support/redis.js';

vi.setConfig({ testTimeout: 60_000 });

const prefix = uniquePrefix('shutdown');
const connections: Redis[] = [];
let storage: Storage;

/** herald.stop() with a stuck job on the Redis queue: each engine on its own connection, as processes are. */
runShutdownSuite({
  name: 'memoryStorage + redisQueue',
  async create() {
    connections.push(await connect());
    storage = memoryStorage();
    return {
      storage,
      openQueue: () => {
        const connection = connections[0]!.duplicate();
        connections.push(connection);
        return redisQueue({ connection, prefix });
      },
    };
  },
  async reset() {
    memoryStorageInspector(storage).clear();
    await clearPrefix(connections[0]!, prefix);
  },
  async close() {
    await clearPrefix(connections[0]!, prefix);
    for (const connection of connections) connection.disconnect();
  },
});
