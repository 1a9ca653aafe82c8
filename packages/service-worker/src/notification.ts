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
  const { notification, herald } = payload;
  const actions: Record<string, string> = {};
  for (const action of notification.actions ?? []) actions[action.action] = action.navigate;
  const options: HeraldNotificationOptions = {
    data: {
      herald: {
        v: 1,
        campaignId: herald.campaignId,
        occurrence: herald.occurrence,
        userId: herald.userId,
        token: herald.token,
        reportUrl,
        navigate: notification.navigate,
        actions,
      },
    },
  };
  if (notification.body !== undefined) options.body = notification.body;
  if (herald.icon) options.icon = herald.icon;
  if (herald.image) options.image = herald.image;
  if (herald.badge) options.badge = herald.badge;
  if (notification.lang) options.lang = notification.lang;
  if (notification.dir) options.dir = notification.dir;
  if (notification.silent !== undefined) options.silent = notification.silent;
  if (notification.require_interaction !== undefined)
    options.requireInteraction = notification.require_interaction;
  if (notification.tag) {
    options.tag = notification.tag;
    // Browsers throw a TypeError for `renotify` without a tag.
    if (herald.renotify !== undefined) options.renotify = herald.renotify;
  }
  if (notification.actions?.length) {
    options.actions = notification.actions.map((action) =>
      action.icon
        ? { action: action.action, title: action.title, icon: action.icon }
        : { action: action.action, title: action.title },
    );
  }
  return { title: notification.title, options };
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
