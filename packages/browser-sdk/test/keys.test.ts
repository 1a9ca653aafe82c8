import { describe, expect, it } from 'vitest';
import { base64UrlToBytes, bytesToBase64Url, sameKey } from '../src/keys.js';

// A real VAPID public key (uncompressed P-256 point, 65 bytes).
const VAPID = 'BEl62iUYgUivxIkv69yViEuiBIa-Ib9-SkvMeAtA3LFgDzkrxZJjSgSnfckjBJuBkr3qBUYIHBQFLXYp5Nksh8U';

describe('base64url keys', () => {
  it('decodes a VAPID key to its 65 bytes and back', () => {
    const bytes = base64UrlToBytes(VAPID);
    expect(bytes.length).toBe(65);
    expect(bytes[0]).toBe(4);
    expect(bytesToBase64Url(bytes)).toBe(VAPID);
    expect(bytesToBase64Url(bytes.buffer)).toBe(VAPID);
  });

  it('accepts padding and every length modulo 4', () => {
    for (let n = 0; n < 12; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 97 + 250) % 256);
      const encoded = bytesToBase64Url(bytes);
      expect(encoded).not.toMatch(/[+/=]/);
      expect([...base64UrlToBytes(encoded)]).toEqual([...bytes]);
      expect([...base64UrlToBytes(`${encoded}${'='.repeat((4 - (encoded.length % 4)) % 4)}`)]).toEqual([
        ...bytes,
      ]);
    }
  });

  it('compares a subscription key with the configured VAPID key', () => {
    const key = base64UrlToBytes(VAPID);
    expect(sameKey(key.slice().buffer, key)).toBe(true);
    const other = key.slice();
    other[64] = (other[64]! + 1) % 256;
    expect(sameKey(other.buffer, key)).toBe(false);
    expect(sameKey(key.slice(0, 64).buffer, key)).toBe(false);
    expect(sameKey(null, key)).toBe(false);
    expect(sameKey(undefined, key)).toBe(false);
  });
});
