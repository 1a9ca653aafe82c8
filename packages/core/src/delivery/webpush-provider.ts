import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import type { ResourceLimits } from 'node:worker_threads';
import { z } from 'zod';
import { systemClock } from '../adapters/system-clock.js';
import { ConfigError, EndpointNotAllowedError, parseConfig } from '../errors/index.js';
import { objectOf, providerOptions } from '../option-kinds.js';
import type { Clock } from '../ports/clock.js';
import { type CircuitBreakerOptions, createCircuitBreakers, sendThroughBreaker } from './circuit-breaker.js';
import { createDeliveryPool, type DeliveryPool, EncryptionError } from './delivery-pool.js';
import {
  createEndpointPolicy,
  type EndpointCheck,
  type EndpointPolicy,
  type EndpointPolicyOptions,
} from './endpoint-policy.js';
import type { HttpTransport, TransportRequest } from './http-transport.js';
import { lostConnectionOf } from './lost-connection.js';
import type { DeliveryOutcome } from './outcome.js';
import { pooledHttpTransport } from './pooled-http-transport.js';
import { pooledTransportOptionsOf } from './pooled-transport.js';
import type { OutboundMessage, PushProvider } from './provider.js';
import { encryptAes128gcm } from './rfc8291.js';
import { createVapidSigner, type VapidDetails } from './vapid.js';
import {
  checkedPlaintext,
  checkPayloadSize,
  sharedWebPushHeaders,
  type WebPushRequestInput,
  webPushRequestWithBody,
} from './webpush-request.js';
import { outcomeOfNetworkError, outcomeOfResponse } from './webpush-response.js';

export interface WebPushOptions {
  vapid: VapidDetails;
  /** Gives up on a push service that has not answered within this long; the message is retried. Default 30 s. */
  timeoutMs?: number;
  /**
   * Wall time for VAPID tokens. Push services check a token's `exp` against
   * the real time, so this stays the system clock outside tests, even when
   * the engine runs on a simulated one. Default: systemClock().
   */
  clock?: Clock;
  /**
   * Checked again right before each request (the engine checks when a
   * subscription is added): endpoints it refuses fail without a request.
   * Without it, any https endpoint is sent to, and plain http only to a
   * loopback address.
   */
  endpointPolicy?: EndpointPolicy | EndpointPolicyOptions;
  /**
   * How requests travel. Default: pooledHttpTransport(), HTTP/2 sessions per
   * push-service origin (HTTP/1.1 keep-alive where a service has no h2).
   */
  transport?: HttpTransport;
  /**
   * The per-origin circuit breaker (see circuit-breaker.ts): tuning, or
   * false to send whatever the service answers. Default: on, with
   * defaultCircuitBreakerOptions.
   */
  circuitBreaker?: Partial<CircuitBreakerOptions> | false;
  /**
   * Worker threads for Web Push work ('auto': one per core; 0: all on the
   * calling thread). Each encrypts (RFC 8291, about 200 µs of CPU a
   * message) and, when the transport is a `pooledHttpTransport` (the
   * default), also makes the request on its own HTTP/2 sessions built from
   * the same options, which takes Node's per-request HTTP/2 work off the
   * engine's event loop too. Another transport is used on the calling
   * thread, with encryption alone in the workers. Default: 'auto' when the
   * machine has more than one core, else 0. Workers start on the first
   * message and keep the process alive only while they have work.
   */
  encryptionWorkers?: number | 'auto';
  /**
   * V8 heap limits of each delivery worker. The fields given replace those of
   * DEFAULT_DELIVERY_WORKER_LIMITS (young generation 4 MB, old generation 24 MB);
   * `false` leaves Node's own limits.
   */
  workerResourceLimits?: ResourceLimits | false;
}

export const DEFAULT_WEB_PUSH_TIMEOUT_MS = 30_000;

/**
 * `webPush`'s options, checked at the call: a misspelt key or a bad `encryptionWorkers` ('two')
 * was taken without a word, and the second left every message retrying with no worker to send it.
 * The VAPID details are checked by the signer, with their own messages.
 */
const WebPushOptionsShape = z.strictObject({
  vapid: objectOf('{ subject, publicKey, privateKey }'),
  ...providerOptions,
  endpointPolicy: objectOf('an EndpointPolicy or its options').optional(),
  encryptionWorkers: z
    .union([z.number().int().min(0).max(256), z.literal('auto')], {
      error: "must be 'auto' or a whole number of worker threads (0: none)",
    })
    .optional(),
  workerResourceLimits: z.union([objectOf('worker resource limits'), z.literal(false)]).optional(),
});

/**
 * The standard Web Push provider (Chrome, Firefox, Edge, Safari 16+): RFC 8291
 * aes128gcm payloads, RFC 8292 VAPID, RFC 8030 TTL/Urgency/Topic. Checks the
 * VAPID subject and keys at once, throwing ConfigError, so a bad setup fails
 * at start-up rather than on the first campaign.
 */
