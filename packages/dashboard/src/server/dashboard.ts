import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type AdminHttpOptions,
  type Authorize,
  ConfigError,
  checkedDecision,
  consoleLogger,
  type Herald,
  heraldAdminHttp,
  type Logger,
  toNodeListener,
  unknownKeyMessage,
} from '@herald/core';
import { type Asset, loadAssets } from './assets.js';
import { CSRF_HEADER, checkCsrf, csrfCookie, existingCsrfToken, newCsrfToken } from './csrf.js';
import { renderPage } from './page.js';

export interface DashboardOptions<Raw extends IncomingMessage = IncomingMessage> {
  /**
   * Required: decides the page load and every API call, with the admin API's contract
   * (`{ request, raw, operation }` → allow with a principal, or deny). `raw` is the framework's
   * request (Express's `req.user`). `basicAuth({ username, password })` is a ready one.
   */
  authorize: Authorize<Raw>;
  /** Where the host mounts the dashboard, e.g. `/admin`: its page, assets and API live under it. */
  basePath: string;
  /**
   * Where an unauthenticated page load is sent (the host's sign-in page; `?next=` is added).
   * Without it the page answers 401, with `challenge` as `WWW-Authenticate` when set.
   */
  loginUrl?: string;
  /** `WWW-Authenticate` for an unauthenticated page load (default: the authoriser's own, as `basicAuth` has). */
  challenge?: string;
  /** The page title (default "Herald"). */
  title?: string;
  /** Largest API body, in bytes (default 64 KiB, as the admin API). */
  maxBodyBytes?: number;
  /** Receives every change made through the dashboard, as the admin API's `audit` option. */
  audit?: AdminHttpOptions['audit'];
  /** Defaults to the engine's logger. */
  logger?: Logger;
}

/** A Node request handler, usable as Express/Connect middleware and from Fastify, Koa or Hono's Node request. */
export type DashboardHandler = (
  request: IncomingMessage,
  response: ServerResponse,
  next?: (error?: unknown) => void,
) => Promise<void>;

/** Where the dashboard's API answers, under `basePath`: not `/api`, which a host often gives the bearer-token admin API. */
export const API_SEGMENT = '/_api';

/**
 * What every answer may load: scripts and styles only from this origin (no inline script, no CDN),
 * API calls only to this origin, images from anywhere (a campaign's icon and image are on the
 * host's CDN), and no framing (clickjacking the lifecycle buttons).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  'img-src * data:',
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
};

const PAGE_OPERATION = { id: 'openDashboard', method: 'GET', path: '/', changes: false };

const OPTION_KEYS: readonly (keyof DashboardOptions)[] = [
  'authorize',
  'basePath',
  'loginUrl',
  'challenge',
  'title',
  'maxBodyBytes',
  'audit',
  'logger',
];

/** A misspelt option (`loginURL`) would be dropped without a word: name it, with the key it was meant to be. */
function refuseUnknownKeys(options: object): void {
  const unknown = Object.keys(options).filter((key) => !(OPTION_KEYS as readonly string[]).includes(key));
  if (unknown.length === 0) return;
  const named = unknown.map((key) => `${key}: ${unknownKeyMessage(key, OPTION_KEYS)}`);
  throw new ConfigError(`heraldDashboard options: ${named.join('; ')}`);
}

function normaliseBasePath(basePath: string): string {
  if (typeof basePath !== 'string' || !/^\/[A-Za-z0-9/_.~-]*$/.test(basePath))
    throw new ConfigError('heraldDashboard needs basePath: the path it is mounted at, e.g. "/admin"');
  return basePath.replace(/\/+$/, '');
}

/**
 * The campaigns dashboard: `app.use('/admin', heraldDashboard(herald, { authorize, basePath: '/admin' }))`.
 * Serves the page, its prebuilt assets and, under `{basePath}/_api`, the admin API itself
 * (`heraldAdminHttp` with the same `authorize`), so the dashboard does nothing the API does not.
 */
