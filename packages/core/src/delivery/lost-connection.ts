/**
 * Requests that failed because the connection carrying them was lost (an
 * HTTP/2 session that errored, closed or was reset with streams in flight)
 * share one cause: the error of each names that connection, so the circuit
 * breaker counts the loss once, not once per stream. One dropped FCM
 * connection fails up to its 100 streams at once; counted per stream, that
 * alone opened the breaker and held every message to the service for 30 s.
 */
export interface LostConnectionError extends Error {
  /** The lost connection, unique within the process (thread and session). */
  lostConnection?: string;
}

/** Names the lost connection on an error (when there is one and it is an Error); returns the error. */
export function withLostConnection<E>(error: E, connection: string | undefined): E {
  if (connection !== undefined && error instanceof Error)
    (error as LostConnectionError).lostConnection = connection;
  return error;
}

/** The lost connection an error names, if any. */
export function lostConnectionOf(error: unknown): string | undefined {
  const connection = (error as LostConnectionError | null)?.lostConnection;
  return typeof connection === 'string' ? connection : undefined;
}
