import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  bearerToken,
  consoleLogger,
  errorResponse,
  type Herald,
  type HttpOptions,
  heraldAdminHttp,
  heraldHttp,
  type Logger,
  toNodeListener,
} from '@herald/core';
import { basicAuth, heraldDashboard } from '@herald/dashboard';
import express, { type NextFunction, type Request, type Response } from 'express';

const require = createRequire(import.meta.url);
/**
 * The built browser SDK and service-worker script, served as a site would serve them. Found from
 * each package's package.json, not its main entry: under tsx the root tsconfig `paths` resolve
 * `@herald/browser-sdk` to its TypeScript sources, which a browser cannot load.
 */
const distOf = (name: string) => join(dirname(require.resolve(`${name}/package.json`)), 'dist');
const sdkDir = distOf('@herald/browser-sdk');
const serviceWorkerScript = join(distOf('@herald/service-worker'), 'herald-sw.js');

export interface AppOptions {
  herald: Herald;
  /** Bearer token of the admin API under /admin/api (at least 16 characters); also the dashboard's password (user `admin`). */
  adminToken: string;
  vapidPublicKey: string;
  /** Files served at the site root: index.html, sw.js, the SDK bundle. */
  publicDir: string;
  http?: HttpOptions;
  /** Where the site's own route errors are logged (default: warnings and errors on the console). */
  logger?: Logger;
}

/**
 * The example site: Herald's endpoints under /herald, Herald's admin API under /admin/api, the
 * dashboard under /admin, and the subscribe page.
 */
export function createApp({ herald, adminToken, vapidPublicKey, publicDir, http, logger }: AppOptions) {
  const app = express();
  app.disable('x-powered-by');
  // The admin API, from the library: campaigns, segments, profiles, events; OpenAPI at /admin/api/openapi.json.
  // Mounted before express.json so Herald reads (and size-limits) its own bodies.
  app.use(
    '/admin/api',
    toNodeListener(heraldAdminHttp(herald, { authorize: bearerToken(adminToken), mountPath: '/admin/api' })),
  );
  // The dashboard (its page, assets and its own API under /admin/_api), signed in with HTTP Basic as `admin`.
  app.use(
    '/admin',
    heraldDashboard(herald, {
      authorize: basicAuth({ username: 'admin', password: adminToken }),
      basePath: '/admin',
    }),
  );
  // Herald's public endpoints too: its reader answers an oversized, non-JSON or non-UTF-8 body with
  // the same JSON errors as the admin API (413 naming the limit, 415, 400), whatever the site's parser does.
  app.use('/herald', toNodeListener(heraldHttp(herald, http)));
  app.use(express.json({ limit: '64kb' }));

  app.get('/config.json', (_req, res) => {
    res.json({ apiBase: '/herald', vapidPublicKey, serviceWorker: { url: '/sw.js', scope: '/' } });
  });

  app.use('/sdk', express.static(sdkDir));
  app.get('/herald-sw.js', (_req, res) => {
    res.sendFile(serviceWorkerScript);
  });
  app.use(express.static(publicDir, { index: 'index.html' }));
  app.use(errorHandler(logger ?? consoleLogger('warn')));
  return app;
}

/** Errors of the site's own routes (a bad JSON body for express.json), in Herald's error shape. */
function errorHandler(logger: Logger) {
  return (error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if ((error as { type?: string }).type === 'entity.too.large') {
      res
        .status(413)
        .json({ error: { code: 'body_too_large', message: 'body over the limit of 65536 bytes' } });
      return;
    }
    if (error instanceof SyntaxError) {
      res.status(400).json({ error: { code: 'malformed_json', message: 'body is not valid JSON' } });
      return;
    }
    const response = errorResponse(error, logger);
    res.status(response.status).json(response.body);
  };
}
