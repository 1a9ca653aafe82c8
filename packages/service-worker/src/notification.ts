import type { HeraldPayload } from '@herald/core/payload';

/** What Herald keeps in `notification.data`, so click and close handlers can report and navigate. */
export interface HeraldNotificationData {
  herald: {
    v: 1;
    campaignId: string;
    occurrence: string;
    userId: string;
    token: string;
    reportUrl: string;
    /** Where a click on the body goes. */
    navigate: string;
    /** Where each action button goes, by action id. */
    actions: Record<string, string>;
  };
}

export interface HeraldNotificationAction {
  action: string;
  title: string;
  icon?: string;
}

/** NotificationOptions with the fields TypeScript's DOM lib leaves out but browsers support. */
export interface HeraldNotificationOptions extends NotificationOptions {
  actions?: HeraldNotificationAction[];
  image?: string;
  renotify?: boolean;
  timestamp?: number;
  data: HeraldNotificationData;
}

/** Maps Herald's payload (Declarative Web Push + `herald`) to `showNotification`'s arguments. */
export function toNotification(
  payload: HeraldPayload,
  reportUrl: string,
): { title: string; options: HeraldNotificationOptions } {
  const { notification: n, herald: h } = payload;
  const actions: Record<string, string> = {};
  for (const action of n.actions ?? []) actions[action.action] = action.navigate;
  const options: HeraldNotificationOptions = {
    data: {
      herald: {
        v: 1,
        campaignId: h.campaignId,
        occurrence: h.occurrence,
        userId: h.userId,
        token: h.token,
        reportUrl,
        navigate: n.navigate,
        actions,
      },
    },
  };
  if (n.body !== undefined) options.body = n.body;
  if (h.icon) options.icon = h.icon;
  if (h.image) options.image = h.image;
  if (h.badge) options.badge = h.badge;
  if (n.lang) options.lang = n.lang;
  if (n.dir) options.dir = n.dir;
  if (n.silent !== undefined) options.silent = n.silent;
  if (n.require_interaction !== undefined) options.requireInteraction = n.require_interaction;
  if (n.tag) {
    options.tag = n.tag;
    // Browsers throw a TypeError for `renotify` without a tag.
    if (h.renotify !== undefined) options.renotify = h.renotify;
  }
  if (n.actions?.length) {
    options.actions = n.actions.map((a) =>
      a.icon ? { action: a.action, title: a.title, icon: a.icon } : { action: a.action, title: a.title },
    );
  }
  return { title: n.title, options };
}

/** True when `data` is what Herald put on one of its own notifications. */
export function isHeraldNotificationData(data: unknown): data is HeraldNotificationData {
  const herald = (data as { herald?: { v?: unknown; token?: unknown } } | null | undefined)?.herald;
  return typeof herald === 'object' && herald !== null && herald.v === 1 && typeof herald.token === 'string';
}

/** The URL a click opens: the action button's own URL, else the notification's deeplink. */
export function clickTarget(data: HeraldNotificationData, action: string): string {
  return (action && data.herald.actions[action]) || data.herald.navigate;
}

/** A message whose `expiresAt` has passed must not be shown (its TTL ran out on the way). */
export function isExpired(payload: HeraldPayload, now: number): boolean {
  return payload.herald.expiresAt <= now;
}
