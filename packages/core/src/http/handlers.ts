import { z } from 'zod';
import type { Herald } from '../engine/api.js';
import { internals } from '../engine/internals.js';
import { ConfigError, parseConfig, parseInput } from '../errors/index.js';
import { describeValue } from '../errors/zod-issues.js';
import { EventName, PushSubscriptionJson, TimeZone, UserAgent, UserId } from '../model/index.js';
import { callback } from '../option-kinds.js';
import { ReportBody } from '../payload/index.js';
import { errorResponse } from './errors.js';
import { type ClientAddressOptions, createRateLimiter, RateLimits } from './rate-limit.js';
import { refusedTokensLog } from './refused-tokens.js';

/**
 * A request as any framework can describe it; `path` is relative to where Herald is mounted.
 * `raw` is the host framework's own request object (Node's, Express's with `req.user`), when the
 * adapter has one: `toNodeListener` fills it, so a host's session or Passport user stays reachable.
 */
export interface HttpRequest<Raw = unknown> {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  /** Query string parameters; a repeated name gives an array. */
  query?: Record<string, string | string[] | undefined>;
  /**
   * The peer address of the connection (`toNodeListener` fills it from the socket). Behind a
   * reverse proxy this is the proxy's: see `HttpOptions.clientAddress` for X-Forwarded-For.
   */
  clientAddress?: string;
  raw?: Raw;
}

export interface HttpResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface HttpOptions<Raw = unknown> {
  /**
   * The signed-in user of this request, from the host's own session. When it
   * returns null the subscriber is anonymous (an id derived from the
   * subscription) unless `trustClientUserId` lets the browser name itself.
   * `request.raw` is the host framework's request (`toNodeListener` fills
   * it): name its type to read `req.user` typed, e.g.
   * `heraldHttp<express.Request>(herald, { resolveUser: (request) => request.raw?.user?.id ?? null })`.
   */
  resolveUser?: (request: HttpRequest<Raw>) => string | null | undefined | Promise<string | null | undefined>;
  /** Accept `userId` from the request body. Only for demos and tests: anyone could claim any id. */
  trustClientUserId?: boolean;
  /**
   * Requests per client address and endpoint (subscribe, identify, events, reports), counted in
   * the engine's Counters so every process shares the count; over it, 429 with Retry-After.
   * Defaults in `DEFAULT_RATE_LIMITS`; `false` turns one (or all) off. docs/SECURITY.md.
   */
  rateLimits?: RateLimits;
  /**
   * Reverse proxies of the host's own in front of the server (default 0): only then is
   * X-Forwarded-For read for the client address, since anyone can send that header.
   */
  trustedProxies?: number;
  /** The host's own client address of a request, overriding the peer address and `trustedProxies`. */
  clientAddress?: (request: HttpRequest<Raw>) => string | null | undefined;
  /**
   * Largest body accepted, by its declared Content-Length (default 64 KiB; 413 past it): the limit
   * for hosts that parse bodies with their own framework. `toNodeListener` has its own, on the bytes.
   */
  maxBodyBytes?: number;
  /**
   * Revenue carried by events the browser posts to /events: anyone can post any amount, so a
   * campaign's revenue from such events is only as true as the page's visitors. `'allow'`
   * (default) counts it, `'off'` counts the conversion without revenue, `{ max }` caps each amount.
   * Revenue reported by the host's own server (`herald.events.track`) is never limited.
   */
  clientRevenue?: 'allow' | 'off' | { max: number };
}

// Every key, the callbacks too: a misspelt `resolveUser` would leave every subscriber anonymous.
const HttpSettings = z.strictObject({
  resolveUser: callback.optional(),
  trustClientUserId: z.boolean().optional(),
  clientAddress: callback.optional(),
  rateLimits: RateLimits.optional(),
  trustedProxies: z.number().int().min(0).max(10).optional(),
  maxBodyBytes: z.number().int().min(1).optional(),
  clientRevenue: z
    .union([z.literal('allow'), z.literal('off'), z.strictObject({ max: z.number().min(0) })])
    .optional(),
});

