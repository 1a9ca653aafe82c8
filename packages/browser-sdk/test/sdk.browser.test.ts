import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Harness,
  type HostRequest,
  startHarness,
  waitFor,
  withTimeout,
} from '../../service-worker/test/support/browser-harness.js';
import type * as Sdk from '../src/index.js';
import type * as Prompt from '../src/prompt.js';

declare global {
  interface Window {
    Herald: typeof Sdk & typeof Prompt;
    client: Sdk.HeraldClient;
    promptResult: Promise<Prompt.SoftPromptResult>;
    __permissionRequests: Array<{ event: string | null; trusted: boolean | null }>;
    __safariRequests: Array<{ url: string; id: string; userInfo: unknown }>;
  }
}

// Two real VAPID public keys (uncompressed P-256 points).
const VAPID = 'BEl62iUYgUivxIkv69yViEuiBIa-Ib9-SkvMeAtA3LFgDzkrxZJjSgSnfckjBJuBkr3qBUYIHBQFLXYp5Nksh8U';
const VAPID_2 = 'BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM';

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness({ timezoneId: 'Europe/Berlin' });
});
afterAll(async () => {
  await harness?.close();
});

/** A page with no subscription, no registration, no permission and an empty localStorage. */
async function freshPage(path = '/'): Promise<Page> {
  for (const open of harness.context.pages()) await open.close();
  const page = await harness.openPage(path);
  await page.evaluate(async () => {
    localStorage.clear();
    for (const registration of await navigator.serviceWorker.getRegistrations())
      await registration.unregister();
  });
  await harness.context.clearPermissions();
  harness.permissionAnswer = 'granted';
  await page.reload();
  await waitFor(() => page.evaluate(() => 'Herald' in window), 'the SDK loads');
  return page;
}

async function createClient(page: Page, config: Partial<Sdk.HeraldClientConfig> = {}) {
  await page.evaluate(
    (config) => {
      window.client = window.Herald.createHeraldClient({
        apiBase: '/herald',
        serviceWorker: { url: '/sw.js' },
        ...config,
      } as Sdk.HeraldClientConfig);
      return window.client.synced.then(() => null);
    },
    { vapidPublicKey: VAPID, ...config },
  );
}

const since = (n: number, predicate: (r: HostRequest) => boolean) =>
  harness.requests.slice(n).filter(predicate);
const subscriptionPosts = (n: number) => since(n, (r) => r.method === 'POST' && r.path === '/subscriptions');

async function subscribe(page: Page, userId?: string) {
  return withTimeout(
    page.evaluate(async (userId) => {
      const result = await window.client.subscribe(userId ? { userId } : {});
      return result.kind === 'push' ? { id: result.id, json: result.subscription.toJSON() } : null;
    }, userId),
    20_000,
    'client.subscribe()',
  );
}

const errorCode = (page: Page, call: string) =>
  page.evaluate(
    (call) =>
      (new Function('client', `return ${call}`)(window.client) as Promise<unknown>).then(
        () => 'resolved',
        (error: { code?: string; name?: string }) => `${error.name}:${error.code}`,
      ),
    call,
  );

