import { STATUS_CODES } from 'node:http';
import { truncateText } from '../model/text.js';
import type { TransportResponse } from './http-transport.js';
import type { DeliveryOutcome } from './outcome.js';

/**
 * When a 429 carries no usable Retry-After, wait this long: rate limits last
 * longer than a blip, and hammering a limiter only extends it.
 */
export const DEFAULT_RATE_LIMIT_RETRY_MS = 60_000;

/** Push services' reasons are short; a long body is an HTML error page. */
export const MAX_REASON_LENGTH = 500;

/**
 * Maps a push service's answer to an outcome (RFC 8030 §5, and what FCM,
 * Mozilla, Apple and WNS document):
 * - 2xx (201 Created, 202 Accepted): sent;
 * - 404/410: the subscription is gone;
 * - 429: retry at Retry-After (seconds or HTTP-date), else in 60 s;
 * - 408, 500, 502, 503, 504: retry at Retry-After when given, else at once:
 *   the service asked for no delay, so the engine's backoff decides;
 * - 401 and Apple's 403 blame our VAPID configuration: failed, configFault;
 * - anything else (400, 403, 413, …): failed with the service's reason.
 *
 * `now` is when the request left; `answeredAt`, when the answer came (default `now`). Retry-After's
 * seconds count from the answer (RFC 9110 §10.2.3): counted from the request, a retry would come
 * early by the request's latency (the chaos test measured 53 ms early).
 */
export function outcomeOfResponse(
  response: TransportResponse,
  endpoint: URL,
  now: Date,
  answeredAt: Date = now,
): DeliveryOutcome {
  const statusCode = response.statusCode;
  const reason = reasonOf(response);
  if (statusCode >= 200 && statusCode < 300) return { kind: 'sent', statusCode };
  switch (statusCode) {
    case 404:
    case 410:
      return { kind: 'gone', statusCode };
    case 429: {
      const retryAt =
        retryAfter(response, answeredAt) ?? new Date(now.getTime() + DEFAULT_RATE_LIMIT_RETRY_MS);
      return { kind: 'retry', retryAt, statusCode, reason };
    }
    case 408:
    case 500:
    case 502:
    case 503:
    case 504:
      return { kind: 'retry', retryAt: retryAfter(response, answeredAt) ?? now, statusCode, reason };
    case 401:
      return { kind: 'failed', statusCode, reason, configFault: true };
    case 403:
      // Apple's 403 (BadJwtToken, BadPublicKey…) is about our JWT, for every
      // subscriber alike. FCM's 403 is the subscription having been made
      // with another VAPID key: this subscriber only.
      return isApple(endpoint)
        ? { kind: 'failed', statusCode, reason, configFault: true }
        : { kind: 'failed', statusCode, reason };
    default:
      return { kind: 'failed', statusCode, reason };
  }
}

/** No answer at all (connection refused or reset, DNS, timeout): worth another try. */
export function outcomeOfNetworkError(error: unknown, now: Date): DeliveryOutcome {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  return {
    kind: 'retry',
    retryAt: now,
    statusCode: null,
    reason: typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message,
  };
}

/** The instant a Retry-After header names, or null when it is absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: Date): Date | null {
  if (value === undefined) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return new Date(now.getTime() + Number(text) * 1000);
  // Only the IMF-fixdate form senders must use (RFC 9110 §5.6.7): Date.parse
  // alone would read "-5" as a year.
  if (!IMF_FIXDATE.test(text)) return null;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return null;
  // A date already past means "now", not "in the past".
  return new Date(Math.max(date, now.getTime()));
}

const IMF_FIXDATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

function retryAfter(response: TransportResponse, now: Date): Date | null {
  const value = response.headers['retry-after'];
  return parseRetryAfter(Array.isArray(value) ? value[0] : value, now);
}

function reasonOf(response: TransportResponse): string {
  const status = `${response.statusCode} ${STATUS_CODES[response.statusCode] ?? ''}`.trim();
  const body = response.body.trim();
  if (body === '') return status;
  const text = body.length > MAX_REASON_LENGTH ? `${truncateText(body, MAX_REASON_LENGTH)}…` : body;
  return `${status}: ${text}`;
}

function isApple(endpoint: URL): boolean {
  return endpoint.hostname === 'push.apple.com' || endpoint.hostname.endsWith('.push.apple.com');
}
