import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { systemClock } from '../adapters/system-clock.js';
import { ConfigError, PayloadTooLargeError, parseConfig } from '../errors/index.js';
import type { Urgency } from '../model/index.js';
import { providerOptions } from '../option-kinds.js';
import { parseHeraldPayload } from '../payload/index.js';
import type { Clock } from '../ports/clock.js';
import { type ApnsCredentials, type ApnsToken, createApnsTokenSigner } from './apns-token.js';
import { type CircuitBreakerOptions, createCircuitBreakers, sendThroughBreaker } from './circuit-breaker.js';
import type { HttpTransport, TransportResponse } from './http-transport.js';
import { lostConnectionOf } from './lost-connection.js';
import type { DeliveryOutcome } from './outcome.js';
import { pooledHttpTransport } from './pooled-http-transport.js';
import type { OutboundMessage, PushProvider } from './provider.js';
import { adaptForSafari } from './safari-adapt.js';
import { DEFAULT_RATE_LIMIT_RETRY_MS, outcomeOfNetworkError, parseRetryAfter } from './webpush-response.js';

export interface SafariApnsOptions extends ApnsCredentials {
  /** The Website Push ID registered with Apple (`web.com.example.shop`): the `apns-topic`. */
  websitePushId: string;
  /** Default https://api.push.apple.com (production); https://api.sandbox.push.apple.com for development. */
  endpoint?: string;
  /** Wall time for the provider token's `iat` and `apns-expiration` (Apple checks both against real time). */
  clock?: Clock;
  /** Default 30 s; a request without an answer by then is retried. */
  timeoutMs?: number;
  /** Default: pooledHttpTransport() (APNs speaks HTTP/2 only). Tests pass one trusting their certificate. */
  transport?: HttpTransport;
  /** Per-origin circuit breaker tuning, or false. Default on. */
  circuitBreaker?: Partial<CircuitBreakerOptions> | false;
  /** The label of the notification's action button (`aps.alert.action`, e.g. "View"); default Safari's own. */
  actionLabel?: string;
}

/**
 * `safariApns`'s options, checked at the call as `webPush`'s are: a misspelt key (`websitePushID`,
 * `timeoutMS`) is refused with the one meant. The credentials' and push ID's values are checked
 * below and by the token signer, with their own messages.
 */
const SafariApnsOptionsShape = z.strictObject({
  teamId: z.string(),
  keyId: z.string(),
  privateKey: z.string(),
  websitePushId: z.string(),
  endpoint: z.string().optional(),
  ...providerOptions,
  actionLabel: z.string().optional(),
});

/** APNs refuses website push payloads over 4 KB with 413 PayloadTooLarge. */
export const MAX_APNS_PAYLOAD_BYTES = 4096;

/** The JSON sent to APNs for one legacy Safari notification. */
export interface ApnsWebsitePayload {
  aps: {
    alert: { title: string; body: string; action?: string };
    'url-args': string[];
  };
}

/**
 * Safari's legacy website push (macOS Safari before 16), through APNs with
 * token-based authentication over HTTP/2.
 *
 * The engine hands every provider the Declarative Web Push JSON it built;
 * this one parses it and keeps what legacy Safari shows (adaptForSafari):
 * `notification.title` → `aps.alert.title`, `notification.body` →
 * `aps.alert.body`, the path segments of `notification.navigate` →
 * `aps.url-args`. Icon, image, badge, actions and Herald's reporting fields
 * are dropped (no service worker runs there).
 *
 * Apple's answers: 200 sent; 410 (Unregistered, DeviceTokenInactiveForTopic)
 * gone; 429 and 5xx retry; 403 InvalidProviderToken / ExpiredProviderToken:
 * the token is renewed and the message sent once more, then it fails as
 * "Invalid Authentication" (a configuration fault); any other 4xx failed
 * with Apple's reason.
 */