describe('browser SDK in Chromium', () => {
  it('detects support on a secure origin and names the reason on an insecure one', async () => {
    const page = await freshPage();
    await createClient(page);
    expect(await page.evaluate(() => window.client.isSupported())).toEqual({ supported: true, mode: 'push' });
    expect(await page.evaluate(() => window.client.permission())).toBe('default');

    const insecure = await harness.context.newPage();
    await insecure.goto(`${harness.insecureOrigin}/`);
    await waitFor(() => insecure.evaluate(() => 'Herald' in window), 'the SDK loads on the insecure origin');
    const support = await insecure.evaluate(() => {
      const client = window.Herald.createHeraldClient({ vapidPublicKey: 'BAEC', autoSync: false });
      return {
        support: client.isSupported(),
        permission: client.permission(),
        secure: window.isSecureContext,
      };
    });
    expect(support.secure).toBe(false);
    expect(support.support).toMatchObject({ supported: false, reason: 'insecure-context' });
    expect(support.permission).toBe('unsupported');
    expect(await insecure.evaluate(() => window.client === undefined)).toBe(true);
    expect(
      await insecure.evaluate(() =>
        window.Herald.createHeraldClient({ vapidPublicKey: 'BAEC', autoSync: false })
          .subscribe()
          .then(
            () => 'resolved',
            (e: { code: string }) => e.code,
          ),
      ),
    ).toBe('unsupported');
    await insecure.close();
  });

  it('subscribes: registers the worker, asks permission, posts the subscription with the time zone', async () => {
    const page = await freshPage();
    await createClient(page);
    const n = harness.requests.length;
    const result = await subscribe(page, 'user_42');
    expect(result!.id).toMatch(/^sub_\d+$/);
    const [post] = subscriptionPosts(n);
    expect(post!.body).toEqual({
      subscription: {
        // A real subscription made by Chromium through the GCM stand-in.
        endpoint: expect.stringMatching(/^https:\/\/[^/]+\/fcm\/send\/herald-test-/),
        expirationTime: null,
        keys: {
          p256dh: expect.stringMatching(/^[A-Za-z0-9_-]{87}$/),
          auth: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
        },
      },
      userId: 'user_42',
      timezone: 'Europe/Berlin',
      // For the host's stats by browser.
      userAgent: expect.stringContaining('Chrome/'),
    });
    expect(result!.json.endpoint).toBe((post!.body!.subscription as { endpoint: string }).endpoint);
    expect(await page.evaluate(() => window.client.permission())).toBe('granted');
    expect(
      await page.evaluate(async () => !!(await navigator.serviceWorker.getRegistration('/'))?.active),
    ).toBe(true);
    expect(await page.evaluate(() => window.__permissionRequests.length)).toBe(1);
  });

  it('identifies, tracks and unsubscribes against the host', async () => {
    const page = await freshPage();
    await createClient(page);
    const result = await subscribe(page);
    const endpoint = result!.json.endpoint;
    const n = harness.requests.length;
    expect(await page.evaluate(() => window.client.identify('user_99'))).toEqual({
      userId: 'user_99',
      changed: true,
    });
    await page.evaluate(() => window.client.track('viewed_product', { sku: 'SNKR-42', price: 79.9 }));
    expect(await page.evaluate(() => window.client.unsubscribe())).toBe(true);
    expect(harness.requests.slice(n).map((r) => [r.method, r.path, r.body, r.status])).toEqual([
      ['POST', '/identify', { endpoint, userId: 'user_99' }, 200],
      [
        'POST',
        '/events',
        { userId: 'user_99', endpoint, name: 'viewed_product', properties: { sku: 'SNKR-42', price: 79.9 } },
        202,
      ],
      ['DELETE', '/subscriptions', { endpoint }, 204],
    ]);
    expect(
      await page.evaluate(async () =>
        (await (await navigator.serviceWorker.getRegistration('/'))?.pushManager.getSubscription())?.toJSON(),
      ),
    ).toBe(undefined);
    expect(await page.evaluate(() => window.client.unsubscribe())).toBe(false);
  });

  it('identify surfaces a host that kept another owner, and warns on the console', async () => {
    const page = await freshPage();
    await createClient(page);
    await subscribe(page);
    const warnings: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'warning') warnings.push(message.text());
    });
    harness.identifyKeeps = 'anon_wp_abc';
    try {
      expect(await page.evaluate(() => window.client.identify('user_99'))).toEqual({
        userId: 'anon_wp_abc',
        changed: false,
      });
    } finally {
      harness.identifyKeeps = null;
    }
    await waitFor(async () => warnings.length > 0, 'the console warning');
    expect(warnings[0]).toContain('the host kept this subscription for "anon_wp_abc"');
    expect(warnings[0]).toContain('resolveUser');
  });

  it('re-checks on page load: posts again only when the browser changed the subscription', async () => {
    let page = await freshPage();
    await createClient(page);
    const first = await subscribe(page, 'user_5');
    // Same subscription on the next page load: nothing to post.
    let n = harness.requests.length;
    await page.reload();
    await createClient(page);
    expect(subscriptionPosts(n)).toEqual([]);
    // The subscription changes behind the SDK's back (new endpoint and keys), as browsers do.
    const changed = await page.evaluate(async () => {
      const registration = (await navigator.serviceWorker.getRegistration('/'))!;
      const old = (await registration.pushManager.getSubscription())!;
      const key = old.options.applicationServerKey!;
      await old.unsubscribe();
      const fresh = await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: key,
      });
      return fresh.toJSON();
    });
    expect(changed.endpoint).not.toBe(first!.json.endpoint);
    n = harness.requests.length;
    page = await harness.openPage('/another-page');
    await createClient(page);
    const [post] = subscriptionPosts(n);
    expect(post!.body).toMatchObject({
      subscription: { endpoint: changed.endpoint, keys: changed.keys },
      oldEndpoint: first!.json.endpoint,
      userId: 'user_5',
      timezone: 'Europe/Berlin',
    });
  });

  it('replaces a subscription made with another VAPID key', async () => {
    const page = await freshPage();
    await createClient(page, { vapidPublicKey: VAPID, autoSync: false });
    const old = await subscribe(page);
    const n = harness.requests.length;
    // The site rotated its VAPID key: the page-load check replaces the old subscription.
    await createClient(page, { vapidPublicKey: VAPID_2 });
    const [post] = subscriptionPosts(n);
    expect(post!.body!.oldEndpoint).toBe(old!.json.endpoint);
    expect((post!.body!.subscription as { endpoint: string }).endpoint).not.toBe(old!.json.endpoint);
    const key = await page.evaluate(async () => {
      const sub = await (await navigator.serviceWorker.getRegistration('/'))!.pushManager.getSubscription();
      return window.Herald.bytesToBase64Url(sub!.options.applicationServerKey!);
    });
    expect(key).toBe(VAPID_2);
    // subscribe() with the new key reuses it (Chromium would throw InvalidStateError on a second key).
    const again = await subscribe(page);
    expect(again!.json.endpoint).toBe((post!.body!.subscription as { endpoint: string }).endpoint);
  });

  it('turns a refusal into typed errors', async () => {
    const page = await freshPage();
    await createClient(page);
    harness.permissionAnswer = 'denied';
    expect(await errorCode(page, 'client.subscribe()')).toBe('HeraldError:permission-denied');
    // Blocked in the browser's settings: the SDK does not even ask.
    await page.evaluate(() => {
      Object.defineProperty(Notification, 'permission', { get: () => 'denied' });
    });
    const asked = await page.evaluate(() => window.__permissionRequests.length);
    expect(await errorCode(page, 'client.subscribe()')).toBe('HeraldError:permission-blocked');
    expect(await page.evaluate(() => window.__permissionRequests.length)).toBe(asked);
  });

  it('says when the service worker fails to register', async () => {
    const page = await freshPage();
    await createClient(page, {
      serviceWorker: { url: '/missing-sw.js' } as Sdk.HeraldClientConfig['serviceWorker'],
    });
    await harness.context.grantPermissions(['notifications'], { origin: harness.origin });
    expect(await errorCode(page, 'client.subscribe()')).toBe('HeraldError:service-worker-failed');
  });

  it('reports a host error with its status and message', async () => {
    const page = await freshPage();
    await createClient(page, { apiBase: '/herald/nowhere' });
    const error = await page.evaluate(() =>
      window.client.track('x').then(
        () => null,
        (e: Sdk.HeraldError) => ({ code: e.code, status: e.status, message: e.message }),
      ),
    );
    expect(error).toEqual({
      code: 'host-rejected',
      status: 404,
      message: expect.stringContaining('no route POST'),
    });
  });

  it('uses legacy website push on a Safari without the Push API', async () => {
    const page = await freshPage('/?safari');
    expect(await page.evaluate(() => 'PushManager' in window)).toBe(false);
    await createClient(page, {
      safari: { websitePushId: 'web.com.example.shop', webServiceUrl: `${harness.origin}/apns` },
    });
    expect(await page.evaluate(() => window.client.isSupported())).toEqual({
      supported: true,
      mode: 'safari-legacy',
    });
    const n = harness.requests.length;
    const result = await page.evaluate(() => window.client.subscribe({ userId: 'user_s' }));
    expect(result).toMatchObject({ kind: 'safari', deviceToken: 'A1B2C3D4E5F6' });
    expect(await page.evaluate(() => window.__safariRequests)).toEqual([
      { url: `${harness.origin}/apns`, id: 'web.com.example.shop', userInfo: { userId: 'user_s' } },
    ]);
    expect(since(n, () => true).map((r) => [r.method, r.path, r.body])).toEqual([
      [
        'POST',
        '/subscriptions/safari',
        { deviceToken: 'A1B2C3D4E5F6', userId: 'user_s', timezone: 'Europe/Berlin' },
      ],
    ]);
  });

  // Last in this file: Chromium keeps retrying the refused registration in the background.
  it('says when the push service does not answer', async () => {
    const page = await freshPage();
    await createClient(page, { subscribeTimeoutMs: 1500 });
    harness.pushServiceDown = true;
    try {
      expect(await errorCode(page, 'client.subscribe()')).toBe('HeraldError:push-service-unreachable');
    } finally {
      harness.pushServiceDown = false;
    }
  });
});