export function webPush(options: WebPushOptions): PushProvider {
  parseConfig(WebPushOptionsShape, options, 'webPush options');
  const signer = createVapidSigner(options.vapid, options.clock ?? systemClock());
  const timeoutMs = options.timeoutMs ?? DEFAULT_WEB_PUSH_TIMEOUT_MS;
  const policy = toPolicy(options.endpointPolicy);
  const transport = options.transport ?? pooledHttpTransport();
  const breakers = options.circuitBreaker === false ? null : createCircuitBreakers(options.circuitBreaker);
  const workers = options.encryptionWorkers ?? (availableParallelism() > 1 ? 'auto' : 0);
  // A pooled transport is rebuilt in each worker from its options; any other stays on this thread.
  const workerTransport = pooledTransportOptionsOf(transport);
  const pool: DeliveryPool | null =
    workers === 0
      ? null
      : createDeliveryPool({
          ...(workers === 'auto' ? {} : { workers }),
          ...(options.workerResourceLimits !== undefined
            ? { resourceLimits: options.workerResourceLimits }
            : {}),
          ...(workerTransport ? { transport: workerTransport } : {}),
        });
  const sendingPool = workerTransport ? pool : null;
  const sharedHeaders = sharedWebPushHeaders();

  return {
    target: 'webpush',
    async send(message: OutboundMessage, now: Date): Promise<DeliveryOutcome> {
      // Retry-After counts from the answer: the engine's now plus the time this send took (whole ms,
      // rounded up), signing and encryption included; the engine's clock may be a test's fake one.
      const enteredAt = performance.now();
      const { subscription } = message;
      if (subscription.target !== 'webpush') {
        throw new ConfigError(`the webPush provider cannot send to a ${subscription.target} subscription`);
      }
      const allowed = policy.check(subscription.endpoint);
      if (!allowed.ok)
        return { kind: 'failed', statusCode: null, reason: `endpoint refused: ${allowed.reason}` };
      const endpoint = new URL(subscription.endpoint);
      return sendThroughBreaker(breakers, endpoint.origin, now, async () => {
        const input = {
          endpoint,
          keys: subscription.keys,
          payload: message.payload,
          ttlSeconds: message.ttlSeconds,
          urgency: message.urgency,
          ...(message.topic !== undefined ? { topic: message.topic } : {}),
          ...(message.campaignId !== undefined ? { campaignId: message.campaignId } : {}),
          authorization: await signer.authorization(endpoint.origin),
        };
        // Encrypted here or by a worker before the try: a message that cannot be
        // encrypted fails for its recipient (in sendOne), it is no network fault.
        let request: TransportRequest | null = null;
        if (sendingPool) checkPayloadSize(input.payload, input.campaignId);
        else request = await requestFor(input, checkedPlaintext(input.payload, input.campaignId));
        try {
          const response = request
            ? await transport.send(request, { timeoutMs })
            : await (sendingPool as DeliveryPool).send(
                input.keys,
                input.payload,
                { url: endpoint, method: 'POST', headers: sharedHeaders(input) },
                timeoutMs,
              );
          const answeredAt = new Date(now.getTime() + Math.ceil(performance.now() - enteredAt));
          return { outcome: outcomeOfResponse(response, endpoint, now, answeredAt) };
        } catch (error) {
          if (error instanceof EncryptionError) throw error;
          return { outcome: outcomeOfNetworkError(error, now), lostConnection: lostConnectionOf(error) };
        }
      });
    },
    async close() {
      await Promise.all([transport.close(), pool?.close()]);
    },
  };

  /** The request with its encrypted body: encrypted by a worker when there are some, else here. */
  async function requestFor(input: WebPushRequestInput, plaintext: Buffer): Promise<TransportRequest> {
    const body = pool
      ? await pool.encrypt(input.keys, input.payload)
      : encryptAes128gcm(input.keys, plaintext);
    return webPushRequestWithBody(input, body);
  }
}

function toPolicy(option: WebPushOptions['endpointPolicy']): EndpointPolicy {
  if (option === undefined) return transportOnlyPolicy;
  return 'check' in option ? option : createEndpointPolicy(option);
}

/**
 * The floor when no policy is given: never plain http across a network.
 * Which hosts are push services is the engine's check, made when a
 * subscription is added.
 */
const transportOnlyPolicy: EndpointPolicy = {
  check: checkTransport,
  assert(endpoint) {
    const result = checkTransport(endpoint);
    if (!result.ok) throw new EndpointNotAllowedError(endpoint, result.reason);
  },
  // Addresses are the engine's check too (before each send), with the host's allow rules.
  checkAddress: async (endpoint) => checkTransport(endpoint),
  async assertAddress(endpoint) {
    const result = checkTransport(endpoint);
    if (!result.ok) throw new EndpointNotAllowedError(endpoint, result.reason);
  },
};

function checkTransport(endpoint: string): EndpointCheck {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return { ok: false, reason: 'not a valid URL' };
  }
  if (url.protocol === 'https:') return { ok: true };
  if (url.protocol === 'http:' && isLoopback(url.hostname)) return { ok: true };
  return { ok: false, reason: `${url.protocol.replace(/:$/, '')} is only allowed to a loopback address` };
}

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}
