import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type Authorize,
  ConfigError,
  createHerald,
  generateVapidKeys,
  memoryQueue,
  memoryStorage,
  webPush,
} from '@herald/core';
import { fakeClock } from '@herald/core/testing';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, CSRF_COOKIE, CSRF_HEADER, type DashboardHandler, heraldDashboard } from '../src/index.js';

const PASSWORD = 'unit-dashboard-password-0123';
const BASIC = `Basic ${Buffer.from(`marketer:${PASSWORD}`).toString('base64')}`;

function engine() {
  return createHerald({
    storage: memoryStorage(),
    queue: memoryQueue(),
    providers: { webpush: webPush({ vapid: { subject: 'mailto:a@example.com', ...generateVapidKeys() } }) },
    clock: fakeClock('2026-03-02T09:00:00Z'),
    reportSecret: 'unit-report-secret-0123456789abcdef',
  });
}

const campaign = {
  name: 'Unit',
  when: { schedule: { type: 'once', at: '2026-03-02T10:00:00Z' } },
  who: { segment: { type: 'all' } },
  what: { title: 'Hi', deeplink: 'https://example.com/' },
};

async function listen(
  handler: Parameters<typeof createServer>[1],
): Promise<{ origin: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** Opens the page as a signed-in browser would and returns what its scripts would hold: the token and the cookie. */
async function openPage(origin: string) {
  const response = await fetch(`${origin}/admin/`, { headers: { authorization: BASIC } });
  const html = await response.text();
  const token = /<meta name="herald-csrf" content="([^"]+)">/.exec(html)?.[1];
  const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0] as string;
  return { response, html, token: token as string, cookie };
}

