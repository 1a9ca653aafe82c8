/**
 * Real-browser harness shared by the `*.browser.test.ts` files of browser-sdk and service-worker.
 *
 * - builds the SDK (ESM) and the service worker's classic script (IIFE, as `importScripts` loads it)
 *   straight from the sources with esbuild;
 * - serves them with a test page and a service worker from a loopback HTTP server that also plays
 *   the Herald host (records every request to `/herald/*`, can be told to fail reports);
 * - starts the GCM stand-in (gcm-stand-in.ts), where Chromium registers push subscriptions;
 * - launches Debian's Chromium (never a downloaded browser) with a fresh profile, under a private
 *   D-Bus session bus with a fake notification server, so notifications can be clicked for real.
 *   (Clicks only reach the service worker in a persistent context, not in an incognito one.)
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import { CHROMIUM, launchTestChromium } from './chromium.js';
import { type FakeNotify, startFakeNotify } from './fake-notify.js';
import { startGcmStandIn } from './gcm-stand-in.js';
import { readBody } from './http-body.js';
import { waitFor, withTimeout } from './waits.js';

export { waitFor, withTimeout };

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** A host name that resolves to loopback but is not a secure context over http. */
export const INSECURE_HOST = 'insecure.herald.test';

export interface HostRequest {
  method: string;
  path: string;
  body: Record<string, unknown> | null;
  status: number;
}

export interface Harness {
  origin: string;
  /** `http://insecure.herald.test:<port>`: the same server, as a page that is not a secure context. */
  insecureOrigin: string;
  context: BrowserContext;
  notify: FakeNotify;
  /** Requests the Herald host received (POST/DELETE under /herald). */
  requests: HostRequest[];
  /** Answer the next N report POSTs with 503. */
  failReports: number;
  /** When set, identify keeps the subscription for this user (a host without resolveUser); else it takes the id posted. */
  identifyKeeps: string | null;
  /** What the (faked) browser permission prompt answers; see INIT below. */
  permissionAnswer: NotificationPermission;
  /** When true, the GCM stand-in refuses registrations (Chromium retries: subscribe() never settles). */
  pushServiceDown: boolean;
  /** GCM registrations answered so far. */
  readonly gcmRegistrations: number;
  waitForRequest(
    predicate: (request: HostRequest) => boolean,
    step: string,
    timeoutMs?: number,
  ): Promise<HostRequest>;
  /** Opens the test page (which exposes the SDK as `window.Herald`). */
  openPage(path?: string): Promise<Page>;
  /** Hands `data` to the service worker of `scope` (default `/`) as a push message, over the DevTools protocol. */
  deliverPush(page: Page, data: string, scope?: string): Promise<void>;
  /** Notifications the service worker registration of `scope` (default `/`) has open. */
  notifications(page: Page, scope?: string): Promise<ShownNotification[]>;
  /**
   * Waits until the notification titled `title` is on the desktop (the notification server took its
   * Notify call) and then listed by `getNotifications()` of `scope`; returns it as listed.
   */
  shown(page: Page, title: string, scope?: string): Promise<ShownNotification>;
  close(): Promise<void>;
}

export interface ShownNotification {
  title: string;
  body: string;
  icon: string;
  image: string;
  badge: string;
  tag: string;
  requireInteraction: boolean;
  renotify: boolean;
  actions: Array<{ action: string; title: string }>;
  data: unknown;
}

interface Bundles {
  sdk: string;
  sw: string;
  /** A module service worker that imports the ESM entry (`import { installHerald } from '@herald/service-worker'`). */
  moduleSw: string;
}
let bundles: Promise<Bundles> | undefined;