export function heraldDashboard<Raw extends IncomingMessage = IncomingMessage>(
  herald: Herald,
  options: DashboardOptions<Raw>,
): DashboardHandler {
  if (typeof options?.authorize !== 'function')
    throw new ConfigError(
      'heraldDashboard needs an authorize function (e.g. basicAuth({ username, password })): the dashboard is never open',
    );
  refuseUnknownKeys(options);
  const basePath = normaliseBasePath(options.basePath);
  const authorize = options.authorize;
  const challenge =
    options.challenge ?? (authorize as Authorize<Raw> & { challenge?: string }).challenge ?? undefined;
  const assets = loadAssets();
  const apiPath = `${basePath}${API_SEGMENT}`;
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024;
  const api = toNodeListener<Raw>(
    heraldAdminHttp<Raw>(herald, {
      authorize,
      mountPath: apiPath,
      maxBodyBytes,
      ...(options.audit ? { audit: options.audit } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    }),
    { maxBodyBytes },
  );
  const cookiePath = basePath || '/';
  // Without a next() to hand a fault to, it is logged here (the API's own faults go to the engine's logger).
  const faultLogger = options.logger ?? consoleLogger('warn');
  let warnedAboutMount = false;
  /**
   * A request outside `basePath` is the host's to answer, but one that reached this handler through
   * a mount elsewhere (Express's `req.baseUrl`) means the two disagree: every page would be a 404
   * with no word why. Said once.
   */
  const checkMount = (request: IncomingMessage): void => {
    const mount = (request as IncomingMessage & { baseUrl?: string }).baseUrl;
    if (warnedAboutMount || !mount || mount === basePath) return;
    warnedAboutMount = true;
    faultLogger.warn(
      `heraldDashboard is mounted at "${mount}" but its basePath is "${basePath}": requests under "${mount}" are passed on; give basePath: "${mount}"`,
    );
  };

  return async (request, response, next) => {
    try {
      // Express strips its mount path from req.url and keeps the whole one in originalUrl.
      const whole = (request as IncomingMessage & { originalUrl?: string }).originalUrl ?? request.url ?? '/';
      const url = new URL(whole, 'http://local');
      const pathname = url.pathname;
      if (pathname !== basePath && !pathname.startsWith(`${basePath}/`)) {
        checkMount(request);
        return notFound(response, next);
      }
      const path = pathname.slice(basePath.length) || '/';
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.setHeader(name, value);

      if (path === API_SEGMENT || path.startsWith(`${API_SEGMENT}/`)) {
        response.setHeader('cache-control', 'no-store');
        if (!['GET', 'HEAD', 'OPTIONS'].includes(request.method ?? 'GET')) {
          const verdict = checkCsrf(request);
          if (!verdict.ok) {
            sendJson(response, 403, { error: { code: 'csrf_refused', message: verdict.message } });
            return;
          }
        }
        // The admin handler routes on req.url; give it the path below the API's mount.
        request.url = (path.slice(API_SEGMENT.length) || '/') + url.search;
        await api(request as Raw & { body?: unknown }, response);
        return;
      }

      const assetName = /^\/assets\/([\w.-]+)$/.exec(path)?.[1];
      if (assetName !== undefined) {
        const asset = assets.get(assetName);
        if (!asset || !['GET', 'HEAD'].includes(request.method ?? 'GET')) return notFound(response, next);
        return sendAsset(request, response, asset);
      }

      if (path === '/' || path === '/index.html') {
        if (!['GET', 'HEAD'].includes(request.method ?? 'GET')) return notFound(response, next);
        await sendPage(request, response, url);
        return;
      }
      return notFound(response, next);
    } catch (error) {
      if (next) return next(error);
      faultLogger.error('herald dashboard failed', { message: (error as Error).message });
      if (!response.headersSent)
        sendJson(response, 500, { error: { code: 'internal', message: 'internal error' } });
      else response.end();
    }
  };

  async function sendPage(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const decision = checkedDecision(
      await authorize({
        request: {
          method: 'GET',
          path: '/',
          headers: request.headers,
          body: undefined,
          query: Object.fromEntries(url.searchParams),
          raw: request as Raw,
        },
        raw: request as Raw,
        operation: PAGE_OPERATION,
      }),
    );
    response.setHeader('cache-control', 'no-store');
    if (!decision.allow) {
      if (decision.reason === 'unauthenticated' && options.loginUrl) {
        const target = `${options.loginUrl}${options.loginUrl.includes('?') ? '&' : '?'}next=${encodeURIComponent(url.pathname + url.search)}`;
        response.writeHead(303, { location: target }).end();
        return;
      }
      const status = decision.reason === 'unauthenticated' ? 401 : 403;
      if (status === 401 && challenge) response.setHeader('www-authenticate', challenge);
      response
        .writeHead(status, { 'content-type': 'text/plain; charset=utf-8' })
        .end(
          status === 401
            ? 'Sign in to open the Herald dashboard.\n'
            : 'You may not open the Herald dashboard.\n',
        );
      return;
    }
    const token = existingCsrfToken(request) ?? newCsrfToken();
    const secure = Boolean((request.socket as { encrypted?: boolean } | undefined)?.encrypted);
    response.setHeader('set-cookie', csrfCookie(token, cookiePath, secure));
    const html = renderPage({
      title: options.title ?? 'Herald',
      basePath,
      apiPath,
      csrfToken: token,
      csrfHeader: CSRF_HEADER,
      principal: decision.principal,
      assetVersions: { js: versionOf(assets.get('app.js')), css: versionOf(assets.get('app.css')) },
    });
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
  }
}

const versionOf = (asset: Asset | undefined) => (asset?.etag ?? '').replace(/"/g, '');

function sendAsset(request: IncomingMessage, response: ServerResponse, asset: Asset): void {
  // The page names each asset with its hash (?v=), so a cached copy is never stale; revalidated anyway.
  response.setHeader('etag', asset.etag);
  response.setHeader('cache-control', 'no-cache');
  if (request.headers['if-none-match'] === asset.etag) {
    response.writeHead(304).end();
    return;
  }
  response.writeHead(200, { 'content-type': asset.contentType, 'content-length': asset.body.length });
  response.end(request.method === 'HEAD' ? undefined : asset.body);
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function notFound(response: ServerResponse, next: ((error?: unknown) => void) | undefined): void {
  if (next) {
    next();
    return;
  }
  sendJson(response, 404, { error: { code: 'route_not_found', message: 'no such dashboard path' } });
}
