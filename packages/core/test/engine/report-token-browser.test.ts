import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { reportTokens } from '../../src/engine/observe/index.js';

const SECRET = 'secret-0123456789abcdef0123456789';
const now = new Date('2026-12-06T10:00:00Z');
const claims = {
  campaignId: 'cmp_1',
  occurrence: '2026-12-06T10:00:00.000Z',
  userId: 'ann',
  expiresAt: new Date('2027-02-04T10:00:00Z'),
};

/** A token as Herald signed them before tokens claimed a browser: the same four keys, the same MAC. */
function tokenOfEarlierVersion(wire: Record<string, unknown>): string {
  const body = Buffer.from(JSON.stringify(wire)).toString('base64url');
  return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
}

describe('report tokens name the browser the message was sent to', () => {
  const tokens = reportTokens(SECRET);

  it('carries the browser and target through sign and verify, for a few bytes more', () => {
    const browser = { name: 'firefox', target: 'web-push' } as const;
    const token = tokens.sign({ ...claims, browser });
    expect(tokens.verify(token, now)).toEqual({ ...claims, browser });
    // The token rides in every payload (4 KB Web Push record): the claim adds under 40 characters.
    expect(token.length - tokens.sign(claims).length).toBeLessThan(40);
  });

  it('still verifies a token signed before, with no browser', () => {
    const token = tokenOfEarlierVersion({
      c: claims.campaignId,
      o: claims.occurrence,
      u: claims.userId,
      e: claims.expiresAt.getTime() / 1000,
    });
    expect(tokens.verify(token, now)).toEqual(claims);
  });

  it('leaves out a browser it does not know rather than refusing the report', () => {
    const token = tokenOfEarlierVersion({
      c: claims.campaignId,
      o: claims.occurrence,
      u: claims.userId,
      e: claims.expiresAt.getTime() / 1000,
      b: 'netscape',
      t: 'web-push',
    });
    expect(tokens.verify(token, now)).toEqual(claims);
  });
});
