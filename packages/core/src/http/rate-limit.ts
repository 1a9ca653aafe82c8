import { isIP } from 'node:net';
import { z } from 'zod';
import type { Clock, Counters } from '../ports/index.js';
import type { HttpRequest, HttpResponse } from './handlers.js';

/**
 * Rate limits of the public endpoints, per client address and per endpoint, counted in the
 * engine's `Counters`: with postgresCounters or redisCounters every process of a site shares one
 * count, so adding processes does not multiply what one address may send.
 *
 * A fixed window per address: simple, one counter per (endpoint, address, window) and one atomic
 * `consume`. Its known weakness (up to twice the limit across a window boundary) is acceptable for
 * abuse limits, which only need to bound a flood, not meter fair use.
 */

const Limit = z.strictObject({
  /** Requests one client address may make in a window. */
  limit: z.number().int().min(1).max(1_000_000),
  windowSeconds: z.number().int().min(1).max(86_400),
});

/**
 * Defaults a real site does not reach by accident, even with a whole office behind one NAT address:
 * a browser subscribes or identifies a few times per session and sends a handful of events and
 * reports per page; these allow hundreds of people per address per minute.
 */
export const DEFAULT_RATE_LIMITS = {
  subscribe: { limit: 60, windowSeconds: 60 },
  identify: { limit: 120, windowSeconds: 60 },
  events: { limit: 1200, windowSeconds: 60 },
  reports: { limit: 1200, windowSeconds: 60 },
} as const;

/** `false` turns an endpoint's limit off (or all of them); a partial object keeps the other defaults. */
export const RateLimits = z.union([
  z.literal(false),
  z.strictObject({
    subscribe: z.union([Limit, z.literal(false)]).optional(),
    identify: z.union([Limit, z.literal(false)]).optional(),
    events: z.union([Limit, z.literal(false)]).optional(),
    reports: z.union([Limit, z.literal(false)]).optional(),
  }),
]);
export type RateLimits = z.input<typeof RateLimits>;
export type RateLimitedEndpoint = keyof typeof DEFAULT_RATE_LIMITS;

/** Which limit a route counts against; routes not listed are not limited. */
const ENDPOINT_OF_ROUTE: Readonly<Record<string, RateLimitedEndpoint>> = {
  'POST /subscriptions': 'subscribe',
  'POST /subscriptions/safari': 'subscribe',
  'DELETE /subscriptions': 'subscribe',
  'POST /identify': 'identify',
  'POST /events': 'events',
  'POST /reports': 'reports',
};

/**
 * The address to count a request against. IPv4-mapped IPv6 (`::ffff:1.2.3.4`) is its IPv4
 * address; other IPv6 addresses count by their /64, since one subscriber line gets a whole /64 and
 * could otherwise take a fresh address per request.
 */
export function addressKey(address: string): string {
  const bare = address.trim().replace(/^\[|\]$/g, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped) return mapped[1] as string;
  if (isIP(bare) !== 6) return bare;
  return `${expandIpv6(bare).slice(0, 4).join(':')}::/64`;
}

function expandIpv6(address: string): string[] {
  const withoutZone = address.split('%')[0] as string;
  const [head, tail] = withoutZone.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const missing = tail === undefined ? 0 : 8 - left.length - right.length;
  return [...left, ...Array<string>(missing).fill('0'), ...right].map((group) => group.toLowerCase() || '0');
}

export interface ClientAddressOptions {
  /**
   * How many reverse proxies of the host's own sit in front of the server. 0 (default): the
   * connection's peer address, X-Forwarded-For ignored (anyone can write that header). N: the N-th
   * address from the right of X-Forwarded-For, the one the outermost trusted proxy saw.
   */
  trustedProxies?: number;
  /** Overrides both: the host's own notion of the client address (null: not limited). */
  clientAddress?: (request: HttpRequest<never>) => string | null | undefined;
}

export function clientAddressOf(request: HttpRequest<unknown>, options: ClientAddressOptions): string | null {
  if (options.clientAddress) return options.clientAddress(request as HttpRequest<never>) ?? null;
  const hops = options.trustedProxies ?? 0;
  if (hops > 0) {
    const header = request.headers['x-forwarded-for'];
    const chain = (Array.isArray(header) ? header.join(',') : (header ?? ''))
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean);
    // With fewer entries than trusted hops the request did not come through the proxies:
    // the peer is the best that is known.
    const forwarded = chain[chain.length - hops];
    if (forwarded) return forwarded;
  }
  return request.clientAddress ?? null;
}

export interface RateLimiter {
  /** A 429 answer when the request is over its endpoint's limit, null when it may proceed. */
  check(route: string, request: HttpRequest<unknown>): Promise<HttpResponse | null>;
}

export function createRateLimiter(
  ports: { counters: Counters; clock: Clock },
  limits: z.output<typeof RateLimits>,
  addressOptions: ClientAddressOptions,
): RateLimiter {
  const limitFor = (endpoint: RateLimitedEndpoint) => {
    if (limits === false) return null;
    const configured = limits[endpoint];
    if (configured === false) return null;
    return configured ?? DEFAULT_RATE_LIMITS[endpoint];
  };
  return {
    async check(route, request) {
      const endpoint = ENDPOINT_OF_ROUTE[route];
      if (!endpoint) return null;
      const limit = limitFor(endpoint);
      if (!limit) return null;
      const address = clientAddressOf(request, addressOptions);
      // No address known (a framework adapter that does not fill it): nothing to count against.
      if (!address) return null;
      const now = ports.clock.now();
      const windowMs = limit.windowSeconds * 1000;
      const windowStart = Math.floor(now.getTime() / windowMs) * windowMs;
      const expiresAt = new Date(windowStart + windowMs);
      const key = `herald:rate:${endpoint}:${addressKey(address)}:${windowStart}`;
      const result = await ports.counters.consume([{ key, limit: limit.limit, expiresAt }], now);
      if (result.allowed) return null;
      const retryAfter = Math.max(1, Math.ceil((expiresAt.getTime() - now.getTime()) / 1000));
      return {
        status: 429,
        headers: { 'retry-after': String(retryAfter) },
        body: {
          error: {
            code: 'rate_limited',
            message: `over ${limit.limit} ${endpoint} requests per ${limit.windowSeconds} s from this address; retry after ${retryAfter} s`,
          },
        },
      };
    },
  };
}
