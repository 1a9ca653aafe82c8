import { createHash, timingSafeEqual } from 'node:crypto';
import { type Authorize, ConfigError } from '@herald/core';

/** An authoriser that also says how a browser should be asked for credentials. */
export type ChallengingAuthorize<Raw = unknown> = Authorize<Raw> & {
  /** The `WWW-Authenticate` value sent with a 401 for the dashboard's page, so the browser prompts. */
  challenge: string;
};

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * HTTP Basic authentication for one operator account: the browser prompts for it on the first
 * page load and sends it with every request after. For an intranet tool or a demo; a host with
 * its own sign-in (Passport, a session cookie) writes an `authorize` that reads `raw.user`.
 * Basic credentials are sent by the browser on its own, which is why the dashboard's changes
 * also need its CSRF token (see the README). Serve it over HTTPS: Basic is a password in clear.
 */
export function basicAuth(options: {
  username: string;
  password: string;
  /** Recorded with every change (default: the username). */
  principal?: string;
  realm?: string;
}): ChallengingAuthorize {
  if (!options?.username || typeof options.password !== 'string' || options.password.length < 16)
    throw new ConfigError('basicAuth needs a username and a password of at least 16 characters');
  // Hashed so the comparison takes the same time whatever the length or prefix of a guess.
  const expected = digest(`${options.username}:${options.password}`);
  const principal = options.principal ?? options.username;
  const realm = (options.realm ?? 'Herald dashboard').replace(/["\\]/g, '');
  const authorize: Authorize = ({ request }) => {
    const header = request.headers.authorization;
    const value = Array.isArray(header) ? header[0] : header;
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(value ?? '');
    const given = digest(match ? Buffer.from(match[1] as string, 'base64').toString('utf8') : '');
    const equal = timingSafeEqual(given, expected);
    if (!match || !equal)
      return { allow: false, reason: 'unauthenticated', message: 'sign in to the dashboard' };
    return { allow: true, principal };
  };
  return Object.assign(authorize, { challenge: `Basic realm="${realm}", charset="UTF-8"` });
}
