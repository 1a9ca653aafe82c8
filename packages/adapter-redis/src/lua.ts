import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

export type LuaArg = string | number;

/** A Lua script run with EVALSHA, loaded on first use (and again after SCRIPT FLUSH or a failover). */
export type LuaScript = (
  connection: Redis,
  keys: readonly string[],
  args: readonly LuaArg[],
) => Promise<unknown>;

/**
 * Why not `connection.defineCommand`: that adds methods to the host's own
 * client instance, which we do not own. This keeps the script to ourselves
 * and does the same EVALSHA-then-EVAL dance.
 */
export function luaScript(source: string): LuaScript {
  const sha = createHash('sha1').update(source).digest('hex');
  return async (connection, keys, args) => {
    try {
      return await connection.evalsha(sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      // EVAL also caches the script, so the next call's EVALSHA hits.
      return await connection.eval(source, keys.length, ...keys, ...args);
    }
  };
}

/** How long a mutating call's reply is kept so a resent command (after a reconnect) is answered, not redone. */
export const REPLAY_WINDOW_MS = 120_000;

/**
 * Lua shared by every mutating script. ioredis resends commands that were in
 * flight when a connection dropped (autoResendUnfulfilledCommands, on by
 * default); if the first send did run, a second run would enqueue a job twice
 * or lease jobs to nobody. Each call carries a fresh request id: the first run
 * stores its reply under it for REPLAY_WINDOW_MS (real time: this is about the
 * transport, not the domain clock), a resend finds it and returns it unchanged.
 *
 * Expects `requestKey` to be set by the script before `replayed()` is called.
 */
export const REPLAY_LUA = `
local function replayed(requestKey)
  local stored = redis.call('GET', requestKey)
  if stored then return cjson.decode(stored) end
  return nil
end
local function remember(requestKey, reply)
  redis.call('SET', requestKey, cjson.encode(reply), 'PX', ${REPLAY_WINDOW_MS})
  return reply
end
`;
