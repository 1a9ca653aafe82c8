import { parseHeraldPayload, type ReportBody, type ReportKind } from '@herald/core/payload';
import {
  clickTarget,
  type HeraldNotificationData,
  isExpired,
  isHeraldNotificationData,
  toNotification,
} from './notification.js';
import {
  createReporter,
  type FlushResult,
  indexedDbReportStore,
  memoryReportStore,
  type Reporter,
  type ReportStore,
} from './reports.js';

export interface HeraldServiceWorkerOptions {
  /** Where the host mounted Herald's HTTP handlers. Default `/herald`. */
  apiBase?: string;
  /**
   * The VAPID public key (base64url), used to resubscribe on `pushsubscriptionchange`
   * when the browser does not say which key the old subscription used.
   */
  vapidPublicKey?: string;
  /**
   * Stop other listeners from seeing Herald's own push, click and close events (so a site's
   * own handler, added after `installHerald`, does not show Herald's message twice). Default true.
   */
  exclusive?: boolean;
  /** Called with anything that went wrong in the background (a report that failed, …). */
  onError?: (error: unknown, where: string) => void;
  /** For tests: the report queue, the clock, fetch. */
  store?: ReportStore;
  now?: () => number;
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
}

const OPTION_KEYS: readonly (keyof HeraldServiceWorkerOptions)[] = [
  'apiBase',
  'vapidPublicKey',
  'exclusive',
  'onError',
  'store',
  'now',
  'fetch',
];

/**
 * A misspelt option (`apibase`) in a classic `sw.js`, where nothing type-checks it, would be
 * ignored and every report sent to the default path: said through `onError`, once, at install.
 */
function reportUnknownOptions(options: object, onError: (error: unknown, where: string) => void): void {
  for (const key of Object.keys(options)) {
    if ((OPTION_KEYS as readonly string[]).includes(key)) continue;
    const meant = OPTION_KEYS.find((known) => known.toLowerCase() === key.toLowerCase());
    onError(
      new Error(`unknown option "${key}" ignored${meant ? `; did you mean "${meant}"?` : ''}`),
      'installHerald',
    );
  }
}

export interface HeraldServiceWorker {
  /** Sends the reports that failed earlier. */
  flushReports(): Promise<FlushResult>;
}

/** The background-sync tag Herald uses for failed reports. */
export const SYNC_TAG = 'herald-reports';
/** `postMessage({ type: FLUSH_MESSAGE })` to the service worker sends the queued reports (the SDK does it on page load). */
export const FLUSH_MESSAGE = 'herald:flush';

/** The part of ServiceWorkerGlobalScope Herald uses. */
export type HeraldScope = Pick<
  ServiceWorkerGlobalScope,
  'addEventListener' | 'registration' | 'clients' | 'location'
>;

interface SubscriptionChangeEvent extends ExtendableEvent {
  readonly oldSubscription?: PushSubscription | null;
  readonly newSubscription?: PushSubscription | null;
}
interface SyncEvent extends ExtendableEvent {
  readonly tag: string;
}
interface SyncRegistration {
  sync?: { register(tag: string): Promise<void> };
}

