import { z } from 'zod';
import { keyAliases } from '../errors/zod-issues.js';
import { HttpUrl, isHttpUrl, MAX_URL_LENGTH, templatedHttpUrl } from './common.js';

export const MAX_TITLE_LENGTH = 256;
export const MAX_BODY_LENGTH = 1024;
export const MAX_ACTIONS = 2;
export const MAX_ACTION_TITLE_LENGTH = 64;
export const MAX_TAG_LENGTH = 64;

export const NotificationAction = z
  .strictObject({
    id: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1-32 letters, digits, _ or -'),
    title: z.string().min(1).max(MAX_ACTION_TITLE_LENGTH),
    /** Where this button leads; defaults to the message's deeplink. */
    url: HttpUrl.optional(),
    icon: HttpUrl.optional(),
  })
  .register(keyAliases, { deeplink: 'url', link: 'url', href: 'url', label: 'title' });

/** RFC 8030 §5.4: a Topic header is at most 32 characters of the base64url alphabet. */
export const Topic = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be at most 32 base64url characters');
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
export const MessageContent = z
  .strictObject({
    title: z.string().min(1).max(MAX_TITLE_LENGTH),
    body: z.string().max(MAX_BODY_LENGTH).default(''),
    /** Where a click on the notification leads; http(s), or a template with a static http(s) prefix. */
    deeplink: templatedHttpUrl({ allowEmpty: false }),
    /** A default icon by name (`bell`, `cart`, …) or a custom http(s) URL. */
    icon: z
      .string()
      .max(MAX_URL_LENGTH)
      .refine((value) => (DEFAULT_ICONS as readonly string[]).includes(value) || isHttpUrl(value), {
        message: `one of ${DEFAULT_ICONS.join(', ')}, or an http(s) URL`,
      })
      .optional(),
    /** May be a template with a static http(s) prefix (an empty rendering leaves the image out). */
    image: templatedHttpUrl({ allowEmpty: true }).optional(),
    badge: HttpUrl.optional(),
    actions: z
      .array(NotificationAction)
      .max(MAX_ACTIONS, `at most ${MAX_ACTIONS} actions: browsers show no more buttons`)
      .default([]),
    /** How long the push service keeps the message for an offline browser. */
    ttlSeconds: z.number().int().min(0).max(MAX_TTL_SECONDS).default(86_400),
    requireInteraction: z.boolean().default(false),
    urgency: Urgency.default('normal'),
    /** Replaces an undelivered earlier message with the same topic (RFC 8030 §5.4). */
    topic: Topic.optional(),
    /** Notifications with the same tag replace each other on the device. */
    tag: z.string().max(MAX_TAG_LENGTH).optional(),
    renotify: z.boolean().default(false),
  })
  .register(keyAliases, {
    ttl: 'ttlSeconds',
    url: 'deeplink',
    link: 'deeplink',
    message: 'body',
    text: 'body',
  });
export type MessageContent = z.infer<typeof MessageContent>;
export type MessageContentInput = z.input<typeof MessageContent>;
