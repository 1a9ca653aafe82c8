import { luaScript, REPLAY_LUA } from '../lua.js';

/**
 * A counter is a hash { n: count, exp: window end in ms }. It is alive while
 * exp > now, with `now` passed by the caller (the engine's clock), so a fake
 * clock moves windows in tests and app/Redis clock skew does not matter.
 * A counter whose exp <= now counts as 0 even if Redis still holds it.
 *
 * Redis's own TTL is only garbage collection: PEXPIRE (exp - now) + GRACE_MS,
 * relative to the caller's now rather than PEXPIREAT, so a fake clock set in
 * the past does not make Redis drop a live counter at once; the grace keeps
 * short test windows alive while real time runs ahead of a fake clock.
 */
const GRACE_MS = 60_000;

const ALIVE_LUA = `
local now = tonumber(ARGV[1])
-- The last key is the call's request key (see REPLAY_LUA); the rest are counters.
local requestKey = KEYS[#KEYS]
local counters = {}
for i = 1, #KEYS - 1 do counters[i] = KEYS[i] end
${REPLAY_LUA}
-- The counter's live value and window end, or nil when missing or expired.
local function alive(key)
  local fields = redis.call('HMGET', key, 'n', 'exp')
  local exp = tonumber(fields[2])
  if exp and exp > now then return tonumber(fields[1]) or 0, exp end
  return nil
end
`;

/**
 * KEYS: the counters, then the request key. ARGV: now, then limit and expiresAt per counter.
 * All or nothing: returns { 1, count per key } after incrementing all, or
 * { 0, i } naming the first counter (1-based) that would exceed its limit,
 * having changed nothing. A key listed twice counts twice. A live counter keeps
 * the window it started with; a missing or expired one starts a new window
 * ending at the spec's expiresAt.
 */
export const consumeScript = luaScript(`${ALIVE_LUA}
local previous = replayed(requestKey)
if previous then return previous end
local value, window = {}, {}
local counts = { 1 }
for i, key in ipairs(counters) do
  if value[key] == nil then
    local n, exp = alive(key)
    value[key], window[key] = n or 0, exp or tonumber(ARGV[2 * i + 1])
  end
  if value[key] + 1 > tonumber(ARGV[2 * i]) then return remember(requestKey, { 0, i }) end
  value[key] = value[key] + 1
  counts[i + 1] = value[key]
end
local written = {}
for _, key in ipairs(counters) do
  if not written[key] then
    written[key] = true
    redis.call('HSET', key, 'n', value[key], 'exp', window[key])
    redis.call('PEXPIRE', key, math.max(window[key] - now, 1) + ${GRACE_MS})
  end
end
return remember(requestKey, counts)
`);

/**
 * `consume` for many requests in one script: the answers `consumeScript` would give request by
 * request, in order, with nothing else run in between (a script is atomic). KEYS: every request's
 * counters in order, then the request key. ARGV: now, the number of requests R, each request's
 * length, then limit and expiresAt per counter. Returns one flat list: per request 0 and its counts
 * when it was counted, or the 1-based position of the counter that blocked it (nothing of that
 * request changed; the next requests still run).
 */
export const consumeEachScript = luaScript(`${ALIVE_LUA}
local previous = replayed(requestKey)
if previous then return previous end
local requests = tonumber(ARGV[2])
local specBase = 2 + requests
local value, window, dirty = {}, {}, {}
local out = {}
local first = 0
for r = 1, requests do
  local length = tonumber(ARGV[2 + r])
  local trial, counts, blockedAt = {}, {}, 0
  for j = 1, length do
    local i = first + j
    local key = counters[i]
    if value[key] == nil then
      local n, exp = alive(key)
      value[key], window[key] = n or 0, exp
    end
    local next = (trial[key] or value[key]) + 1
    if next > tonumber(ARGV[specBase + 2 * i - 1]) then
      blockedAt = j
      break
    end
    trial[key] = next
    counts[j] = next
  end
  if blockedAt == 0 then
    out[#out + 1] = 0
    for j = 1, length do
      local i = first + j
      local key = counters[i]
      -- A counter this request starts takes the window of its first spec, as consumeScript's does.
      if window[key] == nil then window[key] = tonumber(ARGV[specBase + 2 * i]) end
      value[key], dirty[key] = trial[key], true
      out[#out + 1] = counts[j]
    end
  else
    out[#out + 1] = blockedAt
  end
  first = first + length
end
for key in pairs(dirty) do
  redis.call('HSET', key, 'n', value[key], 'exp', window[key])
  redis.call('PEXPIRE', key, math.max(window[key] - now, 1) + ${GRACE_MS})
end
return remember(requestKey, out)
`);

/** KEYS: the counters, then the request key. ARGV: now. Takes one unit off each live counter above zero. */
export const releaseScript = luaScript(`${ALIVE_LUA}
if replayed(requestKey) then return 0 end
for _, key in ipairs(counters) do
  local n = alive(key)
  if n and n > 0 then redis.call('HINCRBY', key, 'n', -1) end
end
return remember(requestKey, 0)
`);

/**
 * KEYS: the counters, then a request key (unused: reads are safe to resend).
 * ARGV: now. Each live counter's value, 0 for missing or expired.
 */
export const getScript = luaScript(`${ALIVE_LUA}
local values = {}
for i, key in ipairs(counters) do values[i] = alive(key) or 0 end
return values
`);
