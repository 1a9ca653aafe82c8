import { HeraldError } from './errors.js';
import { base64UrlToBytes, sameKey } from './keys.js';
import { detectSupport, type Support, type SupportEnv } from './support.js';

export interface HeraldClientConfig {
  /** Where the host mounted Herald's HTTP handlers, e.g. `/herald`. Default `/herald`. */
  apiBase?: string;
  /** The VAPID public key (base64url), as given to the host's web push provider. */
  vapidPublicKey: string;
  /** The site's service worker (which calls `installHerald`). Default `{ url: '/sw.js' }`. */
  serviceWorker?: { url: string; scope?: string; type?: WorkerType };
  /** Safari before 16 (legacy website push). */
  safari?: { websitePushId: string; webServiceUrl: string };
  /** Re-check the subscription when the client is created (on every page load). Default true. */
  autoSync?: boolean;
  /** How long to wait for the browser's push service. Default 20 s. */
  subscribeTimeoutMs?: number;
  /** Called with errors of the automatic page-load check. Default: console.warn. */
  onError?: (error: unknown) => void;
}

/** The host's answer to `identify`: the user the subscription belongs to now, and whether that changed. */
export interface IdentifyResult {
  userId: string;
  changed: boolean;
}

export type PermissionState = NotificationPermission | 'unsupported';

export type HeraldSubscription =
  | { kind: 'push'; id: string; subscription: PushSubscription }
  | { kind: 'safari'; id: string; deviceToken: string };

export interface HeraldClient {
  isSupported(): Support;
  permission(): PermissionState;
  /** Asks permission (call it from a click), subscribes and tells the host. */
  // `| undefined`: a host passes `currentUser?.id`, which strict `exactOptionalPropertyTypes` refuses otherwise.
  subscribe(options?: { userId?: string | undefined }): Promise<HeraldSubscription>;
  /** Unsubscribes and tells the host; false when there was no subscription. */
  unsubscribe(): Promise<boolean>;
  /**
   * Binds the current subscription (and later events) to a logged-in user.
   * Resolves to whose the subscription now is, as the host answered, or null
   * when there is no subscription yet (the id goes with the next `subscribe`).
   * The host decides: without `resolveUser` (or `trustClientUserId`) it keeps
   * the current owner, and the SDK warns on the console.
   */
  identify(userId: string): Promise<IdentifyResult | null>;
  /** Sends a user event (for live campaigns). */
  track(name: string, properties?: Record<string, unknown>): Promise<void>;
  /** Re-checks the subscription and posts it again when the browser changed it. */
  sync(): Promise<HeraldSubscription | null>;
  /** The automatic page-load `sync()` (null when off, unsupported or not subscribed); never rejects. */
  readonly synced: Promise<HeraldSubscription | null>;
}

/** What the SDK remembers (localStorage) about what it last told the host. */
interface Stored {
  /** Endpoint + keys of the subscription last posted, or the Safari device token. */
  fp?: string;
  endpoint?: string;
  id?: string;
  userId?: string;
}

interface SafariPermission {
  permission: NotificationPermission;
  deviceToken?: string | null;
}
interface SafariPush {
  permission(websitePushId: string): SafariPermission;
  requestPermission(
    url: string,
    websitePushId: string,
    userInfo: Record<string, string>,
    callback: (permission: SafariPermission) => void,
  ): void;
}

const FLUSH_MESSAGE = 'herald:flush';

const fingerprint = (json: PushSubscriptionJSON) =>
  `${json.endpoint} ${json.keys?.p256dh} ${json.keys?.auth}`;

function timeout<T>(promise: Promise<T>, ms: number, error: () => HeraldError): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(error()), ms);
    promise.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}

