import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { systemClock } from '../adapters/system-clock.js';
import { ConfigError, EndpointNotAllowedError } from '../errors/index.js';
import type { Clock } from '../ports/clock.js';
import { type CircuitBreakerOptions, createCircuitBreakers, isServiceFailure } from './circuit-breaker.js';
import { createEncryptionPool, type EncryptionPool } from './encryption-pool.js';
import {
  createEndpointPolicy,
  type EndpointCheck,
  type EndpointPolicy,
  type EndpointPolicyOptions,
} from './endpoint-policy.js';
import type { HttpTransport, TransportRequest } from './http-transport.js';
import type { DeliveryOutcome } from './outcome.js';
import { pooledHttpTransport } from './pooled-transport.js';
import type { OutboundMessage, PushProvider } from './provider.js';
import { createVapidSigner, type VapidDetails } from './vapid.js';
import { buildWebPushRequest, checkedPlaintext, webPushRequestWithBody } from './webpush-request.js';
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
   * Worker threads for RFC 8291 encryption ('auto': one per core; 0: on the
   * calling thread). Encryption is most of the CPU a send costs once VAPID
   * tokens are cached, so moving it off the event loop roughly doubled
   * throughput in bench/delivery on two cores. Default: 'auto' when the
   * machine has more than one core, else 0. Workers start on the first
   * message and never keep the process alive.
   */
  encryptionWorkers?: number | 'auto';
}

export const DEFAULT_WEB_PUSH_TIMEOUT_MS = 30_000;

/**
 * The standard Web Push provider (Chrome, Firefox, Edge, Safari 16+): RFC 8291
 * aes128gcm payloads, RFC 8292 VAPID, RFC 8030 TTL/Urgency/Topic. Checks the
 * VAPID subject and keys at once, throwing ConfigError, so a bad setup fails
 * at start-up rather than on the first campaign.
 */
export function webPush(options: WebPushOptions): PushProvider {
  const signer = createVapidSigner(options.vapid, options.clock ?? systemClock());
  const timeoutMs = options.timeoutMs ?? DEFAULT_WEB_PUSH_TIMEOUT_MS;
  const policy = toPolicy(options.endpointPolicy);
  const transport = options.transport ?? pooledHttpTransport();
  const breakers = options.circuitBreaker === false ? null : createCircuitBreakers(options.circuitBreaker);
  const workers = options.encryptionWorkers ?? (availableParallelism() > 1 ? 'auto' : 0);
  const pool: EncryptionPool | null =
    workers === 0 ? null : createEncryptionPool(workers === 'auto' ? {} : { workers });

  return {
    target: 'webpush',
    async send(message: OutboundMessage, now: Date): Promise<DeliveryOutcome> {
      const { subscription } = message;
      if (subscription.target !== 'webpush') {
        throw new ConfigError(`the webPush provider cannot send to a ${subscription.target} subscription`);
      }
      const allowed = policy.check(subscription.endpoint);
      if (!allowed.ok)
        return { kind: 'failed', statusCode: null, reason: `endpoint refused: ${allowed.reason}` };
      const endpoint = new URL(subscription.endpoint);
      const admission = breakers?.admit(endpoint.origin, now) ?? { allowed: true };
      if (!admission.allowed) {
        return { kind: 'retry', retryAt: admission.retryAt, statusCode: null, reason: admission.reason };
      }

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
      let request: TransportRequest;
      if (pool) {
        // Checked here so a payload over the limit throws before any work, as without a pool.
        checkedPlaintext(input.payload, input.campaignId);
        request = webPushRequestWithBody(input, await pool.encrypt(input.keys, input.payload));
      } else {
        request = buildWebPushRequest(input);
      }
      let outcome: DeliveryOutcome;
      try {
        const response = await transport.send(request, { timeoutMs });
        outcome = outcomeOfResponse(response, endpoint, now);
      } catch (error) {
        outcome = outcomeOfNetworkError(error, now);
      }
      breakers?.record(endpoint.origin, isServiceFailure(outcome), now);
      return outcome;
    },
    async close() {
      await Promise.all([transport.close(), pool?.close()]);
    },
  };
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
