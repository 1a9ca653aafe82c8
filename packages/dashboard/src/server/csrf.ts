import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The cookie holding the dashboard's CSRF token; its copy travels in the page and comes back as a header. */
export const CSRF_COOKIE = 'herald_dashboard_csrf';
/** The header the dashboard's own `fetch` calls send the token in. */
export const CSRF_HEADER = 'x-herald-csrf';

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function newCsrfToken(): string {
  return randomBytes(32).toString('base64url');
}

export function cookieValue(request: IncomingMessage, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const separator = part.indexOf('=');
    if (separator > 0 && part.slice(0, separator).trim() === name) return part.slice(separator + 1).trim();
  }
  return undefined;
}

/** The token the page's cookie already holds, when it is one of ours (so two open tabs share it). */
export function existingCsrfToken(request: IncomingMessage): string | undefined {
  const value = cookieValue(request, CSRF_COOKIE);
  return value && TOKEN_PATTERN.test(value) ? value : undefined;
}

export function csrfCookie(token: string, path: string, secure: boolean): string {
  // HttpOnly: the page reads its copy from the HTML, so no script needs the cookie.
  // SameSite=Strict: a request started from another site does not carry it at all.
  return `${CSRF_COOKIE}=${token}; Path=${path}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

export type CsrfVerdict = { ok: true } | { ok: false; message: string };

/**
 * A change is accepted only when all of these hold:
 * - the browser does not say the request came from another origin (`Sec-Fetch-Site`, sent by every
 *   current browser; a sibling subdomain is "same-site" and refused too);
 * - it carries the custom header, which a cross-origin form or `fetch` cannot set without a CORS
 *   preflight this handler never grants;
 * - the header equals the cookie (double submit), so a token read from another user's page is useless.
 */
export function checkCsrf(request: IncomingMessage): CsrfVerdict {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin')
    return { ok: false, message: `a change from a ${site} page is refused` };
  const sent = request.headers[CSRF_HEADER];
  const header = Array.isArray(sent) ? sent[0] : sent;
  const cookie = existingCsrfToken(request);
  if (!header || !cookie)
    return { ok: false, message: 'the dashboard’s CSRF token is missing: reload the page' };
  if (!timingSafeEqual(digest(header), digest(cookie)))
    return { ok: false, message: 'the dashboard’s CSRF token does not match: reload the page' };
  return { ok: true };
}
