import { describe, expect, it } from 'vitest';
import { FLUSH_MESSAGE, type HeraldScope, installHerald } from '../src/install.js';
import { memoryReportStore } from '../src/reports.js';
import { heraldPayload } from './fixtures.js';

type Listener = (event: Event) => void;

/** A stand-in for ServiceWorkerGlobalScope: records listeners, notifications, windows and requests. */
function fakeScope(answers: Array<number | 'network'> = []) {
  const listeners = new Map<string, Listener[]>();
  const shown: Array<{ title: string; options: NotificationOptions }> = [];
  const opened: string[] = [];
  const requests: Array<{ url: string; body: Record<string, unknown> }> = [];
  const subscribed: unknown[] = [];
  const newSubscription = {
    endpoint: 'https://push.example/new',
    toJSON: () => ({ endpoint: 'https://push.example/new', keys: { p256dh: 'p', auth: 'a' } }),
  };
  const scope = {
    location: new URL('https://shop.example/sw.js'),
    addEventListener: (type: string, listener: Listener) =>
      listeners.set(type, [...(listeners.get(type) ?? []), listener]),
    registration: {
      showNotification: async (title: string, options: NotificationOptions) => {
        shown.push({ title, options });
      },
      pushManager: {
        subscribe: async (options: unknown) => {
          subscribed.push(options);
          return newSubscription;
        },
      },
    },
    clients: {
      matchAll: async () => [],
      openWindow: async (url: string) => {
        opened.push(url);
        return null;
      },
    },
  } as unknown as HeraldScope;
  const fetch = async (url: string, init: RequestInit) => {
    requests.push({ url, body: JSON.parse(String(init.body)) });
    const answer = answers.shift() ?? 204;
    if (answer === 'network') throw new TypeError('Failed to fetch');
    return new Response(null, { status: answer });
  };
  /** Dispatches like a browser: listeners in order until one stops propagation; resolves after waitUntil. */
  async function dispatch(type: string, init: Record<string, unknown>) {
    const waits: Promise<unknown>[] = [];
    let stopped = false;
    const event = {
      ...init,
      waitUntil: (p: Promise<unknown>) => waits.push(p),
      stopImmediatePropagation: () => {
        stopped = true;
      },
    } as unknown as Event;
    const ran: number[] = [];
    for (const [i, listener] of (listeners.get(type) ?? []).entries()) {
      if (stopped) break;
      listener(event);
      ran.push(i);
    }
    await Promise.all(waits);
    return ran;
  }
  return { scope, fetch, shown, opened, requests, subscribed, dispatch, listeners };
}

const pushData = (json: unknown) => ({
  data: {
    json: () => (typeof json === 'string' ? JSON.parse(json) : json),
  },
});

