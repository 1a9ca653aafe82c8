/**
 * Step guards for the end-to-end tests: every wait has a deadline and, when it
 * passes, fails with the name of the step that hung, so a broken run says
 * where it broke instead of hitting vitest's generic timeout.
 */

import { existsSync } from 'node:fs';
import { expect } from 'vitest';
import { waitFor, withTimeout } from '../../../../packages/service-worker/test/support/waits.js';

export { waitFor, withTimeout };

/** Runs one named step of a story, failing within `ms` (default 30 s) with the step's name. */
export function step<T>(name: string, run: () => Promise<T>, ms = 30_000): Promise<T> {
  return withTimeout(
    run().catch((error: unknown) => {
      throw new Error(`step failed: ${name}: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    }),
    ms,
    name,
  );
}

/** Stops everything a test started, last first, each on its own: one failing stop does not skip the others. */
export class Cleanup {
  private readonly stops: Array<{ name: string; stop: () => Promise<unknown> | unknown }> = [];

  add(name: string, stop: () => Promise<unknown> | unknown): void {
    this.stops.push({ name, stop });
  }

  async run(): Promise<void> {
    const failures: string[] = [];
    for (const { name, stop } of this.stops.splice(0).reverse()) {
      try {
        await withTimeout(Promise.resolve(stop()), 15_000, `stop ${name}`);
      } catch (error) {
        failures.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (failures.length > 0) throw new Error(`cleanup failed: ${failures.join('; ')}`);
  }
}

/** A check for waitFor that passes when `actual` equals `expected`, else fails saying what it saw. */
export function expectText(actual: string | null, expected: string): true {
  if (actual !== expected) throw new Error(`saw "${actual}"`);
  return true;
}

/** The example serves the BUILT SDK and service worker: say so plainly when they are missing. */
export function assertBuilt(): void {
  const root = new URL('../../../../packages/', import.meta.url);
  for (const file of [
    'browser-sdk/dist/index.js',
    'browser-sdk/dist/prompt.js',
    'service-worker/dist/herald-sw.js',
  ]) {
    if (!existsSync(new URL(file, root)))
      throw new Error(`packages/${file} is missing: run \`npm run build\` before the end-to-end tests`);
  }
}

/** What the story checks of a campaign's stats, from the engine or from the admin API alike. */
export interface StoryStats {
  sent: number;
  viewed: number;
  clicked: number;
  clickedByAction: Record<string, number>;
  conversions: { recipients: { conversions: number; revenue: number } };
}

/**
 * The story's last step: the campaign's stats come to 1 sent, 1 viewed,
 * 1 clicked (on the "shop" action) and 1 conversion worth 42.5.
 */
export async function expectStoryStats(read: () => Promise<StoryStats>): Promise<void> {
  const stats = await step('campaigns.stats counts sent, viewed, clicked and the conversion', () =>
    waitFor(
      async () => {
        const s = await read();
        return s.sent === 1 && s.viewed === 1 && s.clicked === 1 && s.conversions.recipients.conversions === 1
          ? s
          : null;
      },
      'stats with 1 sent, 1 viewed, 1 clicked, 1 converted',
      20_000,
    ),
  );
  expect(stats.clickedByAction).toEqual({ shop: 1 });
  expect(stats.conversions.recipients.revenue).toBe(42.5);
}

/** Calls the admin API (under /admin/api) with the bearer token; throws with the body on a non-2xx answer. */
export type AdminCall = <T>(method: string, path: string, body?: unknown) => Promise<T>;

/** What the old example route did in one call: create a draft over the admin API, then schedule it. */
export async function createAndSchedule(
  admin: AdminCall,
  campaign: unknown,
): Promise<{ id: string; status: string }> {
  const draft = await admin<{ id: string }>('POST', '/campaigns', campaign);
  return admin<{ id: string; status: string }>('POST', `/campaigns/${draft.id}/schedule`);
}
