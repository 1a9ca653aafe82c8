/**
 * Launches Debian's Firefox ESR headless through puppeteer-core over WebDriver
 * BiDi, with a fresh profile (puppeteer makes one and deletes it on close),
 * its push service pointed at a local Mozilla-protocol stand-in, and
 * everything that would reach the internet switched off.
 */
import puppeteer, { type Browser } from 'puppeteer-core';
import { withTimeout } from './steps.js';

export const FIREFOX = process.env.HERALD_FIREFOX ?? '/usr/bin/firefox-esr';

export interface FirefoxOptions {
  /** `ws://127.0.0.1:PORT` of the push stand-in (dom.push.serverURL). */
  pushServerUrl: string;
  /** Environment for the browser: the D-Bus session address of the fake notification server, TZ. */
  env: Record<string, string>;
}

export function firefoxPrefs(pushServerUrl: string): Record<string, unknown> {
  return {
    // Push through the stand-in, over ws:// on loopback.
    'dom.push.serverURL': pushServerUrl,
    'dom.push.testing.allowInsecureServerURL': true,
    // The remote agent's recommended prefs turn the push connection off; a user pref wins over them.
    'dom.push.connection.enabled': true,
    'dom.push.enabled': true,
    'dom.serviceWorkers.enabled': true,
    // Notification permission stays "ask" (not `permissions.default.desktop-notification: 1`): with
    // it granted up front the soft prompt never shows. The test grants it over WebDriver BiDi
    // (permissions.setPermission) in place of the browser's doorhanger, which headless has no way to click.
    // Shown through the desktop's notification server (the fake one on the private D-Bus).
    'alerts.useSystemBackend': true,
    // Quiet and offline: no captive-portal, connectivity, update, telemetry or default-browser checks.
    'network.connectivity-service.enabled': false,
    'network.captive-portal-service.enabled': false,
    'network.manage-offline-status': false,
    'browser.shell.checkDefaultBrowser': false,
    'app.update.enabled': false,
    'app.update.auto': false,
    'datareporting.policy.dataSubmissionEnabled': false,
    'toolkit.telemetry.enabled': false,
    'browser.safebrowsing.malware.enabled': false,
    'browser.safebrowsing.phishing.enabled': false,
    'extensions.update.enabled': false,
    'browser.newtabpage.enabled': false,
    'browser.startup.homepage_override.mstone': 'ignore',
    'remote-settings.server.url': 'http://127.0.0.1:9/',
    'services.settings.server': 'http://127.0.0.1:9/',
  };
}

export function launchFirefox({ pushServerUrl, env }: FirefoxOptions): Promise<Browser> {
  return withTimeout(
    puppeteer.launch({
      browser: 'firefox',
      executablePath: FIREFOX,
      headless: true,
      protocol: 'webDriverBiDi',
      env: { ...process.env, ...env },
      extraPrefsFirefox: firefoxPrefs(pushServerUrl),
    }),
    30_000,
    `launch ${FIREFOX}`,
  );
}
