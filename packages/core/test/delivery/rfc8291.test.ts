import { createECDH, randomBytes } from 'node:crypto';
import ece from 'http_ece';
import { describe, expect, it } from 'vitest';
import webPushLib from 'web-push';
import { encryptAes128gcm } from '../../src/delivery/rfc8291.js';

function subscriber(authBytes = 16) {
  const keys = createECDH('prime256v1');
  keys.generateKeys();
  const auth = randomBytes(authBytes);
  return { keys, auth, json: { p256dh: keys.getPublicKey('base64url'), auth: auth.toString('base64url') } };
}

const decrypt = (body: Uint8Array, sub: ReturnType<typeof subscriber>) =>
  ece.decrypt(Buffer.from(body), { version: 'aes128gcm', privateKey: sub.keys, authSecret: sub.auth });

describe('encryptAes128gcm', () => {
  it('writes what http_ece decrypts, for payloads from empty to one full record, and longer auth secrets', () => {
    for (const [size, authBytes] of [
      [0, 16],
      [1, 16],
      [450, 16],
      [3993, 16],
      [4079, 16],
      [200, 32],
    ] as const) {
      const sub = subscriber(authBytes);
      const plaintext = randomBytes(size);
      expect(decrypt(encryptAes128gcm(sub.json, plaintext), sub).equals(plaintext)).toBe(true);
    }
  });

  it('has the layout of web-push`s own body: same length, record size 4096, the sender key as key id', () => {
    const sub = subscriber();
    const plaintext = Buffer.from('{"title":"Spring sale"}');
    const ours = encryptAes128gcm(sub.json, plaintext);
    const theirs = webPushLib.encrypt(sub.json.p256dh, sub.json.auth, plaintext, 'aes128gcm').cipherText;
    expect(ours.length).toBe(theirs.length);
    expect(ours.readUInt32BE(16)).toBe(4096);
    expect(ours[20]).toBe(65);
    // The key id is an uncompressed P-256 point, fresh per message (as is the salt).
    expect(ours[21]).toBe(4);
    const again = encryptAes128gcm(sub.json, plaintext);
    expect(again.subarray(0, 16).equals(ours.subarray(0, 16))).toBe(false);
    expect(again.subarray(21, 86).equals(ours.subarray(21, 86))).toBe(false);
  });

  it('encrypts text as its UTF-8 bytes, and draws a different salt for each of more messages than one block of salts holds', () => {
    const sub = subscriber();
    const text = '{"title":"Soldes d’été","body":"ü é 🎉"}';
    expect(decrypt(encryptAes128gcm(sub.json, text), sub).toString('utf8')).toBe(text);
    const salts = new Set(
      Array.from({ length: 300 }, () => encryptAes128gcm(sub.json, 'x').subarray(0, 16).toString('hex')),
    );
    expect(salts.size).toBe(300);
    // Text longer than one record, counted in bytes: 2,040 two-byte characters are 4,080 bytes.
    expect(() => encryptAes128gcm(sub.json, 'é'.repeat(2040))).toThrow(/at most 4079 bytes/);
  });

  it('refuses unusable keys with web-push`s messages, and a plaintext longer than one record', () => {
    const sub = subscriber();
    expect(() => encryptAes128gcm({ ...sub.json, p256dh: 'AAAA' }, Buffer.from('x'))).toThrow(/65 bytes/);
    expect(() => encryptAes128gcm({ ...sub.json, auth: 'AAAA' }, Buffer.from('x'))).toThrow(
      /at least 16 bytes/,
    );
    expect(() => encryptAes128gcm({ ...sub.json, p256dh: '' }, Buffer.from('x'))).toThrow(/public key/);
    // 65 bytes, but not a point on the curve.
    const offCurve = Buffer.alloc(65, 1);
    offCurve[0] = 4;
    expect(() =>
      encryptAes128gcm({ ...sub.json, p256dh: offCurve.toString('base64url') }, Buffer.from('x')),
    ).toThrow();
    expect(() => encryptAes128gcm(sub.json, Buffer.alloc(4080))).toThrow(/at most 4079 bytes/);
    // The thread's one ECDH object is still good after a key it could not agree with.
    const plaintext = Buffer.from('after a refused key');
    expect(decrypt(encryptAes128gcm(sub.json, plaintext), sub).equals(plaintext)).toBe(true);
  });
});
