/**
 * The product, end to end, in a real Firefox: the example app (started as
 * `npm start` starts it) → Herald's browser SDK subscribes Firefox through a
 * local Mozilla push service → a campaign created over the admin API is
 * rendered, encrypted (RFC 8291) and signed (VAPID) by Herald → Firefox
 * decrypts it itself → Herald's service worker shows it on the desktop's
 * notification server → a click on its action button opens the deeplink and
 * reports "clicked" → the page tracks the goal event → the campaign's stats
 * count it all. Then an unsubscribe makes the next send come back 410 and
 * Herald drops the subscription.
 */
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FakeNotify,
  startFakeNotify,
} from '../../../../packages/service-worker/test/support/fake-notify.js';
import { type ExampleProcess, startExample } from '../support/example-process.js';
import { launchFirefox } from '../support/firefox.js';
import { type MozPushEvent, type MozPushServer, startMozPushServer } from '../support/moz-push-server.js';
import {
  assertBuilt,
  Cleanup,
  createAndSchedule,
  expectStoryStats,
  expectText,
  step,
  waitFor,
} from '../support/steps.js';

const USER = 'reader-1';
const ZONE = 'America/New_York';

interface Stats {
  sent: number;
  failed: number;
  gone: number;
  viewed: number;
  clicked: number;
  clickedByAction: Record<string, number>;
  conversions: { recipients: { conversions: number; revenue: number } };
}
interface StoredSubscription {
  id: string;
  endpoint: string | null;
  timezone: string | null;
}

