import { describe, expect, it } from 'vitest';
import { reportTokens } from '../../src/engine/observe/index.js';
import { ConfigError } from '../../src/errors/index.js';

const now = new Date('2026-12-06T10:00:00Z');
const claims = {
  campaignId: 'cmp_1',
  occurrence: '2026-12-06T10:00:00.000Z',
  userId: 'ann',
  expiresAt: new Date('2027-02-04T10:00:00Z'),
};

describe('report secret rotation: a list of secrets, newest first', () => {
  it('verifies tokens signed with the old secret while it is kept, and signs with the new one', () => {
    const before = reportTokens('old-secret-0123456789abcdef0123');
    const during = reportTokens(['new-secret-0123456789abcdef0123', 'old-secret-0123456789abcdef0123']);
    const after = reportTokens('new-secret-0123456789abcdef0123');

    const oldToken = before.sign(claims);
    expect(during.verify(oldToken, now)).toEqual(claims);
    const newToken = during.sign(claims);
    expect(newToken).not.toBe(oldToken);
    // The new secret signs: a process that only knows the new one accepts it, one that only knows the old one refuses it.
    expect(after.verify(newToken, now)).toEqual(claims);
    expect(before.verify(newToken, now)).toBeNull();
    // Once the old secret is dropped, its tokens are refused.
    expect(after.verify(oldToken, now)).toBeNull();
  });

  it('still refuses a token no listed secret signed, and a tampered one', () => {
    const tokens = reportTokens(['a'.repeat(32), 'b'.repeat(32)]);
    const forged = reportTokens('c'.repeat(32)).sign(claims);
    expect(tokens.verify(forged, now)).toBeNull();
    const [body, signature] = tokens.sign(claims).split('.');
    const tampered = `${Buffer.from(JSON.stringify({ c: 'cmp_2', o: claims.occurrence, u: 'ann', e: 1_801_000_000 })).toString('base64url')}.${signature}`;
    expect(body).toBeTruthy();
    expect(tokens.verify(tampered, now)).toBeNull();
  });

  it('refuses an empty list at creation', () => {
    expect(() => reportTokens([])).toThrow(ConfigError);
  });
});
