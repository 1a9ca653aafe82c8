import type { HeraldPayload } from '@herald/core/payload';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness, waitFor, withTimeout } from './support/browser-harness.js';

let harness: Harness;
let page: Page;
let seq = 0;

function payload(origin: string, overrides: { expiresAt?: number; title?: string } = {}): HeraldPayload {
  const n = ++seq;
  return {
    web_push: 8030,
    notification: {
      title: overrides.title ?? `Price drop ${n}`,
      body: 'Your sneakers are 20% off',
      navigate: `${origin}/deal/${n}?utm=push`,
      tag: `deal-${n}`,
      require_interaction: true,
      actions: [
        { action: 'buy', title: 'Buy now', navigate: `${origin}/cart?add=${n}` },
        { action: 'remind', title: 'Remind me', navigate: `${origin}/remind/${n}` },
      ],
    },
    herald: {
      v: 1,
      campaignId: 'cmp_1',
      occurrence: '2026-01-01T10:00:00.000Z',
      userId: 'user_7',
      token: `token-${n}`,
      expiresAt: overrides.expiresAt ?? Date.now() + 3600_000,
      icon: `${origin}/icon.png`,
      image: `${origin}/sneakers.png`,
      badge: `${origin}/badge.png`,
      renotify: true,
    },
  };
}

const reports = (token: string) =>
  harness.requests.filter((r) => r.path === '/reports' && r.body?.token === token);

beforeAll(async () => {
  harness = await startHarness();
  await harness.context.grantPermissions(['notifications'], { origin: harness.origin });
  page = await harness.openPage('/');
  await withTimeout(
    page.evaluate(async () => {
      await navigator.serviceWorker.register('/sw.js');
      await navigator.serviceWorker.ready;
    }),
    15_000,
    'register /sw.js (importScripts of the IIFE build)',
  );
});

afterAll(async () => {
  await harness?.close();
});

beforeEach(() => {
  harness.failReports = 0;
});

