import { z } from 'zod';
import { parseInput } from '../errors/index.js';
import {
  type PooledHttpTransport,
  type PooledTransportOptions,
  pooledTransport,
} from './pooled-transport.js';

/** A certificate authority as node:tls takes it (a Buffer is a Uint8Array). */
const Certificate = z.union([z.string(), z.instanceof(Uint8Array)]);

/**
 * The options a host gives, checked once here on the calling thread: the
 * delivery workers rebuild the transport from them with `pooledTransport`,
 * which stays free of zod so the workers do not load it. A bound of 0 would
 * leave every request waiting for ever, and a misspelt key would be a bound
 * silently not set.
 */
const PooledTransportOptionsSchema = z.strictObject({
  maxInFlightPerOrigin: z.number().int().min(1).optional(),
  ca: z.union([Certificate, z.array(Certificate)]).optional(),
  maxBodyBytes: z.number().int().min(0).optional(),
  http1Only: z.boolean().optional(),
});

/** The production HTTP transport (pooled-transport.ts has how it works); ValidationError on bad options. */
export function pooledHttpTransport(options: PooledTransportOptions = {}): PooledHttpTransport {
  parseInput(PooledTransportOptionsSchema, options, 'pooledHttpTransport options');
  return pooledTransport(options).transport;
}
