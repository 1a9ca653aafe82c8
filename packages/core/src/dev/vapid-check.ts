import { errors, importJWK, type JWTPayload, jwtVerify } from 'jose';
import { p256Jwk } from '../delivery/vapid.js';

/** The claims of a VAPID token that passed every check. */
export interface VerifiedVapid {
  sub: string;
  aud: string;
  /** Seconds since the epoch. */
  exp: number;
  /** The `k` key that signed, base64url. */
  publicKey: string;
}

export type VapidCheck =
  | { ok: true; vapid: VerifiedVapid }
  | { ok: false; status: 401 | 403; reason: string };

/** RFC 8292 §2: a token may not claim to live longer than a day. */
const MAX_LIFETIME_SECONDS = 24 * 60 * 60;

/**
 * Checks an `Authorization: vapid t=<jwt>, k=<key>` header the way push
 * services do (RFC 8292): ES256 signature by `k`, `aud` equal to this
 * service's origin, `exp` in the future and at most 24 h ahead, `sub` a
 * mailto: or https: contact. Missing or unreadable credentials get 401,
 * credentials that fail a check 403.
 */
export class VapidVerifier {
  /** Imported keys by their base64url text: one import per sender, not per message. */
  private readonly keys = new Map<string, ReturnType<typeof importJWK>>();

  constructor(private readonly audience: string) {}

  async verify(header: string | undefined, now: Date, expectedKey: string | null): Promise<VapidCheck> {
    if (!header) return { ok: false, status: 401, reason: 'missing Authorization header' };
    const match = /^vapid\s+(.+)$/i.exec(header.trim());
    if (!match)
      return { ok: false, status: 401, reason: 'Authorization must use the vapid scheme (RFC 8292)' };
    const params = parseParams(match[1] as string);
    const token = params.get('t');
    const key = params.get('k');
    if (!token || !key) return { ok: false, status: 401, reason: 'vapid Authorization needs t= and k=' };

    const raw = Buffer.from(key, 'base64url');
    if (raw.length !== 65 || raw[0] !== 0x04) {
      return { ok: false, status: 401, reason: 'k must be an uncompressed P-256 public key' };
    }
    const publicKey = raw.toString('base64url');
    if (expectedKey !== null && publicKey !== Buffer.from(expectedKey, 'base64url').toString('base64url')) {
      return { ok: false, status: 403, reason: 'VAPID public key does not match the subscription' };
    }

    let payload: JWTPayload;
    try {
      const verificationKey = await this.importKey(publicKey, raw);
      ({ payload } = await jwtVerify(token, verificationKey, {
        algorithms: ['ES256'],
        audience: this.audience,
        currentDate: now,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      return { ok: false, status: 403, reason: `BadJwtToken: ${describe(error)}` };
    }
    const exp = payload.exp as number;
    const nowSeconds = Math.floor(now.getTime() / 1000);
    if (exp > nowSeconds + MAX_LIFETIME_SECONDS) {
      return { ok: false, status: 403, reason: 'BadJwtToken: exp is more than 24 hours ahead' };
    }
    const sub = payload.sub as string;
    if (!/^mailto:\S+@\S+$/.test(sub) && !/^https:\/\/\S+$/.test(sub)) {
      return { ok: false, status: 403, reason: 'BadJwtToken: sub must be a mailto: or https: URI' };
    }
    return { ok: true, vapid: { sub, aud: this.audience, exp, publicKey } };
  }

  private importKey(publicKey: string, raw: Buffer) {
    let key = this.keys.get(publicKey);
    if (!key) {
      key = importJWK(p256Jwk(raw), 'ES256');
      this.keys.set(publicKey, key);
    }
    return key;
  }
}

/** `t=abc, k=def` → Map { t: 'abc', k: 'def' } */
function parseParams(text: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const part of text.split(',')) {
    const index = part.indexOf('=');
    if (index > 0) params.set(part.slice(0, index).trim().toLowerCase(), part.slice(index + 1).trim());
  }
  return params;
}

function describe(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'token expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `claim ${error.claim} ${error.reason}`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'signature does not verify with k';
  return error instanceof Error ? error.message : String(error);
}