describe('Firefox ESR, end to end through the example app', () => {
  const cleanup = new Cleanup();
  let push: MozPushServer;
  let notify: FakeNotify;
  let app: ExampleProcess;
  let browser: Browser;
  let page: Page;
  let endpoint: string;

  beforeAll(async () => {
    assertBuilt();
    push = await step('start the Mozilla push stand-in', () => startMozPushServer());
    cleanup.add('Mozilla push stand-in', () => push.stop());
    notify = await step('start a D-Bus session with the fake notification server', () => startFakeNotify());
    cleanup.add('fake notification server and D-Bus', () => notify.stop());
    app = await step('start the example app (npm start) allowing the stand-in', () =>
      startExample({ HERALD_ALLOW_ENDPOINTS: push.endpointBase }),
    );
    cleanup.add('example app', () => app.stop());
    browser = await step('launch Firefox ESR headless over WebDriver BiDi', () =>
      launchFirefox({ pushServerUrl: push.webSocketUrl, env: { ...notify.env, TZ: ZONE } }),
    );
    cleanup.add('Firefox', () => browser.close());
  });

  afterAll(async () => {
    await cleanup.run();
  });

  it('subscribes through the soft prompt, decrypts and shows the campaign, reports the click, converts', async () => {
    await step('the site knows the user (PUT /admin/api/profiles/:id)', () =>
      app.admin('PUT', `/profiles/${USER}`, { properties: { first_name: 'Ada', city: 'Lisbon' } }),
    );

    // 1. The page, the soft prompt, the subscription with Firefox's own keys and time zone.
    page = await step('Firefox opens the example page and shows the soft prompt', async () => {
      const opened = await browser.newPage();
      await opened.goto(app.origin);
      await opened.waitForSelector('.herald-prompt__allow', { timeout: 20_000 });
      return opened;
    });
    const firefoxSubscription = await step('the soft prompt is accepted and the SDK subscribes', async () => {
      // The user's answer to the browser's own permission prompt, which a headless Firefox cannot show.
      await browser.defaultBrowserContext().overridePermissions(app.origin, ['notifications']);
      await page.click('.herald-prompt__allow');
      await waitFor(
        async () => expectText(await page.$eval('#status', (el) => el.textContent), 'Prompt: subscribed'),
        'the page says "Prompt: subscribed"',
        20_000,
      );
      return page.evaluate(async () => {
        const registration = await navigator.serviceWorker.ready;
        const subscription = await registration.pushManager.getSubscription();
        return subscription ? (subscription.toJSON() as PushSubscriptionJSON) : null;
      });
    });
    expect(firefoxSubscription?.endpoint).toMatch(new RegExp(`^${push.endpointBase}[0-9a-f-]{36}$`));
    endpoint = firefoxSubscription?.endpoint as string;
    expect(Buffer.from(firefoxSubscription?.keys?.p256dh ?? '', 'base64url')).toHaveLength(65);
    expect(Buffer.from(firefoxSubscription?.keys?.auth ?? '', 'base64url')).toHaveLength(16);
    const registered = push.events.find(
      (e): e is Extract<MozPushEvent, { type: 'register' }> =>
        e.type === 'register' && e.endpoint === endpoint,
    );
    const config = (await (await fetch(`${app.origin}/config.json`)).json()) as { vapidPublicKey: string };
    expect(registered?.key, 'Firefox registered with the site VAPID key').toBe(config.vapidPublicKey);
    const stored = await step('Herald stores the subscription with the browser time zone', () =>
      waitFor(async () => {
        const list = await app.admin<StoredSubscription[]>('GET', `/profiles/${USER}/subscriptions`);
        return list.find((s) => s.endpoint === endpoint);
      }, 'GET /admin/api/profiles/reader-1/subscriptions lists the Firefox endpoint'),
    );
    expect(stored.timezone).toBe(ZONE);

    // 2. A personalised campaign with a deeplink, an action button and a conversion goal.
    const deeplink = `${app.origin}/?deal={{ user.city | url_encode }}`;
    const campaign = await step('a campaign is created and scheduled over the admin API', () =>
      createAndSchedule(app.admin, {
        name: 'Price drop',
        when: { schedule: { type: 'once', at: new Date().toISOString() } },
        who: { segment: { type: 'all' } },
        what: {
          title: 'Hi {{ user.first_name }}, prices dropped',
          body: 'Deals in {{ user.city }} end tonight.',
          deeplink,
          actions: [{ id: 'shop', title: 'Shop now', url: `${app.origin}/?from=action` }],
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
    expect(campaign.status).toBe('scheduled');

    // 3. Herald encrypts and sends; Firefox decrypts; the service worker shows it.
    const relayed = await step('Herald POSTs the encrypted message and the stand-in relays it', () =>
      push.waitFor(
        (e): e is Extract<MozPushEvent, { type: 'relayed' }> =>
          e.type === 'relayed' && endpoint.endsWith(e.channelID),
        'the stand-in relays a message to Firefox',
        20_000,
      ),
    );
    await step('Firefox acknowledges the message (it decrypted it)', () =>
      push.waitFor(
        (e) => e.type === 'ack' && e.version === relayed.version,
        'ack for the relayed version',
        20_000,
      ),
    );
    const shown = await step('the notification server shows the right title, body and action', () =>
      notify.waitForNotify(
        (n) => n.summary.includes('prices dropped'),
        'Notify with the campaign title',
        20_000,
      ),
    );
    expect(shown.summary).toBe('Hi Ada, prices dropped');
    expect(shown.body).toContain('Deals in Lisbon end tonight.');
    expect(shown.actions).toContain('Shop now');
    const data = await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.ready;
      return (await registration.getNotifications()).map((n) => n.data as { herald?: { navigate?: string } });
    });
    expect(data[0]?.herald?.navigate, 'the personalised deeplink').toBe(`${app.origin}/?deal=Lisbon`);

    // 4. A click on the action opens its URL and reports "clicked"; the page tracks the goal.
    const actionKey = shown.actions[shown.actions.indexOf('Shop now') - 1] as string;
    const landed = await step('a click on the action opens its page in Firefox', async () => {
      notify.click(shown.id, actionKey);
      return waitFor(
        async () => {
          for (const candidate of await browser.pages())
            if (candidate.url().includes('from=action')) return candidate;
          return null;
        },
        'a tab on ?from=action',
        20_000,
      );
    });
    await step('the landing page tracks the goal event "Charged"', async () => {
      await landed.waitForSelector('#track');
      await landed.click('#track');
      await waitFor(
        async () => expectText(await landed.$eval('#status', (el) => el.textContent), 'Tracked "Charged"'),
        'the page says Tracked "Charged"',
      );
    });

    // 5. The stats.
    await expectStoryStats(() => app.admin<Stats>('GET', `/campaigns/${campaign.id}/stats`));
  });

  it('after an unsubscribe in the page, the next send gets 410 and Herald removes the subscription', async () => {
    expect(endpoint, 'the first test subscribed').toBeTruthy();
    // The browser-level unsubscribe, without the SDK's DELETE to the site: what happens when the user
    // blocks notifications in Firefox's settings, or when the SDK's request to the site is lost.
    // Herald still holds the subscription and must learn from the push service that it is gone.
    await step('the page unsubscribes from push (Firefox unregisters the channel)', async () => {
      await page.bringToFront();
      const dropped = await page.evaluate(async () => {
        const registration = await navigator.serviceWorker.ready;
        return (await registration.pushManager.getSubscription())?.unsubscribe() ?? false;
      });
      expect(dropped).toBe(true);
      await push.waitFor(
        (e) => e.type === 'unregister' && endpoint.endsWith(e.channelID),
        'Firefox sends unregister for the channel',
      );
    });
    const before = await app.admin<StoredSubscription[]>('GET', `/profiles/${USER}/subscriptions`);
    expect(before.map((s) => s.endpoint)).toContain(endpoint);

    const campaign = await step('a second campaign is sent to the same user', () =>
      createAndSchedule(app.admin, {
        name: 'Second',
        when: { schedule: { type: 'once', at: new Date().toISOString() } },
        who: { segment: { type: 'all' } },
        what: { title: 'Again', deeplink: `${app.origin}/` },
      }),
    );
    await step('the stand-in answers 410 Gone', () =>
      push.waitFor(
        (e) => e.type === 'rejected' && e.status === 410 && endpoint.endsWith(e.channelID),
        'a POST to the unregistered channel answered 410',
        20_000,
      ),
    );
    const stats = await step('Herald counts the message as gone and removes the subscription', () =>
      waitFor(
        async () => {
          const s = await app.admin<Stats>('GET', `/campaigns/${campaign.id}/stats`);
          const list = await app.admin<StoredSubscription[]>('GET', `/profiles/${USER}/subscriptions`);
          return s.gone === 1 && !list.some((x) => x.endpoint === endpoint) ? s : null;
        },
        'stats.gone = 1 and the endpoint no longer listed',
        20_000,
      ),
    );
    expect(stats.sent).toBe(0);
    expect(push.events.filter((e) => e.type === 'relayed')).toHaveLength(1);
  });
});
