import { type BrowserContext, chromium } from 'playwright-core';
import type { FakeNotify } from './fake-notify.js';
import type { GcmStandIn } from './gcm-stand-in.js';

/** Debian's Chromium (never a downloaded browser); HERALD_CHROMIUM overrides the path. */
export const CHROMIUM = process.env.HERALD_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Headless Chromium on a fresh profile for the browser and end-to-end
 * suites: its notifications go to the fake D-Bus notification server, its
 * push registrations to the GCM stand-ins, and it stays off the network.
 */
export function launchTestChromium(
  userDataDir: string,
  options: { notify: FakeNotify; gcm: GcmStandIn; timezoneId: string; extraArgs?: string[] },
): Promise<BrowserContext> {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    env: { ...process.env, ...options.notify.env },
    timezoneId: options.timezoneId,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      ...(options.extraArgs ?? []),
      ...options.gcm.args,
    ],
  });
}
