import { createHash, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '../../errors/index.js';
import type { HttpRequest } from '../handlers.js';

/** The operation a request is for, so an authoriser can allow reads and refuse changes. */
export interface AdminOperation {
  /** The OpenAPI operationId, e.g. `createCampaign`. */
  id: string;
  method: string;
  /** The route template, e.g. `/campaigns/{id}/schedule`. */
  path: string;
  /** True for operations that change something (and are audited). */
  changes: boolean;
}

export interface AuthorizeInput<Raw = unknown> {
  /** Herald's parsed request. */
  request: HttpRequest<Raw>;
  /** The host framework's own request (Express's `req`, with `req.user` from Passport), when mounted through `toNodeListener`. */
  raw: Raw | undefined;
  operation: AdminOperation;
}

/**
 * allow: the request proceeds, and `principal` (a user name, an API key's
 * label) is recorded with every change it makes. deny: `unauthenticated`
 * (401: no or bad credentials) or `forbidden` (403: known, but not allowed this).
 */
export type AuthDecision =
  | { allow: true; principal: string }
  | { allow: false; reason: 'unauthenticated' | 'forbidden'; message?: string };

export type Authorize<Raw = unknown> = (input: AuthorizeInput<Raw>) => AuthDecision | Promise<AuthDecision>;

/**
 * The authoriser's answer, or a ConfigError when it is not an AuthDecision (`true`, `{ allowed: true }`,
 * an allow without a principal): such an answer denied every request with a 401 and no word why.
 * The mistake is the host's, so it is a 500 with its cause in the log.
 */
export function checkedDecision(decision: unknown): AuthDecision {
  const d = decision as Partial<Record<'allow' | 'principal' | 'reason' | 'message', unknown>> | null;
  const allowed = d?.allow === true && typeof d.principal === 'string';
  const denied =
    d?.allow === false &&
    (d.reason === 'unauthenticated' || d.reason === 'forbidden') &&
    (d.message === undefined || typeof d.message === 'string');
  if (allowed || denied) return decision as AuthDecision;
  throw new ConfigError(
    `authorize returned ${shapeOf(decision)}: it must return { allow: true, principal } or { allow: false, reason: 'unauthenticated' | 'forbidden' }`,
  );
}

/** What an answer looks like, without its values: an authoriser may return its user, or a token. */
function shapeOf(value: unknown): string {
  if (typeof value === 'boolean' || value === null || value === undefined) return String(value);
  if (typeof value !== 'object') return `a ${typeof value}`;
  return `an object with keys { ${Object.keys(value).join(', ')} }`;
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * An authoriser for one shared secret: `Authorization: Bearer <token>`.
 * Both sides are hashed to 32 bytes before `timingSafeEqual`, so neither the
 * comparison's time nor an early length check tells an attacker how long the
 * token is or how much of it they guessed. The token is never logged.
 */
export function bearerToken(token: string, options: { principal?: string } = {}): Authorize {
  if (typeof token !== 'string' || token.length < 16)
    throw new ConfigError('bearerToken needs a token of at least 16 characters');
  const expected = digest(token);
  const principal = options.principal ?? 'admin-token';
  return ({ request }) => {
    const header = request.headers.authorization;
    const value = Array.isArray(header) ? header[0] : header;
    const match = /^Bearer\s+(.+)$/i.exec(value ?? '');
    const given = digest(match?.[1]?.trim() ?? '');
    // Compare even when there is no header, so an absent token costs the same time as a wrong one.
    const equal = timingSafeEqual(given, expected);
    if (!match || !equal)
      return { allow: false, reason: 'unauthenticated', message: 'a valid bearer token is required' };
    return { allow: true, principal };
  };
}
