import { TransientStorageError } from '@herald/core';

/** Socket-level failures: the connection went away or never came up. */
const TRANSIENT_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * Server replies that mean "not now" rather than "never": still loading the
 * dataset, busy with a long script, failing over, or a replica that was
 * promoted / demoted under us.
 */
const TRANSIENT_REPLY_PREFIXES = [
  'LOADING',
  'BUSY',
  'TRYAGAIN',
  'CLUSTERDOWN',
  'READONLY',
  'MASTERDOWN',
  'NOREPLICAS',
];

/** What ioredis says when a command cannot reach the server. */
const TRANSIENT_CLIENT_MESSAGES = ['Connection is closed', "Stream isn't writeable", 'Command timed out'];

/** True when retrying the same call later may succeed (the engine backs off and tries again). */
export function isTransientRedisError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && TRANSIENT_SOCKET_CODES.has(code)) return true;
  if (error.name === 'MaxRetriesPerRequestError') return true;
  if (error.name === 'ReplyError')
    return TRANSIENT_REPLY_PREFIXES.some((prefix) => error.message.startsWith(prefix));
  return TRANSIENT_CLIENT_MESSAGES.some((message) => error.message.includes(message));
}

/**
 * Runs one Redis round trip and turns connection faults into
 * TransientStorageError, so the engine can tell "Redis blinked, retry" from a
 * bug. Anything else (a script error, bad input) is rethrown unchanged.
 */
export async function withRedis<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isTransientRedisError(error)) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new TransientStorageError(`Redis ${operation} failed: ${reason}`, { cause: error });
    }
    throw error;
  }
}
