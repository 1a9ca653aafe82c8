/**
 * Messages between the delivery pool (main thread) and its workers. Plain
 * data only: they cross threads by structured clone.
 */

import type { TransportResponse } from '../http-transport.js';
import type { PooledTransportOptions } from '../pooled-transport.js';

/** What a worker is started with. */
export interface WorkerConfig {
  /** The transport each worker builds for itself when the pool sends; null: the pool only encrypts. */
  transport: PooledTransportOptions | null;
}

/** One message to encrypt (RFC 8291 aes128gcm) and, with `request`, to send. */
export interface WorkItem {
  id: number;
  p256dh: string;
  auth: string;
  plaintext: string;
  request?: { url: string; headers: Record<string, string>; timeoutMs: number };
}

export interface WorkBatch {
  items: WorkItem[];
}

/** An error as it crossed the thread boundary: what outcome mapping reads of it. */
export interface SerializedError {
  name: string;
  message: string;
  code?: string;
}

/**
 * What became of one item: its ciphertext (encrypt only), the service's
 * answer, or an error — `encrypt` when the keys or payload were unusable
 * (the message can never be sent), `network` when the request failed
 * (worth another try).
 */
export type WorkResult =
  | { id: number; kind: 'encrypted'; body: Uint8Array }
  | { id: number; kind: 'response'; response: TransportResponse }
  | { id: number; kind: 'error'; stage: 'encrypt' | 'network'; error: SerializedError };

export interface ResultBatch {
  results: WorkResult[];
}

export function serializeError(error: unknown): SerializedError {
  const fields = error as { name?: unknown; message?: unknown; code?: unknown };
  return {
    name: typeof fields?.name === 'string' ? fields.name : 'Error',
    message: typeof fields?.message === 'string' ? fields.message : String(error),
    ...(typeof fields?.code === 'string' ? { code: fields.code } : {}),
  };
}

/** An Error again, with the name and code outcome mapping looks at. */
export function revive(serialized: SerializedError): Error {
  const error = new Error(serialized.message);
  error.name = serialized.name;
  if (serialized.code !== undefined) (error as NodeJS.ErrnoException).code = serialized.code;
  return error;
}
