/**
 * The push payload Herald sends: a Declarative Web Push message (WebKit's
 * `web_push: 8030` format, shown by Safari 18.4+ without a service worker)
 * with Herald's own fields under `herald`, which Herald's service worker
 * reads and other consumers ignore.
 *
 * Written with `zod/mini` so the service worker can import this one schema
 * without pulling the whole of zod into its bundle.
 */
import * as z from 'zod/mini';

export const DECLARATIVE_WEB_PUSH = 8030;

const httpUrl = z
  .string()
  .check(z.refine((value) => /^https?:\/\//i.test(value), { message: 'must be an http(s) URL' }));

export const PayloadAction = z.object({
  action: z.string().check(z.minLength(1), z.maxLength(64)),
  title: z.string().check(z.minLength(1), z.maxLength(64)),
  navigate: httpUrl,
  icon: z.optional(httpUrl),
});
export type PayloadAction = z.infer<typeof PayloadAction>;

export const PayloadNotification = z.object({
  title: z.string().check(z.minLength(1)),
  body: z.optional(z.string()),
  navigate: httpUrl,
  lang: z.optional(z.string()),
  dir: z.optional(z.enum(['auto', 'ltr', 'rtl'])),
  tag: z.optional(z.string()),
  silent: z.optional(z.boolean()),
  require_interaction: z.optional(z.boolean()),
  actions: z.optional(z.array(PayloadAction)),
});
export type PayloadNotification = z.infer<typeof PayloadNotification>;

/** Herald's extra fields: reporting ids, the signed report token, and what Declarative Web Push lacks. */
export const HeraldPayloadFields = z.object({
  v: z.literal(1),
  /** Campaign id. */
  campaignId: z.string(),
  /** Occurrence of the campaign this message belongs to (an ISO instant or a trigger id). */
  occurrence: z.string(),
  userId: z.string(),
  /** Signed token the service worker sends back with each report. */
  token: z.string(),
  /** Epoch milliseconds after which the message must not be shown (its TTL). */
  expiresAt: z.number(),
  icon: z.optional(httpUrl),
  image: z.optional(httpUrl),
  badge: z.optional(httpUrl),
  renotify: z.optional(z.boolean()),
  /** Where the service worker posts viewed / clicked / closed reports. */
  reportUrl: z.optional(httpUrl),
});
export type HeraldPayloadFields = z.infer<typeof HeraldPayloadFields>;

export const HeraldPayload = z.object({
  web_push: z.literal(DECLARATIVE_WEB_PUSH),
  notification: PayloadNotification,
  herald: HeraldPayloadFields,
});
export type HeraldPayload = z.infer<typeof HeraldPayload>;

/** Parses a push message's JSON; returns null when it is not a Herald payload. */
export function parseHeraldPayload(json: unknown): HeraldPayload | null {
  const result = HeraldPayload.safeParse(json);
  return result.success ? result.data : null;
}

/** The kinds of report the service worker sends back. */
export const ReportKind = z.enum(['viewed', 'clicked', 'closed']);
export type ReportKind = z.infer<typeof ReportKind>;

export const ReportBody = z.object({
  kind: ReportKind,
  token: z.string().check(z.minLength(1)),
  /** Action button id for a click on an action; absent for a click on the body. */
  action: z.optional(z.string()),
  /** Unique per report, so a retried report is counted once. */
  reportId: z.string().check(z.minLength(8), z.maxLength(64)),
  /** Epoch milliseconds when the browser saw it. */
  at: z.optional(z.number()),
});
export type ReportBody = z.infer<typeof ReportBody>;
