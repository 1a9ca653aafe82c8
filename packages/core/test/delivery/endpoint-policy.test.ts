import { describe, expect, it } from 'vitest';
import {
  checkEndpoint,
  createEndpointPolicy,
  KNOWN_PUSH_SERVICE_HOSTS,
} from '../../src/delivery/endpoint-policy.js';
import { ConfigError, EndpointNotAllowedError } from '../../src/errors/index.js';

const policy = createEndpointPolicy();

function reasonOf(endpoint: string, p = policy): string {
  const result = p.check(endpoint);
  if (result.ok) throw new Error(`expected ${endpoint} to be refused`);
  return result.reason;
}

describe('endpoint policy (SSRF guard)', () => {
  it.each([
    'https://fcm.googleapis.com/fcm/send/dGVzdA:APA91b',
    'https://fcm.googleapis.com:443/wp/abc',
    'https://android.googleapis.com/gcm/send/abc',
    'https://jmt17.google.com/fcm/send/cHVzaA:APA91b',
    'https://updates.push.services.mozilla.com/wpush/v2/gAAAAA',
    'https://updates-autopush.stage.push.services.mozilla.com/wpush/v2/x',
    'https://web.push.apple.com/QGuQyavXutnMHq',
    'https://wns2-par02p.notify.windows.com/w/?token=BQYAAA',
    'https://FCM.googleapis.com/fcm/send/upper-case-host',
  ])('accepts the known push service %s', (endpoint) => {
    expect(policy.check(endpoint)).toEqual({ ok: true });
  });

  it('lists every known host family', () => {
    expect(KNOWN_PUSH_SERVICE_HOSTS).toEqual(
      expect.arrayContaining(['fcm.googleapis.com', '*.push.apple.com', '*.notify.windows.com']),
    );
  });

  it('refuses plain http, even on a known host', () => {
    expect(reasonOf('http://fcm.googleapis.com/fcm/send/abc')).toBe('must use https, not http');
  });

  it.each([
    ['https://10.0.0.1/push/abc', '10.0.0.1'],
    ['https://169.254.169.254/latest/meta-data', '169.254.169.254'],
    ['https://8.8.8.8/push', '8.8.8.8'],
    ['https://[::1]/push', '[::1]'],
    ['https://[fd00::1]:8443/push', '[fd00::1]'],
    // The URL parser turns these spellings of 127.0.0.1 into the dotted form.
    ['https://2130706433/push', '127.0.0.1'],
    ['https://0x7f.1/push', '127.0.0.1'],
  ])('refuses the IP-literal host in %s', (endpoint, host) => {
    expect(reasonOf(endpoint)).toBe(`IP address hosts are not push services (${host})`);
  });

  it.each([
    'https://evil.example.com/push',
    'https://fcm.googleapis.com.evil.example.com/fcm/send/x',
    'https://notify.windows.com.attacker.net/w',
    'https://push.apple.com.attacker.net/x',
    'https://localhost/push',
    'https://metadata.google.internal/computeMetadata/v1/',
  ])('refuses the unknown host in %s', (endpoint) => {
    expect(reasonOf(endpoint)).toMatch(/is not a known push service host$/);
  });

  it('refuses credentials in the URL, even where the allow-list would accept', () => {
    expect(reasonOf('https://user:secret@fcm.googleapis.com/fcm/send/x')).toBe(
      'credentials in the URL are not allowed',
    );
    const loopback = createEndpointPolicy({ allow: ['http://127.0.0.1:8080'] });
    expect(reasonOf('http://user@127.0.0.1:8080/push/a', loopback)).toBe(
      'credentials in the URL are not allowed',
    );
  });

  it('refuses a non-default port on a known host', () => {
    expect(reasonOf('https://fcm.googleapis.com:8443/fcm/send/x')).toBe(
      'non-default port 8443 on fcm.googleapis.com',
    );
  });

  it('refuses what is not a URL', () => {
    expect(reasonOf('not a url')).toBe('not a valid URL');
    expect(reasonOf('file:///etc/passwd')).toBe('must use https, not file');
  });

  it('assert throws EndpointNotAllowedError naming the reason', () => {
    let thrown: unknown;
    try {
      policy.assert('http://10.0.0.1/push');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(EndpointNotAllowedError);
    expect(thrown).toMatchObject({
      code: 'endpoint_not_allowed',
      endpoint: 'http://10.0.0.1/push',
      reason: 'must use https, not http',
    });
    expect(() => policy.assert('https://web.push.apple.com/abc')).not.toThrow();
  });

  describe('allow-list option', () => {
    it('accepts a loopback origin given as a string, on that port and scheme only', () => {
      const p = createEndpointPolicy({ allow: ['http://127.0.0.1:41234'] });
      expect(p.check('http://127.0.0.1:41234/push/abc')).toEqual({ ok: true });
      expect(reasonOf('http://127.0.0.1:41235/push/abc', p)).toBe('must use https, not http');
      expect(reasonOf('https://127.0.0.1:41234/push/abc', p)).toMatch(/^IP address hosts/);
      // Known hosts stay accepted next to the allow-list.
      expect(p.check('https://fcm.googleapis.com/fcm/send/x')).toEqual({ ok: true });
    });

    it('treats a string path as a prefix on segment boundaries', () => {
      const p = createEndpointPolicy({ allow: ['http://127.0.0.1:9000/push'] });
      expect(p.check('http://127.0.0.1:9000/push/abc')).toEqual({ ok: true });
      expect(p.check('http://127.0.0.1:9000/push')).toEqual({ ok: true });
      expect(p.check('http://127.0.0.1:9000/pushy/abc').ok).toBe(false);
      expect(p.check('http://127.0.0.1:9000/admin').ok).toBe(false);
    });

    it('accepts RegExp and function rules, a /g RegExp as reliably as any', () => {
      const p = createEndpointPolicy({
        allow: [/^https:\/\/push\.example\.net\//g, (url) => url.hostname === 'wp.internal.example'],
      });
      for (let i = 0; i < 3; i++) expect(p.check('https://push.example.net/a').ok).toBe(true);
      expect(p.check('https://wp.internal.example/x').ok).toBe(true);
      expect(p.check('https://other.example.net/a').ok).toBe(false);
    });

    it('refuses a string rule that is not a URL when the policy is built', () => {
      expect(() => createEndpointPolicy({ allow: ['127.0.0.1:8080'] })).toThrow(ConfigError);
    });
  });

  it('checkEndpoint is the one-off form', () => {
    expect(checkEndpoint('https://web.push.apple.com/x')).toEqual({ ok: true });
    expect(checkEndpoint('http://127.0.0.1:1/x', { allow: ['http://127.0.0.1:1'] })).toEqual({ ok: true });
    expect(checkEndpoint('http://127.0.0.1:1/x').ok).toBe(false);
  });
});
