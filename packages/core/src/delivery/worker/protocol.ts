/**
 * Messages between the delivery pool (main thread) and its workers. Plain
 * data only: they cross threads by structured clone.
 */

import { lostConnectionOf, withLostConnection } from '../lost-connection.js';
import type { PooledTransportOptions } from '../pooled-transport.js';

/** What a worker is started with. */
export interface WorkerConfig {
  /** The transport each worker builds for itself when the pool sends; null: the pool only encrypts. */
  transport: PooledTransportOptions | null;
}

/** One message to encrypt (RFC 8291 aes128gcm) and, with `request` and `path`, to send. */
export interface WorkItem {
  id: number;
  p256dh: string;
  auth: string;
  plaintext: string;
  /** The index in its batch's `requests` of what this message's request shares with others. */
  request?: number;
  /** The request's path and query, e.g. `/push/abc`. */
  path?: string;
}

/**
 * What the requests of a batch to one origin share, sent once per batch
 * rather than with each message: a push service's messages from one
 * campaign have the same headers (the VAPID Authorization alone is ~400
 * bytes), and every byte crossing the thread is copied twice and collected
 * in the worker.
 */
export interface RequestShape {
  /** e.g. `https://push.example.com`. */
  origin: string;
  headers: Record<string, string>;
  timeoutMs: number;
}

export interface WorkBatch {
  items: WorkItem[];
  requests: RequestShape[];
}

/** An error as it crossed the thread boundary: what outcome mapping reads of it. */
export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  /** The connection the request was lost with (lost-connection.ts). */
  lostConnection?: string;
}

/**
 * What became of one item: its ciphertext (encrypt only), the service's
 * answer, or an error — `encrypt` when the keys or payload were unusable
 * (the message can never be sent), `network` when the request failed
 * (worth another try).
 */
export type WorkResult =
  | { id: number; kind: 'encrypted'; body: Uint8Array }
  | ResponseResult
  | { id: number; kind: 'error'; stage: 'encrypt' | 'network'; error: SerializedError };

/**
 * The service's answer, flat: only what outcome mapping reads of it crosses
 * back (the status, Retry-After and the reason's text); a push service's
 * other headers (date, location, alt-svc, ...) would be cloned for nothing.
 */
export interface ResponseResult {
  id: number;
  kind: 'response';
  statusCode: number;
  retryAfter?: string | string[];
  body: string;
}

export interface ResultBatch {
  results: WorkResult[];
}

export function serializeError(error: unknown): SerializedError {
  const fields = error as { name?: unknown; message?: unknown; code?: unknown };
  const lostConnection = lostConnectionOf(error);
  return {
    name: typeof fields?.name === 'string' ? fields.name : 'Error',
    message: typeof fields?.message === 'string' ? fields.message : String(error),
    ...(typeof fields?.code === 'string' ? { code: fields.code } : {}),
    ...(lostConnection !== undefined ? { lostConnection } : {}),
  };
}

/** An Error again, with the name and code outcome mapping looks at. */
export function revive(serialized: SerializedError): Error {
  const error = new Error(serialized.message);
  error.name = serialized.name;
  if (serialized.code !== undefined) (error as NodeJS.ErrnoException).code = serialized.code;
  return withLostConnection(error, serialized.lostConnection);
}