describe('soft prompt in Chromium', () => {
  const dialog = (page: Page) => page.getByRole('dialog', { name: 'Get notified about price drops?' });

  async function showPrompt(page: Page, options: Omit<Prompt.SoftPromptOptions, 'container'> = {}) {
    await page.evaluate((options) => {
      window.promptResult = window.Herald.showSoftPrompt(window.client, options);
    }, options);
  }
  const result = (page: Page) =>
    withTimeout(
      page.evaluate(() =>
        window.promptResult.then((r) => ({
          outcome: r.outcome,
          code: 'error' in r ? r.error?.code : undefined,
        })),
      ),
      15_000,
      'the soft prompt settles',
    );

  it('asks the browser only after "Allow", by keyboard, with a user gesture', async () => {
    const page = await freshPage();
    await createClient(page);
    await showPrompt(page, {
      message: 'We only send real deals.',
      theme: { accent: 'rgb(200, 0, 0)' },
      userId: 'user_k',
    });
    await expect.poll(() => dialog(page).isVisible()).toBe(true);
    expect(await dialog(page).getAttribute('aria-describedby')).toBeTruthy();
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Allow');
    expect(
      await page.evaluate(
        () => getComputedStyle(document.querySelector('.herald-prompt__allow')!).backgroundColor,
      ),
    ).toBe('rgb(200, 0, 0)');
    // Nothing asked the browser yet.
    expect(await page.evaluate(() => window.__permissionRequests)).toEqual([]);
    const n = harness.requests.length;
    await page.keyboard.press('Enter');
    expect(await result(page)).toEqual({ outcome: 'subscribed', code: undefined });
    expect(await page.evaluate(() => window.__permissionRequests)).toEqual([
      { event: 'click', trusted: true },
    ]);
    expect(subscriptionPosts(n)[0]!.body).toMatchObject({ userId: 'user_k', timezone: 'Europe/Berlin' });
    expect(await dialog(page).count()).toBe(0);
    // Already allowed: no prompt next time.
    await showPrompt(page);
    expect(await result(page)).toEqual({ outcome: 'granted', code: undefined });
  });

  it('remembers "Later" for the configured number of days, without asking the browser', async () => {
    const page = await freshPage();
    await createClient(page);
    await page.focus('#outside');
    await showPrompt(page, { laterDays: 3 });
    await expect.poll(() => dialog(page).isVisible()).toBe(true);
    await page.keyboard.press('Shift+Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Later');
    await page.keyboard.press('Enter');
    expect(await result(page)).toEqual({ outcome: 'later', code: undefined });
    // Focus goes back where it was.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('outside');
    const until = Number(await page.evaluate(() => localStorage.getItem('herald:prompt-later')));
    expect(until - Date.now()).toBeGreaterThan(3 * 86_400_000 - 60_000);
    expect(until - Date.now()).toBeLessThanOrEqual(3 * 86_400_000);
    await page.reload();
    await createClient(page);
    await showPrompt(page);
    expect(await result(page)).toEqual({ outcome: 'snoozed', code: undefined });
    expect(await dialog(page).count()).toBe(0);
    // Once the days have passed, it asks again; Escape also means "Later".
    await page.evaluate(() => localStorage.setItem('herald:prompt-later', String(Date.now() - 1)));
    await showPrompt(page);
    await expect.poll(() => dialog(page).isVisible()).toBe(true);
    await page.keyboard.press('Escape');
    expect(await result(page)).toEqual({ outcome: 'later', code: undefined });
    expect(await page.evaluate(() => window.__permissionRequests)).toEqual([]);
  });

  it('reports "denied" when the user says no in the browser prompt, and stays away once blocked', async () => {
    const page = await freshPage();
    await createClient(page);
    harness.permissionAnswer = 'denied';
    await showPrompt(page);
    await dialog(page).getByRole('button', { name: 'Allow' }).click();
    expect(await result(page)).toEqual({ outcome: 'denied', code: 'permission-denied' });
    await page.evaluate(() => {
      Object.defineProperty(Notification, 'permission', { get: () => 'denied' });
    });
    await showPrompt(page);
    expect(await result(page)).toEqual({ outcome: 'denied', code: undefined });
    expect(await dialog(page).count()).toBe(0);
  });
});
