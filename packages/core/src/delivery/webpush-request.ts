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
  const headers: Record<string, string> = {
    TTL: String(Math.max(0, Math.floor(input.ttlSeconds))),
    Urgency: input.urgency,
    'Content-Encoding': 'aes128gcm',
    'Content-Type': 'application/octet-stream',
    Authorization: input.authorization,
  };
  if (input.topic !== undefined) headers.Topic = input.topic;
  return { url: input.endpoint, method: 'POST', headers, body: cipherText };
}
