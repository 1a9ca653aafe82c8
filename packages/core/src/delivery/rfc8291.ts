import { createCipheriv, createECDH, createHmac, type ECDH, randomFillSync } from 'node:crypto';

/**
 * RFC 8291 message encryption for Web Push, aes128gcm content coding
 * (RFC 8188) in one record, on node:crypto directly.
 *
 * It writes exactly what web-push's `encrypt` (through http_ece) writes: a
 * fresh P-256 sender key pair and a fresh 16-byte salt per message, a
 * 4096-byte record size, the sender's public key as key id, the plaintext
 * followed by the 0x02 last-record delimiter and no padding. What it leaves
 * out is their per-message overhead, about 30 µs of CPU beside the
 * ~190 µs of the ECDH itself (bench/README.md, "Where a message's CPU goes"): the
 * sender's public key exported twice, the salt round-tripped through
 * base64url, two HKDF extracts where RFC 8291's key schedule needs one per
 * secret, and a Buffer.concat per step. Each message's buffers are few, as
 * their allocation and collection cost a delivery worker as much CPU as the
 * work done in them: the plaintext is written and encrypted in place in the
 * body, the salt is drawn from a block of random bytes, and the key info is
 * built in one buffer per thread.
 */

/** aes128gcm record size written in the header: every push service accepts 4096-byte bodies. */
const RECORD_SIZE = 4096;
const SALT_BYTES = 16;
const KEY_ID_BYTES = 65;
/** salt (16) + record size (4) + key id length (1) + key id (65). */
const HEADER_BYTES = SALT_BYTES + 4 + 1 + KEY_ID_BYTES;
/** The last-record delimiter (RFC 8188 §2) and the AES-GCM tag. */
const RECORD_OVERHEAD = 1 + 16;
/** The most one record holds: what a longer plaintext would need more records for. */
const MAX_RECORD_PLAINTEXT = RECORD_SIZE - RECORD_OVERHEAD;

const WEB_PUSH_INFO = Buffer.from('WebPush: info\0');
// HKDF-Expand's first block is HMAC(prk, info || 0x01); every output here fits one block.
const KEY_INFO = Buffer.from('Content-Encoding: aes128gcm\0\x01');
const NONCE_INFO = Buffer.from('Content-Encoding: nonce\0\x01');
/** The last-record delimiter byte (RFC 8188 §2). */
const LAST_RECORD = 2;

const hmac = (key: Uint8Array, data: Uint8Array): Buffer => createHmac('sha256', key).update(data).digest();

/**
 * One ECDH object per thread, made on first use: setting one up for P-256
 * costs about 20 µs of CPU (a tenth of the ECDH work a message needs,
 * measured beside a fresh object per message), and `generateKeys` on it
 * makes a new key pair each call. Encryption is synchronous, so no other
 * message on this thread can use it between generating the keys and
 * computing the secret.
 */
let threadEcdh: ECDH | undefined;
const senderEcdh = (): ECDH => {
  threadEcdh ??= createECDH('prime256v1');
  return threadEcdh;
};

/**
 * Salts come from a block of random bytes filled at once: a randomBytes(16) call per message costs
 * about as much CPU as the rest of the body's assembly. Each salt is used once; they are public
 * (written in the body's header) and come from the same CSPRNG either way.
 */
const SALT_BLOCK = SALT_BYTES * 256;
let saltBlock: Buffer | undefined;
let saltAt = SALT_BLOCK;
const writeSalt = (body: Buffer): void => {
  if (saltAt === SALT_BLOCK) {
    saltBlock ??= Buffer.allocUnsafeSlow(SALT_BLOCK);
    randomFillSync(saltBlock);
    saltAt = 0;
  }
  (saltBlock as Buffer).copy(body, 0, saltAt, saltAt + SALT_BYTES);
  saltAt += SALT_BYTES;
};

/**
 * RFC 8291's key info, "WebPush: info" 0 ua_public as_public 0x01, in one buffer per thread:
 * encryption is synchronous, so it is rewritten and read by one message at a time.
 */
