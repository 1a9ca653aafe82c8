import { z } from 'zod';
import { HttpUrl } from './common.js';

/** RFC 8030 §5.4: a Topic header is at most 32 characters of the base64url alphabet. */
export const Topic = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be at most 32 base64url characters');

export const NotificationAction = z.object({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1-32 letters, digits, _ or -'),
  title: z.string().min(1).max(64),
  /** Where this button leads; defaults to the message's deeplink. */
  url: HttpUrl.optional(),
  icon: HttpUrl.optional(),
});
export type NotificationAction = z.infer<typeof NotificationAction>;

export const Urgency = z.enum(['very-low', 'low', 'normal', 'high']);
export type Urgency = z.infer<typeof Urgency>;

/**
 * Icons shipped with the example app (examples/express/public/icons/<name>.png)
 * and selectable by name; createHerald's `iconBaseUrl` says where they are served.
 */
export const DEFAULT_ICONS = ['bell', 'cart', 'gift', 'tag', 'star', 'heart', 'info', 'alert'] as const;
export const DefaultIcon = z.enum(DEFAULT_ICONS);
export type DefaultIcon = z.infer<typeof DefaultIcon>;

/** Four weeks: the longest TTL the major push services keep a message. */
export const MAX_TTL_SECONDS = 2_419_200;

/** What the notification says and does. Title, body, deeplink and image may be Liquid templates. */
export const MessageContent = z.object({
  title: z.string().min(1).max(256),
  body: z.string().max(1024).default(''),
  /** Where a click on the notification leads; must render to an http(s) URL. */
  deeplink: z.string().min(1).max(2048),
  /** A default icon by name (`bell`, `cart`, …) or a custom http(s) URL. */
  icon: z.union([DefaultIcon, HttpUrl]).optional(),
  /** May be a template; must render to an http(s) URL (an empty rendering leaves the image out). */
  image: z.string().max(2048).optional(),
  badge: HttpUrl.optional(),
  actions: z.array(NotificationAction).max(2, 'browsers show at most 2 action buttons').default([]),
  /** How long the push service keeps the message for an offline browser. */
  ttlSeconds: z.number().int().min(0).max(MAX_TTL_SECONDS).default(86_400),
  requireInteraction: z.boolean().default(false),
  urgency: Urgency.default('normal'),
  /** Replaces an undelivered earlier message with the same topic (RFC 8030 §5.4). */
  topic: Topic.optional(),
  /** Notifications with the same tag replace each other on the device. */
  tag: z.string().max(64).optional(),
  renotify: z.boolean().default(false),
});
export type MessageContent = z.infer<typeof MessageContent>;
export type MessageContentInput = z.input<typeof MessageContent>;