export function safariApns(options: SafariApnsOptions): PushProvider {
  parseConfig(SafariApnsOptionsShape, options, 'safariApns options');
  if (!/^web(\.[A-Za-z0-9-]+)+$/.test(options.websitePushId))
    throw new ConfigError(
      `websitePushId must look like web.com.example.shop, got "${options.websitePushId}"`,
    );
  const clock = options.clock ?? systemClock();
  const tokens = createApnsTokenSigner(options, clock);
  const base = new URL(options.endpoint ?? 'https://api.push.apple.com');
  const timeoutMs = options.timeoutMs ?? 30_000;
  const transport = options.transport ?? pooledHttpTransport();
  const breakers = options.circuitBreaker === false ? null : createCircuitBreakers(options.circuitBreaker);

  async function post(message: OutboundMessage, deviceToken: string, body: Uint8Array, token: ApnsToken) {
    const expiresAt =
      message.ttlSeconds <= 0 ? 0 : Math.floor(clock.now().getTime() / 1000) + message.ttlSeconds;
    return transport.send(
      {
        url: new URL(`/3/device/${deviceToken}`, base),
        method: 'POST',
        headers: {
          authorization: `bearer ${token.jwt}`,
          'apns-topic': options.websitePushId,
          'apns-push-type': 'alert',
          'apns-expiration': String(expiresAt),
          'apns-priority': priorityOf(message.urgency),
          'apns-id': randomUUID(),
          'content-type': 'application/json',
        },
        body,
      },
      { timeoutMs },
    );
  }

  return {
    target: 'safari',
    async send(message, now): Promise<DeliveryOutcome> {
      const { subscription } = message;
      if (subscription.target !== 'safari') {
        throw new ConfigError(`the safariApns provider cannot send to a ${subscription.target} subscription`);
      }
      const body = Buffer.from(JSON.stringify(apnsPayloadOf(message.payload, options.actionLabel)), 'utf8');
      if (body.length > MAX_APNS_PAYLOAD_BYTES) {
        throw new PayloadTooLargeError(
          message.campaignId ?? '(unnamed)',
          body.length,
          MAX_APNS_PAYLOAD_BYTES,
        );
      }
      return sendThroughBreaker(breakers, base.origin, now, async () => {
        // Retry-After counts from Apple's answer, not from the request (as in webPush).
        const requestedAt = performance.now();
        try {
          let token = await tokens.current();
          let response = await post(message, subscription.deviceToken, body, token);
          if (response.statusCode === 403 && TOKEN_REASONS.has(reasonCode(response))) {
            token = await tokens.renew(token);
            response = await post(message, subscription.deviceToken, body, token);
          }
          const answeredAt = new Date(now.getTime() + Math.ceil(performance.now() - requestedAt));
          return { outcome: outcomeOfApnsResponse(response, now, answeredAt) };
        } catch (error) {
          if (error instanceof ConfigError) throw error;
          return { outcome: outcomeOfNetworkError(error, now), lostConnection: lostConnectionOf(error) };
        }
      });
    },
    close: () => transport.close(),
  };
}

/** The APNs payload for the Herald (Declarative Web Push) JSON the engine built. */
export function apnsPayloadOf(json: string, actionLabel?: string): ApnsWebsitePayload {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new ConfigError('safariApns received a payload that is not JSON');
  }
  const payload = parseHeraldPayload(parsed);
  if (!payload) throw new ConfigError('safariApns received a payload that is not a Herald payload');
  const safari = adaptForSafari(payload);
  return {
    aps: {
      alert: { title: safari.title, body: safari.body, ...(actionLabel ? { action: actionLabel } : {}) },
      'url-args': safari.urlArgs,
    },
  };
}

const TOKEN_REASONS = new Set(['InvalidProviderToken', 'ExpiredProviderToken']);

/**
 * Apple's answer as an outcome (the 403 token renewal has happened before this). `now` is when the
 * request left; `answeredAt`, when the answer came (default `now`): Retry-After counts from it.
 */
export function outcomeOfApnsResponse(
  response: TransportResponse,
  now: Date,
  answeredAt: Date = now,
): DeliveryOutcome {
  const statusCode = response.statusCode;
  const code = reasonCode(response);
  const reason = code ? `${statusCode} ${code}` : `${statusCode}`;
  if (statusCode === 200) return { kind: 'sent', statusCode };
  // 410 Unregistered / DeviceTokenInactiveForTopic: the user turned notifications off.
  if (statusCode === 410) return { kind: 'gone', statusCode };
  if (statusCode === 429) {
    const retryAt =
      retryAfterOf(response, answeredAt) ?? new Date(now.getTime() + DEFAULT_RATE_LIMIT_RETRY_MS);
    return { kind: 'retry', retryAt, statusCode, reason };
  }
  if (statusCode >= 500)
    return { kind: 'retry', retryAt: retryAfterOf(response, answeredAt) ?? now, statusCode, reason };
  if (statusCode === 403) {
    const what = TOKEN_REASONS.has(code) ? `Invalid Authentication: ${reason}` : reason;
    return { kind: 'failed', statusCode, reason: what, configFault: true };
  }
  return { kind: 'failed', statusCode, reason };
}

/** APNs answers errors as `{"reason": "BadDeviceToken"}`. */
function reasonCode(response: TransportResponse): string {
  try {
    const parsed = JSON.parse(response.body) as { reason?: unknown };
    return typeof parsed.reason === 'string' ? parsed.reason : '';
  } catch {
    return '';
  }
}

function retryAfterOf(response: TransportResponse, now: Date): Date | null {
  const value = response.headers['retry-after'];
  return parseRetryAfter(Array.isArray(value) ? value[0] : value, now);
}

/** 10: deliver now (alerts); 5: when the device's power allows. */
function priorityOf(urgency: Urgency): string {
  return urgency === 'high' || urgency === 'normal' ? '10' : '5';
}
