import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { ConfigError, EndpointNotAllowedError } from '../errors/index.js';
import type { Clock } from '../ports/clock.js';

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
  /**
   * Resolves a push service's host name to its addresses (default: the system resolver, every
   * address). Tests pass their own to play a hostile DNS.
   */
  resolve?: (hostname: string) => Promise<string[]>;
  /** Reads the time for the resolution cache (default: none kept). */
  clock?: Clock;
}

export type EndpointCheck = { ok: true } | { ok: false; reason: string };

export interface EndpointPolicy {
  check(endpoint: string): EndpointCheck;
  /** Throws EndpointNotAllowedError with the reason when `check` refuses. */
  assert(endpoint: string): void;
  /**
   * Where the endpoint's host resolves (an IP address host: that address): refused when any
   * address is private, loopback, link-local or otherwise not on the public internet. An endpoint
   * an `allow` rule accepts is the host's explicit choice and is not resolved. A name that does not
   * resolve is accepted (nothing can be sent to it; each send checks again). Does not repeat `check`.
   */
  checkAddress(endpoint: string): Promise<EndpointCheck>;
  /** Throws EndpointNotAllowedError with the reason when `checkAddress` refuses. */
  assertAddress(endpoint: string): Promise<void>;
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

  const resolve = options.resolve ?? systemResolve;
  // Push service hosts are few; a minute's cache keeps a campaign from resolving per message. The
  // lookup is cached while it runs, too: a job's first sends to a service all start before the DNS
  // answers, and each would otherwise take a lookup (a thread of libuv's pool of four) of the same name.
  const resolved = new Map<string, { addresses: Promise<string[]>; until: number }>();
  const addressesOf = (hostname: string): Promise<string[]> => {
    const now = options.clock?.now().getTime();
    const cached = resolved.get(hostname);
    if (cached && now !== undefined && cached.until > now) return cached.addresses;
    // A name that does not resolve is kept as such for the minute too: a flood of subscriptions
    // naming one bad host costs one lookup.
    const addresses = resolve(hostname).catch((): string[] => []);
    if (now !== undefined) resolved.set(hostname, { addresses, until: now + 60_000 });
    return addresses;
  };

  const checkAddress = async (endpoint: string): Promise<EndpointCheck> => {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      return refuse('not a valid URL');
    }
    if (allowed.some((matches) => matches(url))) return { ok: true };
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const addresses = isIP(host) !== 0 ? [host] : await addressesOf(host);
    const inner = addresses.find(isNonPublicAddress);
    return inner === undefined
      ? { ok: true }
      : refuse(`${url.hostname} resolves to a non-public address (${inner})`);
  };

  return {
    check,
    assert(endpoint) {
      const result = check(endpoint);
      if (!result.ok) throw new EndpointNotAllowedError(endpoint, result.reason);
    },
    checkAddress,
    async assertAddress(endpoint) {
      const result = await checkAddress(endpoint);
      if (!result.ok) throw new EndpointNotAllowedError(endpoint, result.reason);
    },
  };
}

async function systemResolve(hostname: string): Promise<string[]> {
  return (await lookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);
}

/**
 * Ranges that are not the public internet (IANA special-purpose registries): a push endpoint
 * resolving into one would make Herald POST into the host's own network.
 */
const NON_PUBLIC = (() => {
  const list = new BlockList();
  for (const [network, prefix] of [
    ['0.0.0.0', 8], // "this network"
    ['10.0.0.0', 8], // private
    ['100.64.0.0', 10], // carrier-grade NAT
    ['127.0.0.0', 8], // loopback
    ['169.254.0.0', 16], // link-local, cloud metadata services
    ['172.16.0.0', 12], // private
    ['192.0.0.0', 24], // IETF protocol assignments
    ['192.168.0.0', 16], // private
    ['198.18.0.0', 15], // benchmarking
    ['224.0.0.0', 4], // multicast
    ['240.0.0.0', 4], // reserved, broadcast
  ] as const) {
    list.addSubnet(network, prefix, 'ipv4');
  }
  for (const [network, prefix] of [
    ['::', 128], // unspecified
    ['::1', 128], // loopback
    ['fc00::', 7], // unique local
    ['fe80::', 10], // link-local
    ['ff00::', 8], // multicast
  ] as const) {
    list.addSubnet(network, prefix, 'ipv6');
  }
  return list;
})();

/** True for an address outside the public internet; an IPv4-mapped IPv6 address is judged as IPv4. */
export function isNonPublicAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').split('%')[0] as string;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped) return NON_PUBLIC.check(mapped[1] as string, 'ipv4');
  const family = isIP(bare);
  if (family === 0) return true;
  return NON_PUBLIC.check(bare, family === 4 ? 'ipv4' : 'ipv6');
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
