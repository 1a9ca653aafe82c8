/**
 * The same story in Debian's Chromium, as far as it goes. Chromium cannot be
 * pointed at a Web Push server of our own (it only speaks FCM), so the one
 * hop between Herald and the browser is bridged: the example app runs in
 * this process with a provider that keeps the plaintext Herald rendered for
 * Chromium's subscription (exactly what the Web Push provider would encrypt),
 * and the DevTools protocol (`ServiceWorker.deliverPushMessage`) hands it to
 * the example's service worker. Everything else is real: the SDK's soft
 * prompt and `pushManager.subscribe()` (through loopback GCM stand-ins), the
 * service worker's notification on the desktop's notification server, a
 * trusted click on its action button, the reports, the goal event, the stats.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createHerald,
  type DeliveryOutcome,
  generateVapidKeys,
  memoryQueue,
  memoryStorage,
  type OutboundMessage,
  type PushProvider,
} from '@herald/core';
import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, launchTestChromium } from '../../../../packages/service-worker/test/support/chromium.js';
import {
  type FakeNotify,
  startFakeNotify,
} from '../../../../packages/service-worker/test/support/fake-notify.js';
import {
  type GcmStandIn,
  startGcmStandIn,
} from '../../../../packages/service-worker/test/support/gcm-stand-in.js';
import { createApp } from '../../src/app.js';
import {
  assertBuilt,
  Cleanup,
  createAndSchedule,
  expectStoryStats,
  expectText,
  step,
  waitFor,
} from '../support/steps.js';

/** The page's user id field defaults to it; the soft prompt subscribes as that user. */
const USER = 'reader-1';
const ZONE = 'Asia/Tokyo';
const ADMIN_TOKEN = `e2e-admin-${randomBytes(12).toString('hex')}`;

/**
 * The Web Push hop, bridged: keeps each message (its plaintext payload is what Herald's own
 * rendering produced) and answers as a push service that accepted it.
 */
function capturingProvider(sent: OutboundMessage[]): PushProvider {
  return {
    target: 'webpush',
    async send(message): Promise<DeliveryOutcome> {
      sent.push(message);
      return { kind: 'sent', statusCode: 201 };
    },
    async close() {},
  };
}

