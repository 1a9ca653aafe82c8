export { type RedisCountersOptions, redisCounters } from './counters/counters.js';
export { isTransientRedisError } from './errors.js';
export { type RedisQueueOptions, redisQueue } from './queue/queue.js';
