import { MAX_PAYLOAD_BYTES } from '../../delivery/webpush-request.js';
import type { MessageContent } from '../../model/index.js';
import { DECLARATIVE_WEB_PUSH, type HeraldPayload } from '../../payload/index.js';
import type { RenderedMessage } from './render.js';

export interface PayloadContext {
  campaignId: string;
  occurrence: string;
  userId: string;
  token: string;
  expiresAt: Date;
  reportUrl?: string;
}

export interface FittedPayload {
  payload: HeraldPayload;
  /** The payload as sent: its JSON. */
  json: string;
  /** UTF-8 bytes of the payload's JSON. */
  bytes: number;
  /** Fields cut to fit the limit (body first, then title). */
  truncated: Array<'title' | 'body'>;
  /** Still over the limit after cutting title and body to their minimum (the provider refuses it). */
  tooLarge: boolean;
}

/**
 * The JSON of the Declarative Web Push message for one recipient: what
 * Safari 18.4+ shows by itself, plus Herald's fields for its own service
 * worker. Cut to fit one Web Push record (see `fitPayload`).
 */
export function payloadJson(
  content: MessageContent,
  message: RenderedMessage,
  context: PayloadContext,
): string {
  return fitPayload(content, message, context).json;
}

/**
 * Builds the payload and, when its JSON is over `limit` bytes (3993, what
 * one RFC 8291 record holds), shortens the body and then the title, on
 * grapheme boundaries (Intl.Segmenter: an emoji, a flag or a letter with
 * its accents is never split), ending the cut text with "…". The longest
 * prefix that fits is found by bisection on the serialised size, since JSON
 * escaping makes bytes per grapheme vary.
 */
export function fitPayload(
  content: MessageContent,
  message: RenderedMessage,
  context: PayloadContext,
  limit = MAX_PAYLOAD_BYTES,
): FittedPayload {
  const build = (title: string, body: string) => assemble(content, { ...message, title, body }, context);
  const size = (payload: HeraldPayload) => Buffer.byteLength(JSON.stringify(payload), 'utf8');

  let payload = assemble(content, message, context);
  const first = JSON.stringify(payload);
  // Every message is sized; nearly all fit, so that JSON is the one sent.
  const firstBytes = Buffer.byteLength(first, 'utf8');
  if (firstBytes <= limit) return { payload, json: first, bytes: firstBytes, truncated: [], tooLarge: false };

  const truncated: Array<'title' | 'body'> = [];
  let title = message.title;
  let body = message.body;
  if (body !== '') {
    body = longestFitting(body, 0, (cut) => size(build(title, cut)) <= limit);
    truncated.push('body');
  }
  payload = build(title, body);
  if (size(payload) > limit) {
    // A title keeps at least one grapheme: an empty title is not a notification.
    title = longestFitting(title, 1, (cut) => size(build(cut, body)) <= limit);
    truncated.push('title');
    payload = build(title, body);
  }
  const json = JSON.stringify(payload);
  const bytes = Buffer.byteLength(json, 'utf8');
  return { payload, json, bytes, truncated, tooLarge: bytes > limit };
}

const ELLIPSIS = '…';

/**
 * The longest grapheme prefix of `text` (plus an ellipsis) that `fits`,
 * never shorter than `min` graphemes. With min 0 and nothing fitting, ''.
 */
export function longestFitting(text: string, min: number, fits: (cut: string) => boolean): string {
  const graphemes = splitGraphemes(text);
  const cutAt = (n: number) => (n === 0 ? '' : graphemes.slice(0, n).join('') + ELLIPSIS);
  let lo = min;
  let hi = graphemes.length - 1;
  if (lo > hi) return text;
  if (!fits(cutAt(lo))) return cutAt(lo);
  // Invariant: cutAt(lo) fits; find the largest such lo.
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(cutAt(mid))) lo = mid;
    else hi = mid - 1;
  }
  return cutAt(lo);
}

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

export function splitGraphemes(text: string): string[] {
  return Array.from(segmenter.segment(text), (s) => s.segment);
}

function assemble(content: MessageContent, message: RenderedMessage, context: PayloadContext): HeraldPayload {
  return {
    web_push: DECLARATIVE_WEB_PUSH,
    notification: {
      title: message.title,
      ...(message.body ? { body: message.body } : {}),
      navigate: message.deeplink,
      ...(content.tag ? { tag: content.tag } : {}),
      ...(content.requireInteraction ? { require_interaction: true } : {}),
      ...(message.actions.length > 0
        ? {
            actions: message.actions.map((action) => ({
              action: action.id,
              title: action.title,
              navigate: action.url,
              ...(action.icon ? { icon: action.icon } : {}),
            })),
          }
        : {}),
    },
    herald: {
      v: 1,
      campaignId: context.campaignId,
      occurrence: context.occurrence,
      userId: context.userId,
      token: context.token,
      expiresAt: context.expiresAt.getTime(),
      ...(message.icon ? { icon: message.icon } : {}),
      ...(message.image ? { image: message.image } : {}),
      ...(message.badge ? { badge: message.badge } : {}),
      ...(content.renotify ? { renotify: true } : {}),
      ...(context.reportUrl ? { reportUrl: context.reportUrl } : {}),
    },
  };
}
