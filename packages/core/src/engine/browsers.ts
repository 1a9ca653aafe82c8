import type { Browser, BrowserClass, Subscription } from '../model/index.js';

/**
 * Which browser a subscription belongs to, for stats by browser
 * (docs/CAMPAIGNS.md, "By browser"). At the top of the engine, not in
 * observe/: deliver/ classifies each delivery when it records it, and
 * deliver/ may not import observe/.
 *
 * The push service's host says which family the browser is (FCM: Chrome
 * and the other Chromium browsers; Mozilla autopush: Firefox; WNS: Edge on
 * Windows; Apple: Safari). The user agent the SDK sent at subscribe, when
 * it names a browser, says which one it is: Edge on Android and Opera push
 * through FCM too.
 */
export function browserOf(subscription: Subscription): BrowserClass {
  if (subscription.target === 'safari') return { name: 'safari', target: 'safari-legacy' };
  const fromAgent = subscription.userAgent === undefined ? null : browserOfUserAgent(subscription.userAgent);
  return { name: fromAgent ?? browserOfEndpoint(subscription.endpoint), target: 'web-push' };
}

/** The browser family of a push service, by the endpoint's host. */
function browserOfEndpoint(endpoint: string): Browser {
  let host: string;
  try {
    host = new URL(endpoint).hostname.toLowerCase();
  } catch {
    return 'other';
  }
  if (host === 'fcm.googleapis.com' || host === 'android.googleapis.com') return 'chrome';
  if (host === 'updates.push.services.mozilla.com') return 'firefox';
  if (host.endsWith('.notify.windows.com')) return 'edge';
  if (host === 'web.push.apple.com') return 'safari';
  return 'other';
}

/**
 * The browser a user agent names, or null when it names none Herald knows.
 * Order matters: Chromium browsers also say `Chrome/` and `Safari/`, Chrome
 * also says `Safari/`, so the more specific tokens are looked at first.
 */
const AGENT_TOKENS: readonly [RegExp, Browser][] = [
  [/\bEdg(?:e|A|iOS)?\//, 'edge'],
  [/\b(?:OPR|Opera|SamsungBrowser|YaBrowser|UCBrowser|Vivaldi)\//, 'other'],
  [/\b(?:Firefox|FxiOS)\//, 'firefox'],
  [/\b(?:Chrome|CriOS|Chromium)\//, 'chrome'],
  [/\bVersion\/[\d.]+.*\bSafari\//, 'safari'],
];

function browserOfUserAgent(userAgent: string): Browser | null {
  for (const [token, browser] of AGENT_TOKENS) if (token.test(userAgent)) return browser;
  return null;
}
