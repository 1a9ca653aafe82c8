import { timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { errorResponse, type Herald, type HttpOptions, heraldHttp, toNodeListener } from '@herald/core';
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
  /** Bearer token for the admin API (POST /campaigns …). */
  adminToken: string;
  vapidPublicKey: string;
  /** Files served at the site root: index.html, sw.js, the SDK bundle. */
  publicDir: string;
  http?: HttpOptions;
}

/** The example site: Herald's endpoints under /herald, an admin API, and the subscribe page. */
export function createApp({ herald, adminToken, vapidPublicKey, publicDir, http }: AppOptions) {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '64kb' }));

  app.use('/herald', toNodeListener(heraldHttp(herald, http)));
  app.get('/config.json', (_req, res) => {
    res.json({ apiBase: '/herald', vapidPublicKey, serviceWorker: { url: '/sw.js', scope: '/' } });
  });

  const admin = express.Router();
  admin.use(requireBearer(adminToken));
  admin.post('/campaigns', async (req, res) => {
    const campaign = await herald.campaigns.create(req.body);
    const scheduled =
      req.query.schedule === 'false' ? campaign : await herald.campaigns.schedule(campaign.id);
    res.status(201).json(scheduled);
  });
  admin.get('/campaigns', async (_req, res) => {
    res.json(await herald.campaigns.list());
  });
  admin.get('/campaigns/:id', async (req, res) => {
    res.json(await herald.campaigns.get(req.params.id as string));
  });
  admin.get('/campaigns/:id/stats', async (req, res) => {
    res.json(await herald.campaigns.stats(req.params.id as string));
  });
  admin.post('/campaigns/:id/:command', async (req, res) => {
    const command = req.params.command;
    if (command !== 'pause' && command !== 'resume' && command !== 'stop') {
      res.status(404).json({ error: { code: 'not_found', message: `no command ${command}` } });
      return;
    }
    res.json(await herald.campaigns[command](req.params.id as string));
  });
  // The site's own user data (name, city…) that templates personalise with: `{{ user.first_name }}`.
  admin.put('/users/:userId', async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    res.json(await herald.profiles.upsert({ ...body, userId: req.params.userId }));
  });
  // What Herald holds for one user: their browsers (endpoint, time zone), without the keys.
  admin.get('/users/:userId/subscriptions', async (req, res) => {
    const subscriptions = await herald.subscriptions.list(req.params.userId as string);
    res.json(
      subscriptions.map(({ id, target, userId, timezone, createdAt, updatedAt, ...rest }) => ({
        id,
        target,
        userId,
        endpoint: 'endpoint' in rest ? rest.endpoint : null,
        timezone: timezone ?? null,
        createdAt,
        updatedAt,
      })),
    );
  });
  app.use('/admin', admin);

  app.use('/sdk', express.static(sdkDir));
  app.get('/herald-sw.js', (_req, res) => {
    res.sendFile(serviceWorkerScript);
  });
  app.use(express.static(publicDir, { index: 'index.html' }));
  app.use(errorHandler(herald));
  return app;
}

/** 401 for a missing or wrong token, compared in constant time. */
export function requireBearer(token: string) {
  const expected = Buffer.from(token);
  return (req: Request, res: Response, next: NextFunction) => {
    const header = req.get('authorization') ?? '';
    const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      res
        .status(401)
        .set('www-authenticate', 'Bearer')
        .json({ error: { code: 'unauthorized', message: 'bearer token required' } });
      return;
    }
    next();
  };
}

/** Herald's own mapping of errors to answers (a 5xx is logged and says nothing of its cause); a body that is not JSON is the client's error. */
function errorHandler(herald: Herald) {
  return (error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (error instanceof SyntaxError) {
      res.status(400).json({ error: { code: 'validation_failed', message: 'body is not valid JSON' } });
      return;
    }
    const { status, body } = errorResponse(error, herald.context.logger);
    res.status(status).json(body);
  };
}