/** Builds the SDK (ESM, with the prompt) and the service worker's IIFE from the sources. */
export function buildBundles(): Promise<Bundles> {
  bundles ??= (async () => {
    const common = {
      bundle: true,
      write: false,
      target: 'es2020',
      platform: 'browser' as const,
      logLevel: 'silent' as const,
    };
    const payload = here('../../../core/src/payload/index.ts');
    const [sdk, sw, moduleSw] = await Promise.all([
      build({
        ...common,
        stdin: {
          contents: `export * from './index.ts'; export * from './prompt.ts';`,
          resolveDir: here('../../../browser-sdk/src'),
          loader: 'ts',
        },
        format: 'esm',
      }),
      build({
        ...common,
        entryPoints: [here('../../src/iife.ts')],
        format: 'iife',
        globalName: 'Herald',
        alias: { '@herald/core/payload': payload },
      }),
      build({
        ...common,
        stdin: {
          contents: `import { installHerald } from './index.ts'; installHerald(self, { apiBase: '/herald' });`,
          resolveDir: here('../../src'),
          loader: 'ts',
        },
        format: 'esm',
        alias: { '@herald/core/payload': payload },
      }),
    ]);
    return {
      sdk: sdk.outputFiles![0]!.text,
      sw: sw.outputFiles![0]!.text,
      moduleSw: moduleSw.outputFiles![0]!.text,
    };
  })();
  return bundles;
}

/**
 * Pages that load the browser SDK as npm ships it (packages/browser-sdk/dist, minified), so the
 * shipped builds are proven in a browser, not only the sources: `/shipped/iife` with a plain
 * `<script src>` (the global is the build's own doing), `/shipped/esm` with the ESM entries.
 */
const SHIPPED_PAGES: Record<string, string> = {
  '/shipped/iife': `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Herald shipped IIFE</title>
<script src="/sdk-dist/herald.iife.js"></script></head><body><h1>Shop</h1></body></html>`,
  '/shipped/esm': `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Herald shipped ESM</title></head>
<body><h1>Shop</h1><script type="module">import * as Sdk from '/sdk-dist/index.js';
import * as Prompt from '/sdk-dist/prompt.js'; window.Herald = { ...Sdk, ...Prompt };</script></body></html>`,
};
const SDK_DIST = here('../../../browser-sdk/dist/');

const PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Herald test shop</title></head>
<body><h1>Shop</h1><button id="outside">outside</button>
<script type="module">import * as Herald from '/sdk.js'; window.Herald = Herald;</script></body></html>`;

/** The site's service worker: Herald added to it with importScripts, plus the site's own push handler. */
const SW = `importScripts('/herald-sw.js');
Herald.installHerald(self, { apiBase: '/herald' });
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
// The site's own handler: only sees pushes that are not Herald's.
self.addEventListener('push', (event) => {
  event.waitUntil(self.registration.showNotification('Site: ' + (event.data ? event.data.text() : ''), { tag: 'site' }));
});`;

// A 1×1 PNG for icon / image / badge.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

/**
 * Page-side stand-ins (an init script):
 * - `Notification.requestPermission` records the event it ran in (`window.__permissionRequests`; a
 *   trusted 'click' means a user gesture) and lets the test decide the answer (`harness.permissionAnswer`),
 *   granting the real permission when the answer is "granted" (headless Chromium has no prompt to click).
 * - `?safari` pages look like Safari 15: no PushManager, a fake `window.safari.pushNotification`.
 * `pushManager.subscribe()` itself is real: Chromium's push registration goes to the GCM stand-in below.
 */
const INIT = `(() => {
  window.__permissionRequests = [];
  if (window.Notification) {
    Notification.requestPermission = function (callback) {
      window.__permissionRequests.push({ event: window.event ? window.event.type : null, trusted: window.event ? window.event.isTrusted : null });
      const answer = window.__answerPermission();
      if (callback) answer.then(callback);
      return answer;
    };
  }
  if (location.search.includes('safari')) {
    delete window.PushManager;
    const state = { permission: 'default', deviceToken: null };
    window.__safariRequests = [];
    window.safari = { pushNotification: {
      permission: () => ({ ...state }),
      requestPermission: (url, id, userInfo, callback) => {
        window.__safariRequests.push({ url, id, userInfo });
        state.permission = 'granted';
        state.deviceToken = 'A1B2C3D4E5F6';
        setTimeout(() => callback({ ...state }), 10);
      },
    } };
  }
})();`;

export async function startHarness(options: { timezoneId?: string } = {}): Promise<Harness> {
  const { sdk, sw, moduleSw } = await withTimeout(
    buildBundles(),
    30_000,
    'esbuild builds the SDK and service worker bundles',
  );
  const requests: HostRequest[] = [];
  const waiters = new Set<() => void>();
  let subscriptionIds = 0;
  let harness: Harness;

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, type: string, body: string | Buffer) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (url.pathname === '/sdk.js') return send(200, 'text/javascript', sdk);
    if (url.pathname === '/herald-sw.js') return send(200, 'text/javascript', sw);
    if (url.pathname === '/sw.js') return send(200, 'text/javascript', SW);
    if (url.pathname === '/module/sw.js') return send(200, 'text/javascript', moduleSw);
    if (url.pathname.endsWith('.png')) return send(200, 'image/png', PNG);
    if (url.pathname.startsWith('/sdk-dist/')) {
      const file = join(SDK_DIST, url.pathname.slice('/sdk-dist/'.length).replace(/[^\w.-]/g, ''));
      if (!existsSync(file)) return send(404, 'text/plain', `${file} missing: run npm run build first`);
      return send(200, 'text/javascript', readFileSync(file));
    }
    const shipped = SHIPPED_PAGES[url.pathname];
    if (shipped) return send(200, 'text/html', shipped);
    if (url.pathname === '/favicon.ico') return send(404, 'text/plain', '');
    if (url.pathname.startsWith('/herald/')) {
      const text = await readBody(req);
      let body: Record<string, unknown> | null = null;
      try {
        body = text ? (JSON.parse(text) as Record<string, unknown>) : null;
      } catch {}
      const path = url.pathname.slice('/herald'.length);
      let status = 404;
      let answer: unknown;
      if (req.method === 'POST' && (path === '/subscriptions' || path === '/subscriptions/safari')) {
        status = 201;
        answer = { id: `sub_${++subscriptionIds}` };
      } else if (req.method === 'DELETE' && path === '/subscriptions') status = 204;
      else if (req.method === 'POST' && path === '/identify') {
        status = 200;
        const owner = harness.identifyKeeps ?? body?.userId;
        answer = { userId: owner, changed: harness.identifyKeeps === null };
      } else if (req.method === 'POST' && path === '/events') {
        status = 202;
        answer = { accepted: true };
      } else if (req.method === 'POST' && path === '/reports') {
        status = harness.failReports > 0 ? 503 : 204;
        if (status === 503) harness.failReports--;
      }
      requests.push({ method: req.method ?? '', path, body, status });
      for (const wake of waiters) wake();
      if (status === 404)
        answer = { error: { code: 'not_found', message: `no route ${req.method} ${path}` } };
      if (status === 503) answer = { error: { code: 'unavailable', message: 'try again' } };
      res.writeHead(status, answer ? { 'content-type': 'application/json' } : {});
      res.end(answer ? JSON.stringify(answer) : undefined);
      return;
    }
    // Any other path is a page of the shop (deeplinks land here), with the SDK loaded.
    send(200, 'text/html', PAGE);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;

  const notify = await startFakeNotify();
  const gcm = await startGcmStandIn();
  const userDataDir = mkdtempSync(join(tmpdir(), 'herald-chromium-'));
  const context = await withTimeout(
    launchTestChromium(userDataDir, {
      notify,
      gcm,
      timezoneId: options.timezoneId ?? 'Europe/Berlin',
      extraArgs: [`--host-resolver-rules=MAP ${INSECURE_HOST} 127.0.0.1`],
    }),
    30_000,
    `launch ${CHROMIUM}`,
  );
  await context.exposeFunction('__answerPermission', async () => {
    const answer = harness.permissionAnswer;
    if (answer === 'granted') await context.grantPermissions(['notifications'], { origin });
    return answer;
  });
  await context.addInitScript(INIT);

  const cdpSessions = new WeakMap<Page, { session: CDPSession; registrations: Map<string, string> }>();
  async function cdp(page: Page) {
    let entry = cdpSessions.get(page);
    if (!entry) {
      const session = await context.newCDPSession(page);
      const registrations = new Map<string, string>();
      session.on('ServiceWorker.workerRegistrationUpdated', (event) => {
        for (const r of event.registrations) {
          if (r.isDeleted) registrations.delete(r.scopeURL);
          else registrations.set(r.scopeURL, r.registrationId);
        }
      });
      await session.send('ServiceWorker.enable');
      entry = { session, registrations };
      cdpSessions.set(page, entry);
    }
    return entry;
  }

  harness = {
    origin,
    insecureOrigin: `http://${INSECURE_HOST}:${port}`,
    context,
    notify,
    requests,
    failReports: 0,
    identifyKeeps: null,
    permissionAnswer: 'granted',
    get pushServiceDown() {
      return gcm.unavailable;
    },
    set pushServiceDown(down: boolean) {
      gcm.unavailable = down;
    },
    get gcmRegistrations() {
      return gcm.registrations;
    },
    waitForRequest(predicate, step, timeoutMs = 10_000) {
      const found = new Promise<HostRequest>((resolve) => {
        const check = () => {
          const request = requests.find(predicate);
          if (!request) return;
          waiters.delete(check);
          resolve(request);
        };
        waiters.add(check);
        check();
      });
      return withTimeout(found, timeoutMs, `host receives: ${step}`);
    },
    async openPage(path = '/') {
      const page = await context.newPage();
      await withTimeout(page.goto(new URL(path, origin).href), 10_000, `open ${path}`);
      await waitFor(() => page.evaluate(() => 'Herald' in window), 'the test page loads the SDK');
      return page;
    },
    async deliverPush(page, data, scope = '/') {
      // Registrations are announced when ServiceWorker.enable runs, so a late session still learns them.
      const { session, registrations } = await cdp(page);
      const registrationId = await waitFor(
        () => registrations.get(`${origin}${scope}`),
        `DevTools reports the service worker of ${scope}`,
      );
      await withTimeout(
        session.send('ServiceWorker.deliverPushMessage', { origin, registrationId, data }),
        10_000,
        'ServiceWorker.deliverPushMessage',
      );
    },
    async shown(page, title, scope = '/') {
      // Not before the desktop has it: Chromium answers getNotifications() by dropping the stored
      // notifications its platform bridge does not list as displayed, so a call in the moment between
      // showNotification() and the Notify reply deletes the new one from the list for good (seen
      // under load: shown on the desktop, never listed).
      await notify.waitForNotify((call) => call.summary === title, `the desktop shows "${title}"`);
      const [listed] = await waitFor(async () => {
        const mine = (await harness.notifications(page, scope)).filter((n) => n.title === title);
        return mine.length ? mine : null;
      }, `getNotifications() of ${scope} lists "${title}"`);
      return listed as ShownNotification;
    },
    notifications(page, scope = '/') {
      return page.evaluate(async (scope) => {
        const registration = await navigator.serviceWorker.getRegistration(scope);
        const list = (await registration?.getNotifications()) ?? [];
        return list.map((n) => {
          const x = n as Notification & {
            image: string;
            renotify: boolean;
            actions: ReadonlyArray<{ action: string; title: string }>;
          };
          return {
            title: x.title,
            body: x.body,
            icon: x.icon,
            image: x.image,
            badge: x.badge,
            tag: x.tag,
            requireInteraction: x.requireInteraction,
            renotify: x.renotify,
            actions: x.actions.map((a) => ({ action: a.action, title: a.title })),
            data: x.data as unknown,
          };
        });
      }, scope);
    },
    async close() {
      await context.close().catch(() => {});
      await gcm.stop();
      await notify.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
  return harness;
}
