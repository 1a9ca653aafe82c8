import { ConfigError, ValidationError } from '@herald/core';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { withRedis } from '../errors.js';
import { luaScript } from '../lua.js';

/**
 * A named lease that at most one owner holds at a time, e.g. so that only one
 * process runs the scheduler tick. Time is the caller's `now` (the engine's
 * clock), like the queue's leases: a fake clock drives expiry in tests.
 */
export interface Lease {
  /** Takes the lease for `ttlMs` if it is free, expired, or already ours (then it is extended). */
  acquire(owner: string, ttlMs: number, now: Date): Promise<boolean>;
  /** Extends the lease only while `owner` still holds it unexpired; false means it was lost. */
  renew(owner: string, ttlMs: number, now: Date): Promise<boolean>;
  /** Gives the lease up if `owner` holds it; true when it did. */
  release(owner: string): Promise<boolean>;
}

export interface RedisLeaseOptions {
  /** An ioredis client the host owns; never closed here. */
  connection: Redis;
  /** The Redis key of this lease, e.g. `herald:lease:scheduler`. */
  key: string;
}

/** Redis's own TTL only collects leases abandoned by crashed owners; see counters/scripts.ts for why it trails. */
const GRACE_MS = 60_000;

/** KEYS: lease. ARGV: owner, ttlMs, now, mode ('acquire' | 'renew'). The lease is a hash { owner, exp }. */
const takeScript = luaScript(`
local owner, ttl, now, mode = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local fields = redis.call('HMGET', KEYS[1], 'owner', 'exp')
local exp = tonumber(fields[2])
local held = exp ~= nil and exp > now
local mine = fields[1] == owner
if mode == 'renew' then
  if not (held and mine) then return 0 end
elseif held and not mine then
  return 0
end
redis.call('HSET', KEYS[1], 'owner', owner, 'exp', now + ttl)
redis.call('PEXPIRE', KEYS[1], ttl + ${GRACE_MS})
return 1
`);

/** KEYS: lease. ARGV: owner. */
const releaseScript = luaScript(`
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`);

const Flag = z.union([z.literal(0), z.literal(1)]);

export function redisLease(options: RedisLeaseOptions): Lease {
  const { connection, key } = options;
  if (key === '') throw new ConfigError('redisLease: key must not be empty');

  const take = async (mode: 'acquire' | 'renew', owner: string, ttlMs: number, now: Date) => {
    if (owner === '') throw new ValidationError('lease', [{ path: 'owner', message: 'must not be empty' }]);
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
      throw new ValidationError('lease', [{ path: 'ttlMs', message: 'must be a number > 0' }]);
    }
    const nowMs = now instanceof Date ? now.getTime() : Number.NaN;
    if (Number.isNaN(nowMs))
      throw new ValidationError('lease', [{ path: 'now', message: 'must be a valid Date' }]);
    const reply = await withRedis(`lease ${mode}`, () =>
      takeScript(connection, [key], [owner, Math.ceil(ttlMs), nowMs, mode]),
    );
    return Flag.parse(reply) === 1;
  };

  return {
    acquire: (owner, ttlMs, now) => take('acquire', owner, ttlMs, now),
    renew: (owner, ttlMs, now) => take('renew', owner, ttlMs, now),
    async release(owner) {
      return (
        Flag.parse(await withRedis('lease release', () => releaseScript(connection, [key], [owner]))) === 1
      );
    },
  };
}
