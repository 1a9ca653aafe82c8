import { runQueueSuite } from '@herald/core/testing';
import type { Redis } from 'ioredis';
import { redisQueue } from '../src/index.js';
import { clearPrefix, connect, uniquePrefix } from './support/redis.js';

const prefix = uniquePrefix('queue-suite');
let connection: Redis;
/** The peer's own client, as another process would have. */
let peerConnection: Redis | undefined;

runQueueSuite({
  name: 'redis',
  create: async () => {
    connection = await connect();
    return redisQueue({ connection, prefix });
  },
  createPeer: async () => {
    peerConnection = await connect();
    return redisQueue({ connection: peerConnection, prefix });
  },
  reset: () => clearPrefix(connection, prefix),
  close: async () => {
    await clearPrefix(connection, prefix);
    connection.disconnect();
    peerConnection?.disconnect();
  },
});