// Bodies are strict like every input: a key the browser SDK does not send is a mistake worth naming.
const SubscribeBody = z.strictObject({
  subscription: PushSubscriptionJson,
  userId: UserId.optional(),
  timezone: TimeZone.optional(),
  /** `navigator.userAgent`, for stats by browser. */
  userAgent: UserAgent.optional(),
  /** The endpoint this subscription replaces (pushsubscriptionchange, VAPID key change). */
  oldEndpoint: z.string().url().optional(),
});
const SafariSubscribeBody = z.strictObject({
  deviceToken: z.string(),
  userId: UserId.optional(),
  timezone: TimeZone.optional(),
});
const UnsubscribeBody = z.strictObject({ endpoint: z.string().url() });
const IdentifyBody = z.strictObject({ endpoint: z.string().url(), userId: UserId });
const StrictReportBody = z.strictObject(ReportBody.shape);
const EventBody = z.strictObject({
  userId: UserId.optional(),
  endpoint: z.string().url().optional(),
  name: EventName,
  /** Free-form; `events.track` checks they are JSON. */
  properties: z.record(z.string(), z.unknown()).optional(),
});

/**
 * The endpoints the browser SDK and service worker call, framework-neutral:
 * mount the returned function under a path (e.g. /herald) with any server.
 */