describe('installHerald', () => {
  it('shows a Herald push and reports "viewed" with the message’s token', async () => {
    const sw = fakeScope();
    installHerald(sw.scope, { fetch: sw.fetch, store: memoryReportStore() });
    await sw.dispatch('push', pushData(heraldPayload()));
    expect(sw.shown).toHaveLength(1);
    expect(sw.shown[0]!.title).toBe('Price drop');
    expect(sw.requests).toHaveLength(1);
    expect(sw.requests[0]!.url).toBe('https://shop.example/herald/reports');
    expect(sw.requests[0]!.body).toMatchObject({ kind: 'viewed', token: 'signed.report.token' });
  });

  it('says, through onError, which option it ignored and which one was meant', () => {
    const sw = fakeScope();
    const errors: Array<{ message: string; where: string }> = [];
    const onError = (error: unknown, where: string) =>
      errors.push({ message: (error as Error).message, where });
    installHerald(sw.scope, {
      fetch: sw.fetch,
      store: memoryReportStore(),
      onError,
      apibase: '/api/herald',
    } as never);
    expect(errors).toEqual([
      { message: 'unknown option "apibase" ignored; did you mean "apiBase"?', where: 'installHerald' },
    ]);
    installHerald(fakeScope().scope, { store: memoryReportStore(), onError, apiBase: '/api/herald' });
    expect(errors).toHaveLength(1);
  });

  it('uses the payload’s reportUrl when there is one', async () => {
    const sw = fakeScope();
    installHerald(sw.scope, { fetch: sw.fetch, store: memoryReportStore() });
    await sw.dispatch('push', pushData(heraldPayload({ reportUrl: 'https://api.shop.example/r' })));
    expect(sw.requests[0]!.url).toBe('https://api.shop.example/r');
  });

  it('leaves other pushes to the site’s own handler, and hides Herald’s from it', async () => {
    const sw = fakeScope();
    installHerald(sw.scope, { fetch: sw.fetch, store: memoryReportStore() });
    sw.listeners.get('push')!.push(() => {});
    expect(await sw.dispatch('push', pushData({ title: 'site' }))).toEqual([0, 1]);
    expect(await sw.dispatch('push', { data: { json: () => JSON.parse('not json') } })).toEqual([0, 1]);
    expect(await sw.dispatch('push', pushData(heraldPayload()))).toEqual([0]);
  });

  it('does not show an expired message', async () => {
    const sw = fakeScope();
    installHerald(sw.scope, { fetch: sw.fetch, store: memoryReportStore() });
    await sw.dispatch('push', pushData(heraldPayload({ expiresAt: Date.now() - 1 })));
    expect(sw.shown).toEqual([]);
    expect(sw.requests).toEqual([]);
  });

  it('shows the notification even when the report fails, and sends it with the next push', async () => {
    const sw = fakeScope(['network']);
    const store = memoryReportStore();
    installHerald(sw.scope, { fetch: sw.fetch, store });
    await sw.dispatch('push', pushData(heraldPayload()));
    expect(sw.shown).toHaveLength(1);
    expect(store.items.size).toBe(1);
    const lost = [...store.items.keys()][0];
    await sw.dispatch('push', pushData(heraldPayload()));
    expect(store.items.size).toBe(0);
    expect(sw.requests.map((r) => r.body.reportId)).toContain(lost);
    expect(sw.requests.filter((r) => r.body.reportId === lost)).toHaveLength(2);
  });

  it('sends queued reports when a page asks (no Background Sync)', async () => {
    const sw = fakeScope(['network']);
    const store = memoryReportStore();
    installHerald(sw.scope, { fetch: sw.fetch, store });
    await sw.dispatch('push', pushData(heraldPayload()));
    await sw.dispatch('message', { data: { type: FLUSH_MESSAGE } });
    expect(store.items.size).toBe(0);
    expect(sw.requests).toHaveLength(2);
  });

  it('opens the action’s URL on click and reports the action; reports a close', async () => {
    const sw = fakeScope();
    installHerald(sw.scope, { fetch: sw.fetch, store: memoryReportStore() });
    await sw.dispatch('push', pushData(heraldPayload()));
    const notification = { data: sw.shown[0]!.options.data, close: () => {} };
    await sw.dispatch('notificationclick', { notification, action: 'buy' });
    await sw.dispatch('notificationclick', { notification, action: '' });
    await sw.dispatch('notificationclose', { notification });
    expect(sw.opened).toEqual(['https://shop.example/cart?add=42', 'https://shop.example/deal/42']);
    expect(sw.requests.map((r) => [r.body.kind, r.body.action])).toEqual([
      ['viewed', undefined],
      ['clicked', 'buy'],
      ['clicked', undefined],
      ['closed', undefined],
    ]);
  });

  it('ignores clicks on the site’s own notifications', async () => {
    const sw = fakeScope();
    installHerald(sw.scope, { fetch: sw.fetch, store: memoryReportStore() });
    expect(
      await sw.dispatch('notificationclick', { notification: { data: { url: '/x' } }, action: '' }),
    ).toEqual([0]);
    expect(sw.opened).toEqual([]);
    expect(sw.requests).toEqual([]);
  });

  it('resubscribes with the old key on pushsubscriptionchange and replaces the old endpoint', async () => {
    const sw = fakeScope();
    installHerald(sw.scope, { fetch: sw.fetch, store: memoryReportStore() });
    const key = new Uint8Array([4, 1, 2, 3]).buffer;
    await sw.dispatch('pushsubscriptionchange', {
      oldSubscription: { endpoint: 'https://push.example/old', options: { applicationServerKey: key } },
      newSubscription: null,
    });
    expect(sw.subscribed).toEqual([{ userVisibleOnly: true, applicationServerKey: key }]);
    expect(sw.requests).toEqual([
      {
        url: 'https://shop.example/herald/subscriptions',
        body: {
          subscription: { endpoint: 'https://push.example/new', keys: { p256dh: 'p', auth: 'a' } },
          oldEndpoint: 'https://push.example/old',
          timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
        },
      },
    ]);
  });

  it('falls back to the configured VAPID key when the browser gives no old subscription', async () => {
    const sw = fakeScope();
    installHerald(sw.scope, { fetch: sw.fetch, store: memoryReportStore(), vapidPublicKey: 'BAEC' });
    await sw.dispatch('pushsubscriptionchange', {});
    const options = sw.subscribed[0] as { applicationServerKey: Uint8Array };
    expect([...options.applicationServerKey]).toEqual([4, 1, 2]);
    expect(sw.requests[0]!.body).not.toHaveProperty('oldEndpoint');
  });
});
