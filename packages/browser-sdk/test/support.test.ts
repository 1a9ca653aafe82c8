import { describe, expect, it } from 'vitest';
import { detectSupport, type SupportEnv } from '../src/support.js';

const chrome: SupportEnv = {
  isSecureContext: true,
  navigator: {
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0',
    platform: 'Linux x86_64',
    serviceWorker: {},
  },
  PushManager: function PushManager() {},
  Notification: function Notification() {},
};
const iphone =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Version/17.4 Mobile/15E148';

describe('detectSupport', () => {
  it('supports a modern browser in a secure context', () => {
    expect(detectSupport(chrome, false)).toEqual({ supported: true, mode: 'push' });
  });

  it('names the reason when push is not possible', () => {
    const reason = (env: SupportEnv, safari = false) => {
      const support = detectSupport(env, safari);
      return support.supported ? 'supported' : support.reason;
    };
    expect(reason({ ...chrome, isSecureContext: false })).toBe('insecure-context');
    expect(reason({ ...chrome, navigator: { ...chrome.navigator, serviceWorker: undefined } })).toBe(
      'no-service-worker',
    );
    expect(reason({ ...chrome, PushManager: undefined })).toBe('no-push-manager');
    expect(reason({ ...chrome, Notification: undefined })).toBe('no-notifications');
    expect(reason({ ...chrome, navigator: { ...chrome.navigator, userAgent: iphone } })).toBe(
      'ios-not-installed',
    );
    expect(
      reason({
        ...chrome,
        navigator: { ...chrome.navigator, userAgent: 'Macintosh', platform: 'MacIntel', maxTouchPoints: 5 },
      }),
    ).toBe('ios-not-installed');
  });

  it('supports iOS inside an installed home-screen web app', () => {
    expect(
      detectSupport(
        { ...chrome, navigator: { ...chrome.navigator, userAgent: iphone, standalone: true } },
        false,
      ),
    ).toEqual({
      supported: true,
      mode: 'push',
    });
    expect(
      detectSupport(
        {
          ...chrome,
          navigator: { ...chrome.navigator, userAgent: iphone },
          matchMedia: () => ({ matches: true }),
        },
        false,
      ).supported,
    ).toBe(true);
  });

  it('uses legacy website push in Safari before 16, when configured', () => {
    const safari15: SupportEnv = { ...chrome, PushManager: undefined, safari: { pushNotification: {} } };
    expect(detectSupport(safari15, true)).toEqual({ supported: true, mode: 'safari-legacy' });
    const unconfigured = detectSupport(safari15, false);
    expect(unconfigured.supported === false && unconfigured.reason).toBe('safari-not-configured');
    // Safari 16+ has both: the standard path wins.
    expect(detectSupport({ ...chrome, safari: { pushNotification: {} } }, true)).toEqual({
      supported: true,
      mode: 'push',
    });
  });

  it('gives a message a site owner can act on', () => {
    const support = detectSupport({ ...chrome, isSecureContext: false }, false);
    expect(support.supported === false && support.message).toMatch(/HTTPS/);
  });
});
