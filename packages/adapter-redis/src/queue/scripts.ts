import { luaScript, REPLAY_LUA } from '../lua.js';

/**
 * The queue's Redis layout, all under one base (`<keyPrefix><prefix>:queue:`):
 *
 *   job:<id>          hash   name, payload (JSON), runAt (ms), attempts, state
 *                            (waiting | active | failed), token, dedupeKey, error
 *   waiting           zset   id -> runAt; plus waiting:<name> per job name
 *   active            zset   id -> lease expiry; plus active:<name> per job name
 *   failed            zset   id -> runAt, for inspection
 *   dedupe            hash   dedupeKey -> id of the unfinished job holding it
 *   seq               string job id counter
 *   req:<requestId>   string a mutating call's reply, for resent commands (see REPLAY_LUA)
 *   wake              channel published to by an enqueue that added jobs
 *
 * Per-name sets let a worker that claims only some job names skip straight
 * to them instead of scanning past other names' backlog. Ids are a
 * zero-padded counter so that jobs with the same runAt (same score) come out
 * in enqueue order: a sorted set breaks score ties by member, bytewise.
 *
 * Job keys are built inside the scripts from the base passed in ARGV[1], so
 * the scripts declare no KEYS: fine on a single Redis (or Sentinel), not
 * meant for Redis Cluster.
 *
 * Time is always the caller's `now` (ARGV), never Redis TIME, so the
 * engine's injected clock drives leases.
 */
const COMMON_LUA = `
local base = ARGV[1]
local function jobKey(id) return base .. 'job:' .. id end
local function addTo(kind, name, score, id)
  redis.call('ZADD', base .. kind, score, id)
  redis.call('ZADD', base .. kind .. ':' .. name, score, id)
end
local function removeFrom(kind, name, id)
  redis.call('ZREM', base .. kind, id)
  redis.call('ZREM', base .. kind .. ':' .. name, id)
end
local function freeDedupeKey(id)
  local dedupeKey = redis.call('HGET', jobKey(id), 'dedupeKey')
  if dedupeKey and dedupeKey ~= '' and redis.call('HGET', base .. 'dedupe', dedupeKey) == id then
    redis.call('HDEL', base .. 'dedupe', dedupeKey)
  end
end
${REPLAY_LUA}
local requestKey = base .. 'req:' .. ARGV[2]
local previous = replayed(requestKey)
if previous then return previous end
`;

/**
 * ARGV: base, requestId, then per job: name, payload, runAt, dedupeKey ('' for none), onDuplicate.
 * Jobs go in one after the other by the dedupe rules (memoryQueue's), so a key named twice in one
 * call is held by its first job, and a later 'replace' job replaces it. Returns one flag per job:
 * 1 when it was added at its turn (a replacement is added: its job is new), 0 when its key was held.
 * A job added at its turn and then replaced by a later job of the same call answers 1 here: queue.ts
 * turns that into false for enqueueEach, across chunks as well.
 */
export const enqueueScript = luaScript(`${COMMON_LUA}
local added = 0
local flags = {}
for i = 3, #ARGV, 5 do
  local name, payload, runAt, dedupeKey, onDuplicate = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local holder = false
  if dedupeKey ~= '' then holder = redis.call('HGET', base .. 'dedupe', dedupeKey) end
  local add = true
  if holder then
    -- At most one unfinished job per key. 'replace' swaps a waiting job for
    -- a new one (new id, attempts from zero); a running job is never replaced,
    -- since the worker holding it could not be told.
    local job = redis.call('HMGET', jobKey(holder), 'state', 'name')
    add = onDuplicate == 'replace' and job[1] == 'waiting'
    if add then
      removeFrom('waiting', job[2], holder)
      redis.call('DEL', jobKey(holder))
    end
  end
  if add then
    local id = string.format('%015d', redis.call('INCR', base .. 'seq'))
    redis.call('HSET', jobKey(id), 'name', name, 'payload', payload, 'runAt', runAt, 'attempts', 0,
      'state', 'waiting', 'token', '', 'dedupeKey', dedupeKey)
    addTo('waiting', name, runAt, id)
    if dedupeKey ~= '' then redis.call('HSET', base .. 'dedupe', dedupeKey, id) end
    added = added + 1
  end
  flags[#flags + 1] = add and 1 or 0
end
-- Idle workers subscribed to the wake channel claim at once (queue.ts, onWake); a replayed call does not publish again.
if added > 0 then redis.call('PUBLISH', base .. 'wake', '1') end
return remember(requestKey, flags)
`);

/** Most expired leases looked at per claim and name; beyond it, order among them is approximate. */
const EXPIRED_SCAN = 1000;

/**
 * ARGV: base, requestId, now, leaseMs, limit, then the job names to claim (none: every name).
 * Due jobs are the first `limit` of each waiting set by runAt; expired leases
 * are read from the active sets by expiry. Merged, they are ordered by runAt
 * (then id, i.e. enqueue order) and the first `limit` are leased.
 * Returns { id, name, payload, runAt, attempts, token, dedupeKey } tuples.
 */