describe('Chromium, end to end through the example app (push handed over DevTools)', () => {
  const cleanup = new Cleanup();
  const sent: OutboundMessage[] = [];
  let herald: ReturnType<typeof createHerald>;
  let origin: string;
  let notify: FakeNotify;
  let gcm: GcmStandIn;
  let context: BrowserContext;

  const admin = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${origin}/admin/api${path}`, {
      method,
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} /admin/api${path} answered ${response.status}: ${text}`);
    return JSON.parse(text) as T;
  };

  beforeAll(async () => {
    assertBuilt();
    const vapid = { subject: 'mailto:e2e@example.com', ...generateVapidKeys() };
    herald = createHerald({
      storage: memoryStorage(),
      queue: memoryQueue(),
      providers: { webpush: capturingProvider(sent) },
      reportSecret: randomBytes(32),
      tuning: { pollIntervalMs: 200 },
    });
    const app = createApp({
      herald,
      adminToken: ADMIN_TOKEN,
      vapidPublicKey: vapid.publicKey,
      publicDir: fileURLToPath(new URL('../../public', import.meta.url)),
      http: { trustClientUserId: true },
    });
    const server: Server = await step('start the example app in this process', async () => {
      const listening = app.listen(0, '127.0.0.1');
      await new Promise((resolve) => listening.once('listening', resolve));
      return listening;
    });
    cleanup.add('example app', async () => {
      await herald.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    herald.start();

    gcm = await step('start the GCM stand-ins', () => startGcmStandIn({ tokenPrefix: 'herald-e2e' }));
    cleanup.add('GCM stand-ins', () => gcm.stop());
    notify = await step('start a D-Bus session with the fake notification server', () => startFakeNotify());
    cleanup.add('fake notification server and D-Bus', () => notify.stop());
    const userDataDir = mkdtempSync(join(tmpdir(), 'herald-e2e-chromium-'));
    cleanup.add('Chromium profile', () => rmSync(userDataDir, { recursive: true, force: true }));
    context = await step(`launch ${CHROMIUM} headless with a fresh profile`, () =>
      launchTestChromium(userDataDir, { notify, gcm, timezoneId: ZONE }),
    );
    cleanup.add('Chromium', () => context.close());
  });

  afterAll(async () => {
    await cleanup.run();
  });

  /** Hands `data` to the service worker of the site's root scope, as a push message would. */
  async function deliverPush(page: Page, data: string): Promise<void> {
    const session: CDPSession = await context.newCDPSession(page);
    const registrations = new Map<string, string>();
    session.on('ServiceWorker.workerRegistrationUpdated', (event) => {
      for (const r of event.registrations) if (!r.isDeleted) registrations.set(r.scopeURL, r.registrationId);
    });
    // Registrations are announced when ServiceWorker.enable runs.
    await session.send('ServiceWorker.enable');
    const registrationId = await waitFor(
      () => registrations.get(`${origin}/`),
      'DevTools reports the service worker of /',
    );
    await session.send('ServiceWorker.deliverPushMessage', { origin, registrationId, data });
  }

  it('subscribes through the soft prompt, shows the campaign, reports the click, converts', async () => {
    await step('the site knows the user (PUT /admin/api/profiles/:id)', () =>
      admin('PUT', `/profiles/${USER}`, { properties: { first_name: 'Grace', city: 'Osaka' } }),
    );

    // 1. The page, the soft prompt, a real subscription with Chromium's own keys and time zone.
    const page = await step('Chromium opens the example page and shows the soft prompt', async () => {
      const opened = await context.newPage();
      await opened.goto(origin);
      await opened.locator('.herald-prompt__allow').waitFor({ timeout: 20_000 });
      return opened;
    });
    await step('the soft prompt is accepted and the SDK subscribes', async () => {
      // The user's answer to Chromium's own permission prompt, which headless cannot show.
      await context.grantPermissions(['notifications'], { origin });
      await page.locator('.herald-prompt__allow').click();
      await waitFor(
        async () => expectText(await page.locator('#status').textContent(), 'Prompt: subscribed'),
        'the page says "Prompt: subscribed"',
        20_000,
      );
    });
    const browserSubscription = await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.ready;
      return (await registration.pushManager.getSubscription())?.toJSON() ?? null;
    });
    // Debian's Chromium has no Google API keys: its endpoints are on jmt17.google.com (Chrome's on fcm.googleapis.com).
    expect(browserSubscription?.endpoint).toMatch(
      /^https:\/\/(jmt17\.google|fcm\.googleapis)\.com\/fcm\/send\/herald-e2e-/,
    );
    expect(Buffer.from(browserSubscription?.keys?.p256dh ?? '', 'base64url')).toHaveLength(65);
    expect(gcm.registrations).toBe(1);
    const stored = await step('Herald stores the subscription with the browser time zone', () =>
      waitFor(async () => {
        const list = await admin<Array<{ endpoint: string | null; timezone: string | null }>>(
          'GET',
          `/profiles/${USER}/subscriptions`,
        );
        return list.find((s) => s.endpoint === browserSubscription?.endpoint);
      }, `GET /admin/api/profiles/${USER}/subscriptions lists Chromium's endpoint`),
    );
    expect(stored.timezone).toBe(ZONE);

    // 2. The campaign, over the admin API.
    const campaign = await step('a campaign is created and scheduled over the admin API', () =>
      createAndSchedule(admin, {
        name: 'Price drop (Chromium)',
        when: { schedule: { type: 'once', at: new Date().toISOString() } },
        who: { segment: { type: 'all' } },
        what: {
          title: 'Hi {{ user.first_name | default: "there" }}, prices dropped',
          body: 'Deals end tonight.',
          deeplink: `${origin}/?deal=1`,
          actions: [{ id: 'shop', title: 'Shop now', url: `${origin}/?from=action` }],
          requireInteraction: true,
        },
        setup: {
          conversion: {
            event: { name: 'Charged' },
            windowHours: 24,
            after: 'click',
            revenueProperty: 'amount',
          },
        },
      }),
    );

    // 3. What Herald rendered for Chromium's subscription, handed to the service worker.
    const message = await step('Herald renders the message for the Chromium subscription', () =>
      waitFor(
        () =>
          sent.find(
            (m) => m.subscription.target === 'webpush' && m.subscription.endpoint === stored.endpoint,
          ),
        'the provider receives the message',
        20_000,
      ),
    );
    expect(message.payload.length).toBeLessThanOrEqual(4096);
    await step('DevTools delivers the payload to the example service worker', () =>
      deliverPush(page, message.payload),
    );
    const shown = await step('the notification server shows the right title, body and action', () =>
      notify.waitForNotify(
        (n) => n.summary.includes('prices dropped'),
        'Notify with the campaign title',
        20_000,
      ),
    );
    expect(shown.summary).toBe('Hi Grace, prices dropped');
    expect(shown.body).toContain('Deals end tonight.');
    expect(shown.actions).toContain('Shop now');

    // 4. A trusted click on the action button: its page opens, "clicked" is reported, the page tracks the goal.
    const actionKey = shown.actions[shown.actions.indexOf('Shop now') - 1] as string;
    const landed = await step('a click on the action opens its page in Chromium', async () => {
      notify.click(shown.id, actionKey);
      return waitFor(
        () => context.pages().find((p) => p.url().includes('from=action')),
        'a tab on ?from=action',
        20_000,
      );
    });
    await step('the landing page tracks the goal event "Charged"', async () => {
      await landed.locator('#track').click();
      await waitFor(
        async () => expectText(await landed.locator('#status').textContent(), 'Tracked "Charged"'),
        'the page says Tracked "Charged"',
      );
    });

    // 5. The stats.
    await expectStoryStats(() => herald.campaigns.stats(campaign.id));
  });
});