let threadKeyInfo: Buffer | undefined;
const keyInfoFor = (receiver: Buffer, sender: Buffer): Buffer => {
  if (!threadKeyInfo) {
    threadKeyInfo = Buffer.allocUnsafeSlow(WEB_PUSH_INFO.length + 2 * KEY_ID_BYTES + 1);
    WEB_PUSH_INFO.copy(threadKeyInfo, 0);
    threadKeyInfo[threadKeyInfo.length - 1] = 1;
  }
  receiver.copy(threadKeyInfo, WEB_PUSH_INFO.length);
  sender.copy(threadKeyInfo, WEB_PUSH_INFO.length + KEY_ID_BYTES);
  return threadKeyInfo;
};

/** The subscription's keys as bytes, checked as web-push checks them (same messages). */
function subscriptionKeys(p256dh: string, auth: string): { receiver: Buffer; authSecret: Buffer } {
  if (!p256dh) throw new Error('No user public key provided for encryption.');
  if (typeof p256dh !== 'string') throw new Error('The subscription p256dh value must be a string.');
  const receiver = Buffer.from(p256dh, 'base64url');
  if (receiver.length !== KEY_ID_BYTES)
    throw new Error('The subscription p256dh value should be 65 bytes long.');
  if (!auth) throw new Error('No user auth provided for encryption.');
  if (typeof auth !== 'string') throw new Error('The subscription auth key must be a string.');
  const authSecret = Buffer.from(auth, 'base64url');
  if (authSecret.length < 16) throw new Error('The subscription auth key should be at least 16 bytes long');
  return { receiver, authSecret };
}

/**
 * The aes128gcm body of `plaintext` (bytes, or text written as UTF-8) for a
 * subscription's `p256dh` and `auth` (base64url). Throws on unusable keys
 * (as web-push does) and on a plaintext longer than one record.
 */
export function encryptAes128gcm(
  keys: { p256dh: string; auth: string },
  plaintext: Uint8Array | string,
): Buffer {
  const { receiver, authSecret } = subscriptionKeys(keys.p256dh, keys.auth);
  const length = typeof plaintext === 'string' ? Buffer.byteLength(plaintext, 'utf8') : plaintext.byteLength;
  if (length > MAX_RECORD_PLAINTEXT) {
    throw new Error(`a Web Push payload holds at most ${MAX_RECORD_PLAINTEXT} bytes in one record`);
  }
  const sender = senderEcdh();
  // A fresh key pair for every message, as RFC 8291 asks: generateKeys replaces the previous one.
  const senderKey = sender.generateKeys();
  // Throws for a point not on the curve: the subscription's key is unusable.
  const shared = sender.computeSecret(receiver);

  // Header: salt, record size, key id length, key id (the sender's public key).
  const body = Buffer.allocUnsafe(HEADER_BYTES + length + RECORD_OVERHEAD);
  writeSalt(body);
  body.writeUInt32BE(RECORD_SIZE, SALT_BYTES);
  body[SALT_BYTES + 4] = KEY_ID_BYTES;
  senderKey.copy(body, SALT_BYTES + 5);

  // RFC 8291 §3.3-3.4: IKM = HKDF(auth, ecdh, "WebPush: info" 0 ua_public as_public, 32).
  const ikm = hmac(hmac(authSecret, shared), keyInfoFor(receiver, senderKey));
  // RFC 8188 §2.2: PRK = HKDF-Extract(salt, IKM); CEK and nonce are the first 16 and 12 bytes of their expansions.
  const prk = hmac(body.subarray(0, SALT_BYTES), ikm);
  const contentKey = hmac(prk, KEY_INFO).subarray(0, 16);
  const nonce = hmac(prk, NONCE_INFO).subarray(0, 12);

  // The record: the plaintext and its delimiter, written where they go and encrypted there.
  const recordEnd = HEADER_BYTES + length + 1;
  if (typeof plaintext === 'string') body.write(plaintext, HEADER_BYTES, 'utf8');
  else body.set(plaintext, HEADER_BYTES);
  body[recordEnd - 1] = LAST_RECORD;
  const cipher = createCipheriv('aes-128-gcm', contentKey, nonce);
  let at = HEADER_BYTES;
  at += cipher.update(body.subarray(HEADER_BYTES, recordEnd)).copy(body, at);
  at += cipher.final().copy(body, at);
  cipher.getAuthTag().copy(body, at);
  return body;
}
