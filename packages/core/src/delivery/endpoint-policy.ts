import { isIP } from 'node:net';
import { ConfigError, EndpointNotAllowedError } from '../errors/index.js';

/**
 * Subscription endpoints come from browsers, that is from anyone: taken as
 * they are, they would let a caller make Herald POST to any URL, inside the
 * host's network included (SSRF). Only the push services browsers really use
 * are accepted, over https on their default port, plus what the host allows
 * explicitly (a loopback push service in tests and in the demo).
 */

/**
 * Hosts of the push services browsers hand out, as exact names or, starting
 * with "*.", any subdomain of a suffix.
 */
export const KNOWN_PUSH_SERVICE_HOSTS: readonly string[] = [
  'fcm.googleapis.com', // Chrome, Edge on Android, Opera, Samsung
  'android.googleapis.com', // Chrome's older endpoints
  'jmt17.google.com', // Chromium built without Google's API keys (Debian's, Ubuntu's…): /fcm/send/<token>
  'updates.push.services.mozilla.com', // Firefox
  '*.push.services.mozilla.com',
  '*.push.apple.com', // Safari 16+ (web.push.apple.com)
  '*.notify.windows.com', // Edge on Windows (wns2-*.notify.windows.com)
];

/**
 * An extra endpoint to accept, checked before every other rule except the
 * one against credentials:
 * - a string: an origin, optionally with a path prefix (`http://127.0.0.1:8080`,
 *   `https://push.example.net/wp/`); the endpoint must have that scheme, host
 *   and port and sit under that path;
 * - a RegExp, tested against the whole endpoint URL;
 * - a function of the parsed URL.
 */
export type EndpointAllowRule = string | RegExp | ((url: URL) => boolean);

export interface EndpointPolicyOptions {
  allow?: EndpointAllowRule[];
}

export type EndpointCheck = { ok: true } | { ok: false; reason: string };

export interface EndpointPolicy {
  check(endpoint: string): EndpointCheck;
  /** Throws EndpointNotAllowedError with the reason when `check` refuses. */
  assert(endpoint: string): void;
}

export function createEndpointPolicy(options: EndpointPolicyOptions = {}): EndpointPolicy {
  const allowed = (options.allow ?? []).map(compileRule);

  const check = (endpoint: string): EndpointCheck => {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      return refuse('not a valid URL');
    }
    // Checked before the allow-list: a secret in a URL ends up in logs and
    // storage, and no push service hands out such URLs.
    if (url.username !== '' || url.password !== '') return refuse('credentials in the URL are not allowed');
    if (allowed.some((matches) => matches(url))) return { ok: true };
    if (url.protocol !== 'https:') return refuse(`must use https, not ${url.protocol.replace(/:$/, '')}`);
    const host = url.hostname;
    if (isIP(host.replace(/^\[|\]$/g, '')) !== 0) {
      return refuse(`IP address hosts are not push services (${host})`);
    }
    if (!isKnownHost(host)) return refuse(`${host} is not a known push service host`);
    // Known services listen on 443 only; another port on their name is
    // someone probing (the URL parser already drops an explicit ":443").
    if (url.port !== '') return refuse(`non-default port ${url.port} on ${host}`);
    return { ok: true };
  };

  return {
    check,
    assert(endpoint) {
      const result = check(endpoint);
      if (!result.ok) throw new EndpointNotAllowedError(endpoint, result.reason);
    },
  };
}

/** One-off check with a throwaway policy; build the policy once with createEndpointPolicy when checking many. */
export function checkEndpoint(endpoint: string, options: EndpointPolicyOptions = {}): EndpointCheck {
  return createEndpointPolicy(options).check(endpoint);
}

function refuse(reason: string): EndpointCheck {
  return { ok: false, reason };
}

export function isKnownHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return KNOWN_PUSH_SERVICE_HOSTS.some((known) =>
    known.startsWith('*.') ? host.endsWith(known.slice(1)) && host.length > known.length - 1 : host === known,
  );
}

function compileRule(rule: EndpointAllowRule): (url: URL) => boolean {
  if (typeof rule === 'function') return rule;
  if (rule instanceof RegExp) {
    // A /g or /y RegExp keeps state between tests; a copy without them does not.
    const pattern = new RegExp(rule.source, rule.flags.replace(/[gy]/g, ''));
    return (url) => pattern.test(url.href);
  }
  let base: URL;
  try {
    base = new URL(rule);
  } catch {
    throw new ConfigError(
      `allowEndpoint entry "${rule}" is not a URL (expected an origin like http://127.0.0.1:8080)`,
    );
  }
  const prefix = base.pathname.endsWith('/') ? base.pathname : `${base.pathname}/`;
  return (url) =>
    url.protocol === base.protocol &&
    url.host === base.host &&
    (url.pathname === base.pathname || url.pathname.startsWith(prefix));
}