function randomId(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function base64UrlToBytes(value: string): Uint8Array<ArrayBuffer> {
  const base64 = (value + '='.repeat((4 - (value.length % 4)) % 4)).replace(/-/g, '+').replace(/_/g, '/');
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

/**
 * Adds Herald's listeners to a service worker: `push` (show Herald's messages, report "viewed"),
 * `notificationclick` (open or focus the deeplink, report "clicked"), `notificationclose`
 * (report "closed"), `pushsubscriptionchange` (resubscribe and tell the host), plus `sync` and
 * `message` to send reports that failed earlier. Events that are not Herald's are left alone.
 */
export function installHerald(
  scope: HeraldScope,
  options: HeraldServiceWorkerOptions = {},
): HeraldServiceWorker {
  const apiBase = (options.apiBase ?? '/herald').replace(/\/+$/, '');
  const exclusive = options.exclusive ?? true;
  const now = options.now ?? (() => Date.now());
  const onError =
    options.onError ?? ((error: unknown, where: string) => console.warn(`[herald] ${where}:`, error));
  reportUnknownOptions(options, onError);
  const doFetch = options.fetch ?? ((url: string, init: RequestInit) => fetch(url, init));
  const store =
    options.store ?? (typeof indexedDB === 'undefined' ? memoryReportStore() : indexedDbReportStore());
  const api = (path: string) => new URL(apiBase + path, scope.location.href).href;

  const reporter: Reporter = createReporter({
    fetch: doFetch,
    store,
    now,
    onError,
    onQueued() {
      const sync = (scope.registration as unknown as SyncRegistration).sync;
      sync?.register(SYNC_TAG).catch(() => {});
    },
  });

  const report = (data: HeraldNotificationData, kind: ReportKind, action?: string) => {
    const body: ReportBody = { kind, token: data.herald.token, reportId: randomId(), at: now() };
    if (action) body.action = action;
    return reporter.send(data.herald.reportUrl, body);
  };

  scope.addEventListener('push', (event) => {
    let json: unknown;
    try {
      json = event.data?.json();
    } catch {
      return; // not JSON: the site's own handler's business
    }
    const payload = parseHeraldPayload(json);
    if (!payload) return;
    if (exclusive) event.stopImmediatePropagation();
    if (isExpired(payload, now())) {
      event.waitUntil(reporter.flush());
      return;
    }
    const { title, options: notificationOptions } = toNotification(
      payload,
      payload.herald.reportUrl ?? api('/reports'),
    );
    event.waitUntil(
      (async () => {
        // Show first: a failing report never prevents the notification.
        await scope.registration.showNotification(title, notificationOptions);
        await Promise.all([report(notificationOptions.data, 'viewed'), reporter.flush()]);
      })(),
    );
  });

  scope.addEventListener('notificationclick', (event) => {
    const data: unknown = event.notification.data;
    if (!isHeraldNotificationData(data)) return;
    if (exclusive) event.stopImmediatePropagation();
    event.notification.close();
    const url = clickTarget(data, event.action);
    event.waitUntil(
      Promise.all([
        openOrFocus(scope, url).catch((error: unknown) => onError(error, `open ${url}`)),
        report(data, 'clicked', event.action || undefined),
      ]),
    );
  });

  scope.addEventListener('notificationclose', (event) => {
    const data: unknown = event.notification.data;
    if (!isHeraldNotificationData(data)) return;
    if (exclusive) event.stopImmediatePropagation();
    event.waitUntil(report(data, 'closed'));
  });

  (scope.addEventListener as (type: string, listener: (event: Event) => void) => void)(
    'pushsubscriptionchange',
    (event) => {
      const change = event as SubscriptionChangeEvent;
      change.waitUntil(
        resubscribe(change).catch((error: unknown) => {
          onError(error, 'pushsubscriptionchange');
        }),
      );
    },
  );

  (scope.addEventListener as (type: string, listener: (event: Event) => void) => void)('sync', (event) => {
    const sync = event as SyncEvent;
    if (sync.tag !== SYNC_TAG) return;
    sync.waitUntil(
      reporter.flush().then((result) => {
        // Rejecting tells the browser to try this sync again later.
        if (result.kept > 0) throw new Error(`${result.kept} Herald report(s) still pending`);
      }),
    );
  });

  scope.addEventListener('message', (event) => {
    const type = (event.data as { type?: unknown } | null)?.type;
    if (type === FLUSH_MESSAGE) event.waitUntil(reporter.flush());
  });

  async function resubscribe(event: SubscriptionChangeEvent): Promise<void> {
    const old = event.oldSubscription ?? null;
    let subscription = event.newSubscription ?? null;
    if (!subscription) {
      const key =
        old?.options.applicationServerKey ??
        (options.vapidPublicKey ? base64UrlToBytes(options.vapidPublicKey) : null);
      if (!key)
        throw new Error('pushsubscriptionchange: no VAPID key known; pass vapidPublicKey to installHerald');
      subscription = await scope.registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: key,
      });
    }
    const body: Record<string, unknown> = { subscription: subscription.toJSON() };
    if (old?.endpoint && old.endpoint !== subscription.endpoint) body.oldEndpoint = old.endpoint;
    const timezone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (timezone) body.timezone = timezone;
    const response = await doFetch(api('/subscriptions'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      credentials: 'same-origin',
    });
    if (!response.ok) throw new Error(`host answered ${response.status} to the new subscription`);
  }

  return { flushReports: () => reporter.flush() };
}

/** Focuses a window already on `url`, else opens one. */
export async function openOrFocus(scope: Pick<HeraldScope, 'clients'>, url: string): Promise<void> {
  const windows = await scope.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const open = windows.find((client) => client.url === url);
  if (open) {
    await open.focus();
    return;
  }
  await scope.clients.openWindow(url);
}