export function heraldHttp<Raw = unknown>(
  herald: Herald,
  options: HttpOptions<Raw> = {},
): HeraldHttpHandler<Raw> {
  const { logger, clock, counters } = internals(herald);
  const settings = parseConfig(HttpSettings, options, 'heraldHttp options');
  const maxBodyBytes = settings.maxBodyBytes ?? 64 * 1024;
  const tokenRefused = refusedTokensLog(logger, clock);
  const revenueCap = revenueCapOf(settings.clientRevenue ?? 'allow');
  const limiter = createRateLimiter({ counters, clock }, settings.rateLimits ?? {}, {
    trustedProxies: settings.trustedProxies ?? 0,
    ...(options.clientAddress
      ? { clientAddress: options.clientAddress as ClientAddressOptions['clientAddress'] }
      : {}),
  });

  async function userFor(
    request: HttpRequest<Raw>,
    claimed: string | undefined,
    fallback: () => string,
  ): Promise<string> {
    const resolved = options.resolveUser ? await options.resolveUser(request) : null;
    // The host's mistake, not the browser's: a 500 with the cause logged, not a 400 blaming the request.
    if (resolved !== null && resolved !== undefined && typeof resolved !== 'string')
      throw new ConfigError(
        `heraldHttp resolveUser returned ${describeValue(resolved)}: it must return the user's id as a string, or null for an anonymous visitor`,
      );
    if (resolved) return resolved;
    if (claimed && options.trustClientUserId) return claimed;
    return fallback();
  }

  async function route(request: HttpRequest<Raw>): Promise<HttpResponse> {
    const key = `${request.method.toUpperCase()} ${request.path.replace(/\/+$/, '') || '/'}`;
    const declared = Number(headerOf(request, 'content-length'));
    if (Number.isFinite(declared) && declared > maxBodyBytes) {
      return {
        status: 413,
        body: { error: { code: 'body_too_large', message: `body over the limit of ${maxBodyBytes} bytes` } },
      };
    }
    const limited = await limiter.check(key, request);
    if (limited) return limited;
    switch (key) {
      case 'POST /subscriptions': {
        const body = parseInput(SubscribeBody, request.body, 'subscription request');
        const oldEndpoint =
          body.oldEndpoint && body.oldEndpoint !== body.subscription.endpoint ? body.oldEndpoint : null;
        // A rotated subscription (the service worker's pushsubscriptionchange carries no session
        // or bearer token) inherits the owner and zone of the one it replaces when the host cannot
        // tell who is posting; a signed-in user (resolveUser) still wins. Why inheriting is safe
        // enough: the old endpoint is a capability URL that only the browser, its push service and
        // this server know, so whoever presents it is taken to be that browser (unsubscribe and
        // identify trust it the same way). The claim gains nothing beyond what that browser had:
        // the new subscription receives the messages that user was already getting there.
        const replaced = oldEndpoint ? await herald.subscriptions.getByEndpoint(oldEndpoint) : null;
        const inherited = replaced?.target === 'webpush' ? replaced : null;
        const userId = await userFor(
          request,
          body.userId,
          () => inherited?.userId ?? `anon_${herald.subscriptions.idForEndpoint(body.subscription.endpoint)}`,
        );
        const timezone = body.timezone ?? inherited?.timezone;
        const userAgent = body.userAgent ?? inherited?.userAgent;
        const stored = await herald.subscriptions.add({
          target: 'webpush',
          userId,
          subscription: body.subscription,
          ...(timezone ? { timezone } : {}),
          ...(userAgent ? { userAgent } : {}),
        });
        // Only once the new subscription is stored: a failure above leaves the user their old one.
        if (oldEndpoint) await herald.subscriptions.removeByEndpoint(oldEndpoint);
        return { status: 201, body: { id: stored.id, userId } };
      }
      case 'POST /subscriptions/safari': {
        const body = parseInput(SafariSubscribeBody, request.body, 'Safari subscription request');
        const userId = await userFor(
          request,
          body.userId,
          () => `anon_sf_${body.deviceToken.slice(0, 24).toLowerCase()}`,
        );
        const stored = await herald.subscriptions.add({
          target: 'safari',
          userId,
          deviceToken: body.deviceToken,
          ...(body.timezone ? { timezone: body.timezone } : {}),
        });
        return { status: 201, body: { id: stored.id, userId } };
      }
      case 'DELETE /subscriptions': {
        const body = parseInput(UnsubscribeBody, request.body, 'unsubscribe request');
        await herald.subscriptions.removeByEndpoint(body.endpoint);
        return { status: 204 };
      }
      case 'POST /identify': {
        const body = parseInput(IdentifyBody, request.body, 'identify request');
        const current = await herald.subscriptions.getByEndpoint(body.endpoint);
        if (current?.target !== 'webpush') {
          return {
            status: 404,
            body: { error: { code: 'not_found', message: 'no subscription with that endpoint' } },
          };
        }
        // Without resolveUser or trustClientUserId the browser cannot name its user: the owner stays,
        // and the answer says so rather than a bare 204 that reads like success.
        const userId = await userFor(request, body.userId, () => current.userId);
        await herald.subscriptions.add({
          target: 'webpush',
          userId,
          subscription: {
            endpoint: current.endpoint,
            keys: current.keys,
            expirationTime: current.expirationTime ?? null,
          },
          ...(current.timezone ? { timezone: current.timezone } : {}),
          ...(current.userAgent ? { userAgent: current.userAgent } : {}),
        });
        return { status: 200, body: { userId, changed: userId !== current.userId } };
      }
      case 'POST /events': {
        const body = parseInput(EventBody, request.body, 'event');
        let fallbackUser: string | undefined;
        if (body.endpoint) {
          fallbackUser = (await herald.subscriptions.getByEndpoint(body.endpoint))?.userId;
        }
        const userId = await userFor(request, body.userId, () => fallbackUser ?? '');
        if (!userId) {
          return {
            status: 400,
            body: { error: { code: 'validation_failed', message: 'event has no known user' } },
          };
        }
        await herald.events.track(
          { userId, name: body.name, properties: body.properties ?? {} },
          revenueCap === undefined ? {} : { maxRevenue: revenueCap },
        );
        return { status: 202 };
      }
      case 'POST /reports': {
        // Strict: a report names nothing but its token's claims, so a body naming a campaign or
        // a user (someone trying to aim a token elsewhere) is refused, not quietly stripped.
        const body = parseInput(StrictReportBody, request.body, 'report');
        if (!(await herald.reports.record(body))) {
          tokenRefused();
          return {
            status: 403,
            body: { error: { code: 'invalid_token', message: 'report token is invalid or expired' } },
          };
        }
        return { status: 204 };
      }
      default:
        return { status: 404, body: { error: { code: 'not_found', message: `no route ${key}` } } };
    }
  }

  return async function handle(request: HttpRequest<Raw>): Promise<HttpResponse> {
    try {
      return await route(request);
    } catch (error) {
      return errorResponse(error, logger);
    }
  };
}

function headerOf(request: HttpRequest<unknown>, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The most revenue one browser-posted event may carry; undefined when not limited. */
function revenueCapOf(setting: 'allow' | 'off' | { max: number }): number | undefined {
  if (setting === 'allow') return undefined;
  return setting === 'off' ? 0 : setting.max;
}

export type HeraldHttpHandler<Raw = unknown> = (request: HttpRequest<Raw>) => Promise<HttpResponse>;
