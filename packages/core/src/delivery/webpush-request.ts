import { PayloadTooLargeError } from '../errors/index.js';
import type { Urgency } from '../model/index.js';
import type { TransportRequest } from './http-transport.js';
import { encryptAes128gcm } from './rfc8291.js';

/**
 * The largest plaintext that fits one RFC 8291 record in the 4096 bytes
 * every push service must accept: 4096 - 86 (salt, record size, sender key)
 * - 16 (AES-GCM tag) - 1 (padding delimiter).
 */
export const MAX_PAYLOAD_BYTES = 3993;

export interface WebPushRequestInput {
  endpoint: URL;
  keys: { p256dh: string; auth: string };
  /** Plaintext, usually JSON. */
  payload: string;
  ttlSeconds: number;
  urgency: Urgency;
  topic?: string;
  /** The VAPID `Authorization` header value for the endpoint's origin. */
  authorization: string;
  /** Only to name the campaign when the payload is too large. */
  campaignId?: string;
}

/**
 * Builds the HTTP request for one Web Push message, no I/O (like web-push's
 * `generateRequestDetails`): the body is RFC 8291 aes128gcm, as web-push
 * encrypts it (rfc8291.ts), with a fresh sender key pair and salt per message.
 * Throws PayloadTooLargeError before encrypting anything over the limit.
 */
export function buildWebPushRequest(input: WebPushRequestInput): TransportRequest {
  return webPushRequestWithBody(
    input,
    encryptAes128gcm(input.keys, checkedPlaintext(input.payload, input.campaignId)),
  );
}

/** The payload as bytes; throws PayloadTooLargeError, naming the campaign, over MAX_PAYLOAD_BYTES. */
export function checkedPlaintext(payload: string, campaignId: string | undefined): Buffer {
  checkPayloadSize(payload, campaignId);
  return Buffer.from(payload, 'utf8');
}

/**
 * Throws PayloadTooLargeError, naming the campaign, when the payload's UTF-8 is over
 * MAX_PAYLOAD_BYTES. Counts without making the bytes: a delivery worker encodes them itself.
 */
export function checkPayloadSize(payload: string, campaignId: string | undefined): void {
  const bytes = Buffer.byteLength(payload, 'utf8');
  if (bytes > MAX_PAYLOAD_BYTES)
    throw new PayloadTooLargeError(campaignId ?? '(unnamed)', bytes, MAX_PAYLOAD_BYTES);
}

/** The request around a body already encrypted (by an encryption pool's worker). */
export function webPushRequestWithBody(input: WebPushRequestInput, cipherText: Uint8Array): TransportRequest {
  return { url: input.endpoint, method: 'POST', headers: webPushHeaders(input), body: cipherText };
}

type HeaderInput = Pick<WebPushRequestInput, 'ttlSeconds' | 'urgency' | 'topic' | 'authorization'>;

/** A Web Push request's headers: RFC 8030 TTL, Urgency and Topic, RFC 8291's coding, RFC 8292's Authorization. */
export function webPushHeaders(input: HeaderInput): Record<string, string> {
  const headers: Record<string, string> = {
    TTL: String(Math.max(0, Math.floor(input.ttlSeconds))),
    Urgency: input.urgency,
    'Content-Encoding': 'aes128gcm',
    'Content-Type': 'application/octet-stream',
    Authorization: input.authorization,
  };
  if (input.topic !== undefined) headers.Topic = input.topic;
  return headers;
}

/** Authorizations remembered at most (a signer has one per push-service origin at a time). */
const SHARED_AUTHORIZATIONS = 64;
/** TTL, Urgency and Topic combinations remembered at most per Authorization. */
const SHARED_VARIANTS = 256;

/**
 * `webPushHeaders`, one object for all the messages with the same headers
 * (frozen: they are shared). A campaign's messages to one push service have
 * the same, and a delivery pool sends each distinct headers object once per
 * batch to its worker rather than once per message. Bounded: past its
 * limits it forgets what it has and starts again.
 */
export function sharedWebPushHeaders(): (input: HeaderInput) => Readonly<Record<string, string>> {
  // By Authorization first: the signer hands out the same string until it signs again, so its hash is computed once.
  const byAuthorization = new Map<string, Map<string, Readonly<Record<string, string>>>>();
  return (input) => {
    let variants = byAuthorization.get(input.authorization);
    if (!variants) {
      if (byAuthorization.size >= SHARED_AUTHORIZATIONS) byAuthorization.clear();
      variants = new Map();
      byAuthorization.set(input.authorization, variants);
    }
    const key = `${input.ttlSeconds} ${input.urgency} ${input.topic ?? ''}`;
    let headers = variants.get(key);
    if (!headers) {
      if (variants.size >= SHARED_VARIANTS) variants.clear();
      headers = Object.freeze(webPushHeaders(input));
      variants.set(key, headers);
    }
    return headers;
  };
}