describe('service worker in Chromium', () => {
  it('shows a Herald push with every field and reports "viewed" to the host', async () => {
    const message = payload(harness.origin);
    await harness.deliverPush(page, JSON.stringify(message));
    const shown = await harness.shown(page, message.notification.title);
    expect(shown).toMatchObject({
      title: message.notification.title,
      body: 'Your sneakers are 20% off',
      icon: `${harness.origin}/icon.png`,
      image: `${harness.origin}/sneakers.png`,
      badge: `${harness.origin}/badge.png`,
      tag: message.notification.tag,
      requireInteraction: true,
      renotify: true,
      actions: [
        { action: 'buy', title: 'Buy now' },
        { action: 'remind', title: 'Remind me' },
      ],
      data: {
        herald: {
          v: 1,
          campaignId: 'cmp_1',
          occurrence: '2026-01-01T10:00:00.000Z',
          userId: 'user_7',
          token: message.herald.token,
          reportUrl: `${harness.origin}/herald/reports`,
          navigate: message.notification.navigate,
        },
      },
    });
    const viewed = await harness.waitForRequest(
      (r) => r.path === '/reports' && r.body?.token === message.herald.token,
      '"viewed" report',
    );
    expect(viewed.method).toBe('POST');
    expect(viewed.body).toMatchObject({ kind: 'viewed', token: message.herald.token });
    expect(String(viewed.body?.reportId)).toMatch(/^[0-9a-f-]{36}$/);
    expect(Math.abs(Number(viewed.body?.at) - Date.now())).toBeLessThan(60_000);
    // The desktop got it too (the notification server of the session bus).
    const call = await harness.notify.waitForNotify(
      (c) => c.summary === message.notification.title,
      'Notify call',
    );
    expect(call.body).toContain('Your sneakers are 20% off');
    expect(call.actions).toEqual(expect.arrayContaining(['0', 'Buy now', '1', 'Remind me', 'default']));
  });

  it('does not show an expired message', async () => {
    const expired = payload(harness.origin, { expiresAt: Date.now() - 1000 });
    const fresh = payload(harness.origin);
    await harness.deliverPush(page, JSON.stringify(expired));
    await harness.deliverPush(page, JSON.stringify(fresh));
    await harness.shown(page, fresh.notification.title);
    expect((await harness.notifications(page)).map((n) => n.title)).not.toContain(expired.notification.title);
    expect(harness.notify.calls.map((c) => c.summary)).not.toContain(expired.notification.title);
    expect(reports(expired.herald.token)).toEqual([]);
  });

  it('leaves a push that is not Herald’s to the site’s own handler', async () => {
    const before = harness.requests.length;
    await harness.deliverPush(page, 'hello from the site');
    await harness.shown(page, 'Site: hello from the site');
    await harness.deliverPush(page, JSON.stringify({ title: 'not herald' }));
    await harness.shown(page, 'Site: {"title":"not herald"}');
    expect(harness.requests.slice(before).filter((r) => r.path === '/reports')).toEqual([]);
    // …and the site's handler never saw Herald's messages (no "Site: {"web_push"…" notification).
    expect((await harness.notifications(page)).some((n) => n.title.startsWith('Site: {"web_push"'))).toBe(
      false,
    );
  });

  it('opens the deeplink on a real click and reports "clicked"', async () => {
    const message = payload(harness.origin);
    await harness.deliverPush(page, JSON.stringify(message));
    const call = await harness.notify.waitForNotify(
      (c) => c.summary === message.notification.title,
      'Notify call',
    );
    const opened = harness.context.waitForEvent('page', { timeout: 10_000 });
    harness.notify.click(call.id, 'default');
    const landing = await withTimeout(opened, 10_000, 'a click opens a window');
    await landing.waitForURL(message.notification.navigate, { timeout: 10_000 });
    const clicked = await harness.waitForRequest(
      (r) => r.body?.token === message.herald.token && r.body?.kind === 'clicked',
      '"clicked" report',
    );
    expect(clicked.body).not.toHaveProperty('action');
    await waitFor(
      async () => !(await harness.notifications(page)).some((n) => n.title === message.notification.title),
      'the clicked notification is closed',
    );
    await landing.close();
  });

  it('opens an action button’s own URL and reports the action id', async () => {
    const message = payload(harness.origin);
    await harness.deliverPush(page, JSON.stringify(message));
    const call = await harness.notify.waitForNotify(
      (c) => c.summary === message.notification.title,
      'Notify call',
    );
    const opened = harness.context.waitForEvent('page', { timeout: 10_000 });
    harness.notify.click(call.id, '0');
    const landing = await withTimeout(opened, 10_000, 'an action click opens a window');
    await landing.waitForURL(message.notification.actions![0]!.navigate, { timeout: 10_000 });
    const clicked = await harness.waitForRequest(
      (r) => r.body?.token === message.herald.token && r.body?.kind === 'clicked',
      '"clicked" report with the action',
    );
    expect(clicked.body?.action).toBe('buy');
    await landing.close();
  });

  it('focuses a tab already on the deeplink instead of opening another', async () => {
    const message = payload(harness.origin);
    const existing = await harness.openPage(new URL(message.notification.navigate).pathname + '?utm=push');
    expect(existing.url()).toBe(message.notification.navigate);
    await harness.deliverPush(page, JSON.stringify(message));
    const call = await harness.notify.waitForNotify(
      (c) => c.summary === message.notification.title,
      'Notify call',
    );
    const pagesBefore = harness.context.pages().length;
    harness.notify.click(call.id, 'default');
    await harness.waitForRequest(
      (r) => r.body?.token === message.herald.token && r.body?.kind === 'clicked',
      '"clicked" report',
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(harness.context.pages().length).toBe(pagesBefore);
    await existing.close();
  });

  it('reports "closed" when the user dismisses it', async () => {
    const message = payload(harness.origin);
    await harness.deliverPush(page, JSON.stringify(message));
    const call = await harness.notify.waitForNotify(
      (c) => c.summary === message.notification.title,
      'Notify call',
    );
    harness.notify.close(call.id, 2);
    const closed = await harness.waitForRequest(
      (r) => r.body?.token === message.herald.token && r.body?.kind === 'closed',
      '"closed" report',
    );
    expect(closed.method).toBe('POST');
  });

  it('shows the message when the report fails, and sends the report later with the same reportId', async () => {
    harness.failReports = 1;
    const message = payload(harness.origin);
    await harness.deliverPush(page, JSON.stringify(message));
    await harness.shown(page, message.notification.title);
    // Retried from IndexedDB: by Background Sync, else at the next push or page load.
    await harness.deliverPush(page, JSON.stringify(payload(harness.origin)));
    await page.reload();
    await waitFor(
      () => reports(message.herald.token).some((r) => r.status === 204),
      'the failed report is sent again',
    );
    const attempts = reports(message.herald.token);
    expect(attempts[0]!.status).toBe(503);
    expect(new Set(attempts.map((r) => r.body?.reportId)).size).toBe(1);
    expect(attempts.filter((r) => r.status === 204)).toHaveLength(1);
  });

  it('works as an ES module service worker too', async () => {
    await withTimeout(
      page.evaluate(async () => {
        const registration = await navigator.serviceWorker.register('/module/sw.js', {
          type: 'module',
          scope: '/module/',
        });
        const worker = registration.installing ?? registration.waiting ?? registration.active!;
        if (worker.state !== 'activated') {
          await new Promise<void>((resolve) =>
            worker.addEventListener('statechange', () => worker.state === 'activated' && resolve()),
          );
        }
      }),
      15_000,
      'register /module/sw.js as a module worker',
    );
    const message = payload(harness.origin);
    await harness.deliverPush(page, JSON.stringify(message), '/module/');
    await harness.shown(page, message.notification.title, '/module/');
    await harness.waitForRequest(
      (r) => r.body?.token === message.herald.token && r.body?.kind === 'viewed',
      '"viewed"',
    );
  });

  it('still works when the service worker was stopped and no page is open', async () => {
    const { session } = { session: await harness.context.newCDPSession(page) };
    await session.send('ServiceWorker.enable');
    await session.send('ServiceWorker.stopAllWorkers');
    const message = payload(harness.origin);
    await harness.deliverPush(page, JSON.stringify(message));
    await harness.waitForRequest(
      (r) => r.body?.token === message.herald.token && r.body?.kind === 'viewed',
      '"viewed"',
    );
  });
});