export function createHeraldClient(config: HeraldClientConfig): HeraldClient {
  const apiBase = (config.apiBase ?? '/herald').replace(/\/+$/, '');
  const worker = config.serviceWorker ?? { url: '/sw.js' };
  const key = base64UrlToBytes(config.vapidPublicKey);
  const storageKey = `herald:${apiBase}`;
  const win = window as unknown as SupportEnv & { safari?: { pushNotification?: SafariPush } };

  const load = (): Stored => {
    try {
      return JSON.parse(localStorage.getItem(storageKey) ?? '{}') as Stored;
    } catch {
      return {};
    }
  };
  const save = (stored: Stored) => {
    try {
      localStorage.setItem(storageKey, JSON.stringify(stored));
    } catch {
      // storage disabled: the next page load posts again, which the host treats as an upsert
    }
  };

  async function call(
    method: string,
    path: string,
    body: unknown,
  ): Promise<{ id?: string; userId?: string; changed?: boolean } | null> {
    let response: Response;
    try {
      response = await fetch(apiBase + path, {
        method,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        credentials: 'same-origin',
        keepalive: path === '/events',
      });
    } catch (cause) {
      throw new HeraldError('network', `Could not reach ${apiBase + path}: is Herald mounted at apiBase?`, {
        cause,
      });
    }
    if (!response.ok) {
      let details: { message?: string } | undefined;
      try {
        details = ((await response.json()) as { error?: { message?: string } }).error;
      } catch {}
      throw new HeraldError(
        'host-rejected',
        `${method} ${apiBase + path} answered ${response.status}${details?.message ? `: ${details.message}` : ''}`,
        { status: response.status, details },
      );
    }
    return response.status === 204
      ? null
      : ((await response.json().catch(() => null)) as {
          id?: string;
          userId?: string;
          changed?: boolean;
        } | null);
  }

  const timezone = () => {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone;
    } catch {
      return undefined;
    }
  };
  /** For the host's stats by browser; left out when the server would refuse it (over 512 characters, not printable ASCII). */
  const userAgent = () => {
    const agent = typeof navigator === 'undefined' ? undefined : navigator.userAgent;
    return agent && /^[\x20-\x7e]{1,512}$/.test(agent) ? agent : undefined;
  };

  const isSupported = () => detectSupport(win, !!config.safari);
  const safariPush = () => {
    const support = isSupported();
    return support.supported && support.mode === 'safari-legacy' ? win.safari?.pushNotification : undefined;
  };
  const safariPermission = (push: SafariPush) => push.permission(config.safari!.websitePushId);

  function permission(): PermissionState {
    const support = isSupported();
    if (!support.supported) return 'unsupported';
    const push = safariPush();
    return push ? safariPermission(push).permission : Notification.permission;
  }

  function denied(blocked: boolean): HeraldError {
    return blocked
      ? new HeraldError(
          'permission-blocked',
          'Notifications are blocked for this site. Only the user can allow them again, in the browser’s site settings.',
        )
      : new HeraldError(
          'permission-denied',
          'The user did not allow notifications. Ask again later, after a clear benefit.',
        );
  }

  async function askPermission(): Promise<void> {
    if (Notification.permission === 'denied') throw denied(true);
    if (Notification.permission === 'granted') return;
    const result = await new Promise<NotificationPermission>((resolve) => {
      // Old Safari only has the callback form.
      Notification.requestPermission(resolve)?.then(resolve, () => resolve('default'));
    });
    if (result !== 'granted') throw denied(false);
  }

  async function registration(create: boolean): Promise<ServiceWorkerRegistration | undefined> {
    const sw = navigator.serviceWorker;
    if (!create) return sw.getRegistration(worker.scope ?? worker.url);
    let reg: ServiceWorkerRegistration;
    try {
      reg = await sw.register(worker.url, { scope: worker.scope, type: worker.type });
    } catch (cause) {
      throw new HeraldError(
        'service-worker-failed',
        `The service worker ${worker.url} failed to register: check its URL, scope and that it parses.`,
        { cause },
      );
    }
    if (reg.active) return reg;
    const installing = reg.installing ?? reg.waiting;
    const failed = () =>
      new HeraldError(
        'service-worker-failed',
        `The service worker ${worker.url} did not activate (see its console).`,
      );
    await timeout(
      new Promise<void>((resolve, reject) => {
        installing?.addEventListener('statechange', () => {
          if (installing.state === 'activated') resolve();
          if (installing.state === 'redundant') reject(failed());
        });
        if (!installing || reg.active) resolve();
      }),
      15_000,
      failed,
    );
    return reg;
  }

  async function pushSubscribe(reg: ServiceWorkerRegistration): Promise<PushSubscription> {
    try {
      return await timeout(
        reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key }),
        config.subscribeTimeoutMs ?? 20_000,
        () =>
          new HeraldError(
            'push-service-unreachable',
            'The browser’s push service did not answer; try again later.',
          ),
      );
    } catch (cause) {
      if (cause instanceof HeraldError) throw cause;
      if ((cause as Error)?.name === 'NotAllowedError') throw denied(Notification.permission === 'denied');
      throw new HeraldError(
        'push-service-unreachable',
        `The browser could not subscribe: ${(cause as Error)?.message}`,
        {
          cause,
        },
      );
    }
  }

  async function ensure(reg: ServiceWorkerRegistration, userId: string | undefined, force: boolean) {
    const stored = load();
    let subscription = await reg.pushManager.getSubscription();
    let oldEndpoint = stored.endpoint;
    if (subscription && !sameKey(subscription.options.applicationServerKey, key)) {
      // Subscribed with another VAPID key: replace it, or the host could never reach it.
      oldEndpoint = subscription.endpoint;
      await subscription.unsubscribe().catch(() => false);
      subscription = null;
    }
    subscription ??= await pushSubscribe(reg);
    const json = subscription.toJSON();
    const uid = userId ?? stored.userId;
    if (!force && stored.id && stored.fp === fingerprint(json)) {
      return { kind: 'push', id: stored.id, subscription } as const;
    }
    const body: Record<string, unknown> = {
      subscription: json,
      userId: uid,
      timezone: timezone(),
      userAgent: userAgent(),
    };
    if (oldEndpoint && oldEndpoint !== subscription.endpoint) body.oldEndpoint = oldEndpoint;
    const id = String((await call('POST', '/subscriptions', body))?.id ?? '');
    save({ fp: fingerprint(json), endpoint: subscription.endpoint, id, userId: uid });
    return { kind: 'push', id, subscription } as const;
  }

  /** Whom the host filed the last Safari subscription under (its answer's `userId`), for identify. */
  let lastSafariOwner: string | undefined;

  async function subscribeSafari(push: SafariPush, userId: string | undefined): Promise<HeraldSubscription> {
    const { websitePushId, webServiceUrl } = config.safari!;
    let state = safariPermission(push);
    if (state.permission === 'denied') throw denied(true);
    if (state.permission === 'default') {
      state = await new Promise<SafariPermission>((resolve) =>
        push.requestPermission(webServiceUrl, websitePushId, userId ? { userId } : {}, resolve),
      );
    }
    if (state.permission !== 'granted' || !state.deviceToken) throw denied(state.permission === 'denied');
    const uid = userId ?? load().userId;
    const result = await call('POST', '/subscriptions/safari', {
      deviceToken: state.deviceToken,
      userId: uid,
      timezone: timezone(),
    });
    const id = String(result?.id ?? '');
    lastSafariOwner = typeof result?.userId === 'string' ? result.userId : undefined;
    save({ fp: state.deviceToken, id, userId: uid });
    return { kind: 'safari', id, deviceToken: state.deviceToken };
  }

  async function sync(): Promise<HeraldSubscription | null> {
    if (permission() !== 'granted') return null;
    const push = safariPush();
    if (push) {
      const stored = load();
      const token = safariPermission(push).deviceToken;
      if (!stored.fp || !token) return null;
      return token === stored.fp
        ? { kind: 'safari', id: stored.id ?? '', deviceToken: token }
        : subscribeSafari(push, undefined);
    }
    const reg = await registration(false);
    if (!reg) return null;
    // Let the service worker send reports that failed earlier (browsers without Background Sync).
    reg.active?.postMessage({ type: FLUSH_MESSAGE });
    if (!load().fp && !(await reg.pushManager.getSubscription())) return null;
    return ensure(reg, undefined, false);
  }

  const client: HeraldClient = {
    isSupported,
    permission,
    async subscribe(options = {}) {
      const support = isSupported();
      if (!support.supported) throw new HeraldError('unsupported', support.message);
      const push = safariPush();
      if (push) return subscribeSafari(push, options.userId);
      // Ask first, while the user's click still counts as a gesture.
      await askPermission();
      return ensure((await registration(true))!, options.userId, true);
    },
    async unsubscribe() {
      const stored = load();
      save({ userId: stored.userId });
      if (safariPush() || !isSupported().supported) return false;
      const subscription = await (await registration(false))?.pushManager.getSubscription();
      if (!subscription) return false;
      await subscription.unsubscribe();
      await call('DELETE', '/subscriptions', { endpoint: subscription.endpoint });
      return true;
    },
    async identify(userId) {
      const stored = load();
      save({ ...stored, userId });
      const push = safariPush();
      let result: IdentifyResult | null = null;
      if (push && stored.fp && permission() === 'granted') {
        await subscribeSafari(push, userId);
        if (lastSafariOwner) result = { userId: lastSafariOwner, changed: lastSafariOwner !== stored.userId };
      } else if (stored.endpoint) {
        const answer = await call('POST', '/identify', { endpoint: stored.endpoint, userId });
        // A host older than this SDK answers 204 with nothing to read.
        if (typeof answer?.userId === 'string')
          result = { userId: answer.userId, changed: answer.changed === true };
      }
      if (result && result.userId !== userId) {
        console.warn(
          `[herald] identify(${JSON.stringify(userId)}): the host kept this subscription for ${JSON.stringify(result.userId)}. ` +
            'It only accepts the user of its own session: pass resolveUser to heraldHttp (see the SDK README).',
        );
      }
      return result;
    },
    async track(name, properties) {
      const { userId, endpoint } = load();
      await call('POST', '/events', { userId, endpoint, name, properties });
    },
    sync,
    synced: Promise.resolve(null),
  };
  if (config.autoSync !== false) {
    (client as { synced: Promise<HeraldSubscription | null> }).synced = sync().catch((error: unknown) => {
      (config.onError ?? ((e: unknown) => console.warn('[herald]', e)))(error);
      return null;
    });
  }
  return client;
}