export const claimScript = luaScript(`${COMMON_LUA}
local now, leaseMs, limit = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local suffixes = {}
if #ARGV > 5 then
  for i = 6, #ARGV do suffixes[#suffixes + 1] = ':' .. ARGV[i] end
else
  suffixes[1] = ''
end
local candidates, seen = {}, {}
local function consider(id, runAt)
  if not seen[id] then
    seen[id] = true
    candidates[#candidates + 1] = { id = id, runAt = runAt }
  end
end
for _, suffix in ipairs(suffixes) do
  local due = redis.call('ZRANGEBYSCORE', base .. 'waiting' .. suffix, '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit)
  for j = 1, #due, 2 do consider(due[j], tonumber(due[j + 1])) end
  local expired = redis.call('ZRANGEBYSCORE', base .. 'active' .. suffix, '-inf', now, 'LIMIT', 0, ${EXPIRED_SCAN})
  for _, id in ipairs(expired) do consider(id, tonumber(redis.call('HGET', jobKey(id), 'runAt'))) end
end
table.sort(candidates, function(a, b)
  if a.runAt ~= b.runAt then return a.runAt < b.runAt end
  return a.id < b.id
end)
local claimed = {}
for k = 1, math.min(limit, #candidates) do
  local id = candidates[k].id
  local key = jobKey(id)
  local name = redis.call('HGET', key, 'name')
  local attempts = redis.call('HINCRBY', key, 'attempts', 1)
  local token = ARGV[2] .. ':' .. id
  redis.call('HSET', key, 'state', 'active', 'token', token)
  removeFrom('waiting', name, id)
  addTo('active', name, now + leaseMs, id)
  local fields = redis.call('HMGET', key, 'payload', 'runAt', 'dedupeKey')
  claimed[#claimed + 1] = { id, name, fields[1], fields[2], attempts, token, fields[3] }
end
return remember(requestKey, claimed)
`);

/**
 * ARGV: base, requestId, id, token, action (complete | retry | fail), runAt, error.
 * Returns 1, or 0 when the token is not the job's current lease (stale: do nothing).
 * The lease may have expired: until another worker claims the job, its holder may still settle it.
 */
export const settleScript = luaScript(`${COMMON_LUA}
local id, token, action = ARGV[3], ARGV[4], ARGV[5]
local key = jobKey(id)
local job = redis.call('HMGET', key, 'state', 'token', 'name')
if job[1] ~= 'active' or job[2] ~= token then return remember(requestKey, 0) end
local name = job[3]
removeFrom('active', name, id)
if action == 'complete' then
  freeDedupeKey(id)
  redis.call('DEL', key)
elseif action == 'retry' then
  local runAt = ARGV[6]
  redis.call('HSET', key, 'state', 'waiting', 'token', '', 'runAt', runAt, 'error', ARGV[7])
  addTo('waiting', name, runAt, id)
elseif action == 'fail' then
  freeDedupeKey(id)
  redis.call('HSET', key, 'state', 'failed', 'token', '', 'error', ARGV[7])
  redis.call('ZADD', base .. 'failed', redis.call('HGET', key, 'runAt'), id)
else
  return redis.error_reply('unknown settle action ' .. tostring(action))
end
return remember(requestKey, 1)
`);

/** ARGV: base, requestId, id, token, leaseMs, now. Returns 1, or 0 for a stale token. */
export const extendLeaseScript = luaScript(`${COMMON_LUA}
local id, token = ARGV[3], ARGV[4]
local job = redis.call('HMGET', jobKey(id), 'state', 'token', 'name')
if job[1] ~= 'active' or job[2] ~= token then return remember(requestKey, 0) end
addTo('active', job[3], tonumber(ARGV[6]) + tonumber(ARGV[5]), id)
return remember(requestKey, 1)
`);

/**
 * ARGV: base, requestId, then dedupeKeys. Removes each key's job if it is waiting (never a running
 * one), in order, so a key named twice is removed at its first mention. Returns one flag per key:
 * 1 when its job was removed.
 */
export const cancelScript = luaScript(`${COMMON_LUA}
local flags = {}
for i = 3, #ARGV do
  local dedupeKey = ARGV[i]
  local removed = 0
  local id = redis.call('HGET', base .. 'dedupe', dedupeKey)
  if id then
    local key = jobKey(id)
    local job = redis.call('HMGET', key, 'state', 'name')
    if job[1] == 'waiting' then
      removeFrom('waiting', job[2], id)
      redis.call('HDEL', base .. 'dedupe', dedupeKey)
      redis.call('DEL', key)
      removed = 1
    end
  end
  flags[#flags + 1] = removed
end
return remember(requestKey, flags)
`);

/**
 * ARGV: base, requestId, before (ms), limit. Deletes up to `limit` failed jobs
 * whose runAt < before, oldest first (the failed set is scored by runAt);
 * returns how many. One bounded call, so Redis's single thread is held briefly.
 */
export const pruneFailedScript = luaScript(`${COMMON_LUA}
local ids = redis.call('ZRANGEBYSCORE', base .. 'failed', '-inf', '(' .. ARGV[3], 'LIMIT', 0, tonumber(ARGV[4]))
for _, id in ipairs(ids) do
  redis.call('DEL', jobKey(id))
  redis.call('ZREM', base .. 'failed', id)
end
return remember(requestKey, #ids)
`);
