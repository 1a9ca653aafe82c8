import type { Target } from '../model/index.js';
import type { HeraldPayload } from '../payload/index.js';

/**
 * Safari's legacy website push (APNs, before Safari 16) shows a title, a
 * body and opens one URL built from `url-args`. Everything else in a Herald
 * payload has no place there. This module says what is lost, once, for the
 * provider (which builds the APNs payload) and for the campaign preview
 * (which warns the marketer before anything is sent).
 */
export type SafariDroppedField = 'icon' | 'image' | 'badge' | 'actions' | 'deeplink-query';

export interface SafariAdaptation {
  title: string;
  body: string;
  /** The deeplink as the notification opens it (the website push's urlFormatString fills in the rest). */
  deeplink: string;
  /** `aps.url-args`: the deeplink's path segments, decoded. */
  urlArgs: string[];
  /** What the Safari notification will not show, in a stable order. */
  dropped: SafariDroppedField[];
  /** One sentence per dropped field, for the preview. */
  warnings: string[];
}

const WARNINGS: Record<SafariDroppedField, string> = {
  icon: 'Safari (legacy website push) shows the icon from the push package, not a custom icon.',
  image: 'Safari (legacy website push) cannot show an image; it is left out.',
  badge: 'Safari (legacy website push) has no badge; it is left out.',
  actions: 'Safari (legacy website push) has no action buttons; a click opens the deeplink.',
  'deeplink-query':
    "Safari (legacy website push) opens the push package's urlFormatString filled with the deeplink's path segments; its query string and fragment are lost.",
};

/** The parts of a message this adaptation reads: a built payload, or the campaign content for a preview. */
export interface SafariAdaptable {
  title: string;
  body?: string;
  deeplink: string;
  icon?: string;
  image?: string;
  badge?: string;
  actions?: readonly unknown[];
}

/** Pure: what Safari's legacy website push makes of a message. */
export function adaptForSafari(message: SafariAdaptable | HeraldPayload): SafariAdaptation {
  const input = 'web_push' in message ? fromPayload(message) : message;
  const dropped: SafariDroppedField[] = [];
  if (input.icon) dropped.push('icon');
  if (input.image) dropped.push('image');
  if (input.badge) dropped.push('badge');
  if (input.actions && input.actions.length > 0) dropped.push('actions');
  const { urlArgs, lostQuery } = urlArgsOf(input.deeplink);
  if (lostQuery) dropped.push('deeplink-query');
  return {
    title: input.title,
    body: input.body ?? '',
    deeplink: input.deeplink,
    urlArgs,
    dropped,
    warnings: dropped.map((field) => WARNINGS[field]),
  };
}

/**
 * `aps.url-args` for a deeplink: its path segments, percent-decoded, in
 * order (`https://shop.example/sale/shoes` → `["sale", "shoes"]`; the root
 * → `[]`). Safari puts them in place of the `%@` of the push package's
 * `urlFormatString` (e.g. `https://shop.example/%@/%@`), so the format
 * string must have as many placeholders as the deeplinks have segments.
 * A template that is not a full URL yet (preview of `{{ user.x }}`) gives
 * no arguments.
 */
export function urlArgsOf(deeplink: string): { urlArgs: string[]; lostQuery: boolean } {
  let url: URL;
  try {
    url = new URL(deeplink);
  } catch {
    return { urlArgs: [], lostQuery: false };
  }
  const urlArgs = url.pathname
    .split('/')
    .filter((segment) => segment !== '')
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        return segment;
      }
    });
  return { urlArgs, lostQuery: url.search !== '' || url.hash !== '' };
}

function fromPayload(payload: HeraldPayload): SafariAdaptable {
  const { notification, herald } = payload;
  return {
    title: notification.title,
    ...(notification.body !== undefined ? { body: notification.body } : {}),
    deeplink: notification.navigate,
    ...(herald.icon ? { icon: herald.icon } : {}),
    ...(herald.image ? { image: herald.image } : {}),
    ...(herald.badge ? { badge: herald.badge } : {}),
    ...(notification.actions ? { actions: notification.actions } : {}),
  };
}

/**
 * What a target can report back, for stats. Legacy Safari runs no service
 * worker, so nothing reports a notification as viewed, clicked or closed:
 * its recipients are "not applicable" in those figures, never zero.
 */
export interface TargetReporting {
  viewed: boolean;
  clicked: boolean;
  closed: boolean;
}

export const TARGET_REPORTING: Readonly<Record<Target, TargetReporting>> = {
  webpush: { viewed: true, clicked: true, closed: true },
  safari: { viewed: false, clicked: false, closed: false },
};
