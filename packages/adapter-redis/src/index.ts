export { type RedisCountersOptions, redisCounters } from './counters/counters.js';
export { isTransientRedisError } from './errors.js';
export { type Lease, type RedisLeaseOptions, redisLease } from './lease/lease.js';
export { type RedisQueueOptions, redisQueue } from './queue/queue.js';