describe('heraldDashboard: configuration', () => {
  it('refuses to be created without authorize, and without a basePath', () => {
    const herald = engine();
    expect(() => heraldDashboard(herald, { basePath: '/admin' } as never)).toThrow(ConfigError);
    expect(() =>
      heraldDashboard(herald, { authorize: basicAuth({ username: 'a', password: PASSWORD }) } as never),
    ).toThrow(/basePath/);
    expect(() => basicAuth({ username: 'a', password: 'short' })).toThrow(ConfigError);
  });

  it('refuses a misspelt option, which would be dropped without a word, naming the one meant', () => {
    const authorize = basicAuth({ username: 'a', password: PASSWORD });
    expect(() =>
      heraldDashboard(engine(), { authorize, basePath: '/admin', loginURL: '/login' } as never),
    ).toThrow(new ConfigError('heraldDashboard options: loginURL: unknown key; did you mean "loginUrl"?'));
  });

  it('answers 500 and logs it when authorize returns something else than a decision', async () => {
    const errors: string[] = [];
    const logger = {
      debug() {},
      info() {},
      warn() {},
      error: (_: string, fields?: Record<string, unknown>) => errors.push(String(fields?.message)),
    };
    const handler = heraldDashboard(engine(), {
      authorize: (() => true) as never,
      basePath: '/admin',
      logger,
    });
    const { origin, server } = await listen((request, response) => void handler(request, response));
    try {
      expect((await fetch(`${origin}/admin/`)).status).toBe(500);
      expect(errors).toEqual([
        "authorize returned true: it must return { allow: true, principal } or { allow: false, reason: 'unauthenticated' | 'forbidden' }",
      ]);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('says once, at the first request, that it is mounted somewhere its basePath is not', async () => {
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (message: string) => warnings.push(message) };
    const authorize = basicAuth({ username: 'a', password: PASSWORD });
    const app = express();
    app.use('/admin', heraldDashboard(engine(), { authorize, basePath: '/dashboard', logger }));
    app.use((_req, res) => {
      res.status(404).send('host 404');
    });
    const { origin, server } = await listen(app);
    try {
      expect((await fetch(`${origin}/admin/`)).status).toBe(404);
      expect((await fetch(`${origin}/admin/assets/app.js`)).status).toBe(404);
      expect(warnings).toEqual([
        'heraldDashboard is mounted at "/admin" but its basePath is "/dashboard": requests under "/admin" are passed on; give basePath: "/admin"',
      ]);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('heraldDashboard on a plain Node server', () => {
  const herald = engine();
  let origin: string;
  let server: Server;
  beforeAll(async () => {
    const handler = heraldDashboard(herald, {
      authorize: basicAuth({ username: 'marketer', password: PASSWORD }),
      basePath: '/admin',
    });
    ({ origin, server } = await listen((req, res) => void handler(req, res)));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('asks an unauthenticated browser for credentials (401 with the Basic challenge), API included', async () => {
    const page = await fetch(`${origin}/admin/`);
    expect(page.status).toBe(401);
    expect(page.headers.get('www-authenticate')).toMatch(/^Basic realm="Herald dashboard"/);
    const api = await fetch(`${origin}/admin/_api/campaigns`);
    expect(api.status).toBe(401);
    const wrong = await fetch(`${origin}/admin/`, {
      headers: { authorization: `Basic ${Buffer.from('marketer:nope').toString('base64')}` },
    });
    expect(wrong.status).toBe(401);
  });

  it('serves the page with a CSP that forbids inline script, and no inline script in it', async () => {
    const { response, html, token, cookie } = await openPage(origin);
    expect(response.status).toBe(200);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    // Every <script> loads a file from this origin under basePath; none carries code.
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/src="\/admin\/assets\/app\.js\?v=[\w-]+"/);
      expect(body).toBe('');
    }
    expect(html).not.toMatch(/https?:\/\//);
    expect(token).toMatch(/^[\w-]{43}$/);
    expect(cookie).toBe(`${CSRF_COOKIE}=${token}`);
    const setCookie = response.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).toMatch(/Path=\/admin(;|$)/);
    expect(html).toContain('<meta name="herald-api" content="/admin/_api">');
    expect(html).toContain('<meta name="herald-principal" content="marketer">');
  });

  it('serves the prebuilt assets with the same CSP and revalidates them by ETag', async () => {
    const script = await fetch(`${origin}/admin/assets/app.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(script.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(script.headers.get('x-content-type-options')).toBe('nosniff');
    expect((await script.text()).length).toBeGreaterThan(1000);
    const again = await fetch(`${origin}/admin/assets/app.js`, {
      headers: { 'if-none-match': script.headers.get('etag') ?? '' },
    });
    expect(again.status).toBe(304);
    const css = await fetch(`${origin}/admin/assets/app.css`);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    expect((await fetch(`${origin}/admin/assets/secret.txt`)).status).toBe(404);
    expect((await fetch(`${origin}/admin/assets/..%2Fpackage.json`)).status).toBe(404);
  });

  it('refuses a change without the CSRF token, with a wrong one, and from another site; accepts the page’s own', async () => {
    const { token, cookie } = await openPage(origin);
    const post = (headers: Record<string, string>) =>
      fetch(`${origin}/admin/_api/campaigns`, {
        method: 'POST',
        headers: { authorization: BASIC, 'content-type': 'application/json', ...headers },
        body: JSON.stringify(campaign),
      });

    // A cross-site form: credentials and even the cookie ride along, the header cannot.
    const noHeader = await post({ cookie });
    expect(noHeader.status).toBe(403);
    expect((await noHeader.json()).error.code).toBe('csrf_refused');
    const wrong = await post({ cookie, [CSRF_HEADER]: 'x'.repeat(43) });
    expect(wrong.status).toBe(403);
    const noCookie = await post({ [CSRF_HEADER]: token });
    expect(noCookie.status).toBe(403);
    const crossSite = await post({ cookie, [CSRF_HEADER]: token, 'sec-fetch-site': 'cross-site' });
    expect(crossSite.status).toBe(403);
    expect((await herald.campaigns.list()).length).toBe(0);

    const accepted = await post({ cookie, [CSRF_HEADER]: token, 'sec-fetch-site': 'same-origin' });
    expect(accepted.status).toBe(201);
    const created = await accepted.json();
    expect(accepted.headers.get('location')).toBe(`/admin/_api/campaigns/${created.id}`);
    expect((await herald.campaigns.list()).map((c) => c.id)).toEqual([created.id]);
  });

  it('reads through the admin API under {basePath}/_api with the same authorize (no CSRF token needed to read)', async () => {
    const list = await fetch(`${origin}/admin/_api/campaigns?status=draft`, {
      headers: { authorization: BASIC },
    });
    expect(list.status).toBe(200);
    expect(list.headers.get('cache-control')).toBe('no-store');
    const body = await list.json();
    expect(body.items.length).toBeGreaterThan(0);
    expect((await fetch(`${origin}/admin/_api/nope`, { headers: { authorization: BASIC } })).status).toBe(
      404,
    );
  });

  it('answers 404 outside its basePath when there is no next()', async () => {
    expect((await fetch(`${origin}/elsewhere`)).status).toBe(404);
    expect((await fetch(`${origin}/administrator/`)).status).toBe(404);
  });
});

describe('heraldDashboard mounted in Express', () => {
  const herald = engine();
  const seen: string[] = [];
  // An authoriser that reads the host's own session (here a header a login middleware would have checked).
  const authorize: Authorize = ({ raw, operation }) => {
    const user = (raw as { user?: string } | undefined)?.user;
    seen.push(operation.id);
    if (!user) return { allow: false, reason: 'unauthenticated' };
    if (operation.changes && user !== 'editor') return { allow: false, reason: 'forbidden' };
    return { allow: true, principal: user };
  };
  let origin: string;
  let server: Server;
  let handler: DashboardHandler;
  beforeAll(async () => {
    handler = heraldDashboard(herald, { authorize, basePath: '/tools/push', loginUrl: '/login' });
    const app = express();
    app.use((req, _res, next) => {
      const user = req.headers['x-user'];
      if (typeof user === 'string') Object.assign(req, { user });
      next();
    });
    app.use('/tools/push', handler);
    app.use((_req, res) => {
      res.status(418).send('host fallthrough');
    });
    ({ origin, server } = await listen(app));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('sends an unauthenticated page load to the host’s sign-in page, with where to come back', async () => {
    const response = await fetch(`${origin}/tools/push/`, { redirect: 'manual' });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/login?next=%2Ftools%2Fpush%2F');
    expect(seen).toContain('openDashboard');
  });

  it('works under a nested basePath and hands unknown paths back to Express (next)', async () => {
    const page = await fetch(`${origin}/tools/push/`, { headers: { 'x-user': 'viewer' } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('src="/tools/push/assets/app.js');
    expect(html).toContain('content="/tools/push/_api"');
    expect(page.headers.get('set-cookie')).toMatch(/Path=\/tools\/push;/);
    const unknown = await fetch(`${origin}/tools/push/unknown`, { headers: { 'x-user': 'viewer' } });
    expect(unknown.status).toBe(418);
    const list = await fetch(`${origin}/tools/push/_api/campaigns`, { headers: { 'x-user': 'viewer' } });
    expect(list.status).toBe(200);
  });

  it('lets the host’s authorize refuse changes to a read-only user after the CSRF check passed', async () => {
    const page = await fetch(`${origin}/tools/push/`, { headers: { 'x-user': 'viewer' } });
    const token = /<meta name="herald-csrf" content="([^"]+)">/.exec(await page.text())?.[1] as string;
    const cookie = (page.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const create = (user: string) =>
      fetch(`${origin}/tools/push/_api/campaigns`, {
        method: 'POST',
        headers: { 'x-user': user, cookie, [CSRF_HEADER]: token, 'content-type': 'application/json' },
        body: JSON.stringify(campaign),
      });
    expect((await create('viewer')).status).toBe(403);
    expect((await create('editor')).status).toBe(201);
  });
});
