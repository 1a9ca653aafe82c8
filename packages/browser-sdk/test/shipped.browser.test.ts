import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Harness,
  startHarness,
  waitFor,
  withTimeout,
} from '../../service-worker/test/support/browser-harness.js';
import type * as Sdk from '../src/index.js';
import type * as Prompt from '../src/prompt.js';

/**
 * The SDK as npm ships it (dist/, minified; `npm run build` first), loaded the two ways a site
 * loads it without a bundler: a plain `<script src>` of dist/herald.iife.js, whose global
 * `Herald` is the build's own, and the ESM entries as modules. sdk.browser.test.ts covers the
 * behaviour on the sources; this proves the shipped files carry it.
 */
declare global {
  interface Window {
    Herald: typeof Sdk & typeof Prompt;
  }
}

const VAPID = 'BEl62iUYgUivxIkv69yViEuiBIa-Ib9-SkvMeAtA3LFgDzkrxZJjSgSnfckjBJuBkr3qBUYIHBQFLXYp5Nksh8U';

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness({ timezoneId: 'Asia/Tokyo' });
});
afterAll(async () => {
  await harness?.close();
});

async function freshPage(path: string): Promise<Page> {
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
  await waitFor(() => page.evaluate(() => 'Herald' in window), `${path} loads the SDK`);
  return page;
}

describe.each(['/shipped/iife', '/shipped/esm'])('the shipped SDK at %s', (path) => {
  it('exposes the API and subscribes through the browser for real', async () => {
    const page = await freshPage(path);
    const api = await page.evaluate(() =>
      Object.keys(window.Herald)
        .filter((name) => typeof (window.Herald as Record<string, unknown>)[name] === 'function')
        .sort(),
    );
    expect(api).toEqual(expect.arrayContaining(['createHeraldClient', 'detectSupport', 'showSoftPrompt']));

    const n = harness.requests.length;
    const subscribed = await withTimeout(
      page.evaluate(async (vapidPublicKey) => {
        const client = window.Herald.createHeraldClient({
          apiBase: '/herald',
          vapidPublicKey,
          serviceWorker: { url: '/sw.js' },
        });
        await client.synced;
        const result = await client.subscribe({ userId: 'user_script_tag' });
        return result.kind === 'push' ? result.subscription.toJSON().endpoint : null;
      }, VAPID),
      20_000,
      'client.subscribe()',
    );
    const post = harness.requests
      .slice(n)
      .find((request) => request.method === 'POST' && request.path === '/subscriptions');
    expect(post?.body).toMatchObject({
      subscription: { endpoint: subscribed },
      userId: 'user_script_tag',
      timezone: 'Asia/Tokyo',
    });
    expect(subscribed).toMatch(/^https:\/\/[^/]+\/fcm\/send\/herald-test-/);
  });

  it('refuses with the SDK’s own typed error, an instance of the global’s HeraldError', async () => {
    const page = await freshPage(path);
    harness.permissionAnswer = 'denied';
    const refusal = await page.evaluate(async (vapidPublicKey) => {
      const client = window.Herald.createHeraldClient({ vapidPublicKey, serviceWorker: { url: '/sw.js' } });
      try {
        await client.subscribe();
        return null;
      } catch (caught) {
        return { typed: caught instanceof window.Herald.HeraldError, code: (caught as Sdk.HeraldError).code };
      }
    }, VAPID);
    expect(refusal).toEqual({ typed: true, code: 'permission-denied' });
  });
});
