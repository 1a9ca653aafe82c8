import { createHash, createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { ConfigError } from '../../errors/index.js';
import { Browser, type BrowserClass, BrowserTarget } from '../../model/index.js';

/**
 * The token a message carries back in its service-worker reports: who it was
 * for and which campaign occurrence, signed with HMAC-SHA256 so a report
 * cannot be forged for another user or campaign.
 *
 * The wire keys are single letters (c campaign, o occurrence, u user,
 * e expiry, b browser, t target) because the token rides in every payload,
 * inside Web Push's 4 KB record; `ReportClaims` is the readable form the
 * rest of Herald uses.
 *
 * The browser (b, t) is that of the subscription the message was sent to,
 * so a report counts under the browser that showed it (`campaigns.browsers`)
 * without a lookup. Tokens signed before it was added have neither key and
 * still verify: their claims have no `browser` (docs/CAMPAIGNS.md, "By
 * browser", says how such reports are counted).
 */
const Claims = z.object({
  c: z.string(),
  o: z.string(),
  u: z.string(),
  /** Epoch seconds after which reports are refused. */
  e: z.number(),
  // A browser this version does not know (a token of a newer one, after a rollback) is left out, not refused.
  b: Browser.optional().catch(undefined),
  t: BrowserTarget.optional().catch(undefined),
});
export type ReportClaims = {
  campaignId: string;
  occurrence: string;
  userId: string;
  expiresAt: Date;
  /** The browser the message was sent to; absent from tokens signed before browsers were claimed. */
  browser?: BrowserClass;
};

export interface ReportTokens {
  sign(claims: ReportClaims): string;
  /** The claims, or null when the token is forged, malformed or expired. */
  verify(token: string, now: Date): ReportClaims | null;
}

export type ReportSecret = string | Uint8Array;

/**
 * `secrets` may be one secret or several, newest first: the first signs, every one verifies. A
 * rotation adds the new secret in front and keeps the old one until the tokens it signed have
 * expired (`tuning.reportTokenTtlMs`), so late reports of earlier messages still count.
 */
export function reportTokens(secrets: ReportSecret | readonly ReportSecret[]): ReportTokens {
  const keys: readonly ReportSecret[] = Array.isArray(secrets) ? secrets : [secrets as ReportSecret];
  const [signing] = keys;
  if (signing === undefined) throw new ConfigError('reportSecret: the list of secrets is empty');
  const macWith = (secret: ReportSecret | KeyObject, data: string) =>
    createHmac('sha256', secret).update(data).digest();
  // Imported once: every message signs a token, and createHmac imports a raw secret on each call.
  const signingKey = createSecretKey(typeof signing === 'string' ? Buffer.from(signing, 'utf8') : signing);
  const mac = (data: string) => macWith(signingKey, data);
  // Every secret is tried (no early exit), so the time taken does not say which one matched.
  const signedByAny = (body: string, given: Buffer): boolean => {
    let matched = false;
    for (const secret of keys) {
      const expected = macWith(secret, body);
      if (given.length === expected.length && timingSafeEqual(given, expected)) matched = true;
    }
    return matched;
  };
  return {
    sign({ campaignId, occurrence, userId, expiresAt, browser }) {
      const body = Buffer.from(
        JSON.stringify({
          c: campaignId,
          o: occurrence,
          u: userId,
          e: Math.ceil(expiresAt.getTime() / 1000),
          ...(browser ? { b: browser.name, t: browser.target } : {}),
        }),
      ).toString('base64url');
      return `${body}.${mac(body).toString('base64url')}`;
    },
    verify(token, now) {
      const [body, signature] = token.split('.');
      if (!body || !signature) return null;
      if (!signedByAny(body, Buffer.from(signature, 'base64url'))) return null;
      let decoded: unknown;
      try {
        decoded = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
      } catch {
        return null;
      }
      const claims = Claims.safeParse(decoded);
      if (!claims.success || claims.data.e * 1000 < now.getTime()) return null;
      const { b: name, t: target } = claims.data;
      return {
        campaignId: claims.data.c,
        occurrence: claims.data.o,
        userId: claims.data.u,
        expiresAt: new Date(claims.data.e * 1000),
        ...(name !== undefined && target !== undefined ? { browser: { name, target } } : {}),
      };
    },
  };
}

/**
 * The id a report is recorded under: one per (campaign, occurrence, user, kind, action), so the
 * same report sent again under new report ids counts once. Two devices of one user that both show
 * a run's message count one view: reports count users per run, like the run's other rates.
 */
export function reportKeyFor(claims: ReportClaims, kind: string, action: string | null): string {
  const named = JSON.stringify([claims.campaignId, claims.occurrence, claims.userId, kind, action]);
  return `rk_${createHash('sha256').update(named).digest('base64url').slice(0, 32)}`;
}
