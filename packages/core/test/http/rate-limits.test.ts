import { describe, expect, it } from 'vitest';
import { addressKey, type HttpOptions, heraldHttp } from '../../src/index.js';
import { httpEngine } from './support.js';

/** Rate limits of the public endpoints, per client address and endpoint, on the engine's counters. */
describe('public endpoint rate limits', () => {
  function setup(options: HttpOptions = {}) {
    const { clock, herald, handle } = httpEngine({
      now: '2026-04-01T08:00:20Z',
      http: { trustClientUserId: true, ...options },
    });
    const track = (clientAddress: string, headers: Record<string, string> = {}) =>
      handle({
        method: 'POST',
        path: '/events',
        headers,
        clientAddress,
        body: { userId: 'ada', name: 'page_view' },
      });
    return { clock, herald, handle, track };
  }

  it('answers 429 with Retry-After past the limit, per address, until the window ends', async () => {
    const { clock, track } = setup({ rateLimits: { events: { limit: 3, windowSeconds: 60 } } });
    for (let n = 0; n < 3; n++) expect((await track('203.0.113.9')).status).toBe(202);
    const refused = await track('203.0.113.9');
    expect(refused).toMatchObject({
      status: 429,
      headers: { 'retry-after': '40' },
      body: { error: { code: 'rate_limited' } },
    });
    // Another address has its own count; the refused address is served again in the next window.
    expect((await track('198.51.100.7')).status).toBe(202);
    await clock.advance(40_000);
    expect((await track('203.0.113.9')).status).toBe(202);
  });

  it('counts each endpoint apart, and can be turned off', async () => {
    const { handle, track } = setup({
      rateLimits: { events: { limit: 1, windowSeconds: 60 }, identify: false },
    });
    expect((await track('203.0.113.9')).status).toBe(202);
    expect((await track('203.0.113.9')).status).toBe(429);
    for (let n = 0; n < 200; n++) {
      const identify = await handle({
        method: 'POST',
        path: '/identify',
        headers: {},
        clientAddress: '203.0.113.9',
        body: { endpoint: 'https://fcm.googleapis.com/fcm/send/x', userId: 'ada' },
      });
      expect(identify.status).toBe(404);
    }
    const off = setup({ rateLimits: false });
    for (let n = 0; n < 1300; n++) expect((await off.track('203.0.113.9')).status).toBe(202);
  });

  it('reads X-Forwarded-For only behind the number of proxies the host declares', async () => {
    const direct = setup({ rateLimits: { events: { limit: 1, windowSeconds: 60 } } });
    expect((await direct.track('10.0.0.1', { 'x-forwarded-for': '203.0.113.1' })).status).toBe(202);
    // A forged header does not make a new client: the peer address is what counts.
    expect((await direct.track('10.0.0.1', { 'x-forwarded-for': '203.0.113.2' })).status).toBe(429);

    const proxied = setup({ rateLimits: { events: { limit: 1, windowSeconds: 60 } }, trustedProxies: 1 });
    expect((await proxied.track('10.0.0.1', { 'x-forwarded-for': 'forged, 203.0.113.1' })).status).toBe(202);
    expect(
      (await proxied.track('10.0.0.1', { 'x-forwarded-for': 'other-forgery, 203.0.113.1' })).status,
    ).toBe(429);
    expect((await proxied.track('10.0.0.1', { 'x-forwarded-for': '203.0.113.2' })).status).toBe(202);
  });

  it('counts IPv6 clients by their /64 and IPv4-mapped addresses as IPv4', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(addressKey('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(addressKey('203.0.113.9')).toBe('203.0.113.9');
  });

  it('refuses bad settings when the handler is built', () => {
    const { herald } = setup();
    expect(() => heraldHttp(herald, { rateLimits: { events: { limit: 0, windowSeconds: 60 } } })).toThrow(
      /rateLimits\.events/,
    );
    expect(() => heraldHttp(herald, { trustedProxies: -1 })).toThrow(/trustedProxies/);
  });
});
