import { describe, expect, it } from 'vitest';
import { browserOf } from '../../src/engine/browsers.js';
import { safariSubscription, webPushSubscription } from '../../src/testing/fixtures.js';

// Endpoints and user agents as real browsers give them (2025-2026 releases).
const ENDPOINTS = {
  fcm: 'https://fcm.googleapis.com/fcm/send/dQw4w9WgXcQ:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx',
  mozilla: 'https://updates.push.services.mozilla.com/wpush/v2/gAAAAABmExampleToken',
  windows: 'https://wns2-par02p.notify.windows.com/w/?token=BQYAAADexample',
  apple: 'https://web.push.apple.com/QGuQyavXutnMH4Ujs8pLeyGX6UwPiKr1hTRC',
  unknown: 'https://push.example.test/send/abc',
};
const AGENTS = {
  chrome:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  edge: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.70',
  edgeAndroid:
    'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 EdgA/131.0.0.0',
  opera:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 OPR/115.0.0.0',
  samsung:
    'Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/27.0 Chrome/125.0.0.0 Mobile Safari/537.36',
  firefox: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0',
  firefoxAndroid: 'Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0',
  safari:
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Safari/605.1.15',
  safariIos:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 18_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Mobile/15E148 Safari/604.1',
  headlessChrome:
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36',
};
const web = (endpoint: string, userAgent?: string) =>
  webPushSubscription('u1', 1, { endpoint, ...(userAgent ? { userAgent } : {}) });

describe('browserOf: the browser and target of a subscription', () => {
  it('names the browser family by the push service when no user agent was sent', () => {
    expect(browserOf(web(ENDPOINTS.fcm))).toEqual({ name: 'chrome', target: 'web-push' });
    expect(browserOf(web(ENDPOINTS.mozilla))).toEqual({ name: 'firefox', target: 'web-push' });
    expect(browserOf(web(ENDPOINTS.windows))).toEqual({ name: 'edge', target: 'web-push' });
    expect(browserOf(web(ENDPOINTS.apple))).toEqual({ name: 'safari', target: 'web-push' });
    expect(browserOf(web(ENDPOINTS.unknown))).toEqual({ name: 'other', target: 'web-push' });
  });

  it('is Safari on the legacy target for an APNs device token, whatever else is known', () => {
    expect(browserOf(safariSubscription('u1'))).toEqual({ name: 'safari', target: 'safari-legacy' });
    expect(browserOf(safariSubscription('u1', { userAgent: AGENTS.chrome }))).toEqual({
      name: 'safari',
      target: 'safari-legacy',
    });
  });

  it('tells the Chromium browsers on FCM apart by the user agent', () => {
    expect(browserOf(web(ENDPOINTS.fcm, AGENTS.chrome)).name).toBe('chrome');
    expect(browserOf(web(ENDPOINTS.fcm, AGENTS.edgeAndroid)).name).toBe('edge');
    expect(browserOf(web(ENDPOINTS.fcm, AGENTS.opera)).name).toBe('other');
    expect(browserOf(web(ENDPOINTS.fcm, AGENTS.samsung)).name).toBe('other');
    expect(browserOf(web(ENDPOINTS.mozilla, AGENTS.firefoxAndroid)).name).toBe('firefox');
    expect(browserOf(web(ENDPOINTS.windows, AGENTS.edge)).name).toBe('edge');
    expect(browserOf(web(ENDPOINTS.apple, AGENTS.safari)).name).toBe('safari');
    expect(browserOf(web(ENDPOINTS.apple, AGENTS.safariIos)).name).toBe('safari');
    expect(browserOf(web(ENDPOINTS.unknown, AGENTS.firefox)).name).toBe('firefox');
  });

  it('falls back to the push service when the user agent names no browser it knows', () => {
    expect(browserOf(web(ENDPOINTS.fcm, AGENTS.headlessChrome)).name).toBe('chrome');
    expect(browserOf(web(ENDPOINTS.mozilla, 'curl/8.5.0')).name).toBe('firefox');
  });
});
