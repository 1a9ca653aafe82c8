import { importPKCS8, SignJWT } from 'jose';
import { ConfigError } from '../errors/index.js';
import type { Clock } from '../ports/clock.js';

/**
 * APNs token-based authentication: an ES256 JWT with `kid` (the key id)
 * in its header and `iss` (the team id) and `iat` in its claims, signed
 * with the team's .p8 key. Apple refuses tokens older than an hour
 * (ExpiredProviderToken) and tokens renewed more often than every 20
 * minutes (TooManyProviderTokenUpdates), so one token is shared by every
 * request and replaced after 50 minutes.
 */
export const APNS_TOKEN_REFRESH_SECONDS = 50 * 60;
/** Apple: no more than one new token per 20 minutes. */
export const APNS_TOKEN_MIN_AGE_SECONDS = 20 * 60;

export interface ApnsCredentials {
  teamId: string;
  keyId: string;
  /** The .p8 file's content: a PKCS#8 PEM P-256 private key. */
  privateKey: string;
}

export interface ApnsToken {
  jwt: string;
  /** Seconds since the epoch, as in `iat`. */
  issuedAt: number;
}

export interface ApnsTokenSigner {
  current(): Promise<ApnsToken>;
  /**
   * Apple refused `rejected` (InvalidProviderToken / ExpiredProviderToken):
   * a new token, unless another request already replaced it.
   */
  renew(rejected: ApnsToken): Promise<ApnsToken>;
}

export function createApnsTokenSigner(credentials: ApnsCredentials, clock: Clock): ApnsTokenSigner {
  if (!/^[A-Z0-9]{10}$/.test(credentials.teamId))
    throw new ConfigError(`APNs team id must be 10 letters or digits, got "${credentials.teamId}"`);
  if (!/^[A-Z0-9]{10}$/.test(credentials.keyId))
    throw new ConfigError(`APNs key id must be 10 letters or digits, got "${credentials.keyId}"`);
  if (!credentials.privateKey.includes('BEGIN PRIVATE KEY'))
    throw new ConfigError(
      'APNs private key must be the .p8 file content (a PKCS#8 PEM "BEGIN PRIVATE KEY" block)',
    );
  // Imported once; a bad key shows on the first send as a ConfigError.
  const key = importPKCS8(credentials.privateKey, 'ES256').catch((error: unknown) => {
    throw new ConfigError(`APNs private key cannot be read: ${(error as Error).message}`);
  });
  key.catch(() => undefined);
  let token: Promise<ApnsToken> | null = null;

  const sign = (): Promise<ApnsToken> => {
    const issuedAt = Math.floor(clock.now().getTime() / 1000);
    const signed = key
      .then((signingKey) =>
        new SignJWT({ iss: credentials.teamId, iat: issuedAt })
          .setProtectedHeader({ alg: 'ES256', kid: credentials.keyId })
          .sign(signingKey),
      )
      .then((jwt) => ({ jwt, issuedAt }));
    signed.catch(() => {
      if (token === signed) token = null;
    });
    token = signed;
    return signed;
  };

  return {
    async current() {
      const cached = token;
      if (cached) {
        const value = await cached;
        const age = Math.floor(clock.now().getTime() / 1000) - value.issuedAt;
        if (age < APNS_TOKEN_REFRESH_SECONDS) return value;
        // Another caller may have started the refresh meanwhile.
        if (token !== cached) return token as Promise<ApnsToken>;
      }
      return sign();
    },
    async renew(rejected) {
      const cached = token;
      if (cached) {
        const value = await cached.catch(() => null);
        if (value && value.jwt !== rejected.jwt) return value;
        if (token !== cached) return token as Promise<ApnsToken>;
      }
      return sign();
    },
  };
}
