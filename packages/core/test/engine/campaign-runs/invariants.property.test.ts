import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import type { CampaignInput } from '../../../src/index.js';
import { campaignRun } from './harness.js';

/**
 * The engine's invariants, over random campaigns, zones, windows
 * and caps: never before start or after end, never inside DND, never over
 * a user's daily cap, at most one message per recipient per occurrence.
 */
const ZONES = [
  'UTC',
  'Pacific/Kiritimati',
  'Pacific/Pago_Pago',
  'America/New_York',
  'Europe/Paris',
  'Australia/Lord_Howe',
  'Asia/Kolkata',
] as const;
const BASE = Date.parse('2026-03-27T00:00:00Z'); // a DST weekend in Europe, a week after the US change
const HOUR = 3_600_000;

const time = fc
  .tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 30))
  .map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
const instant = fc
  .integer({ min: 0, max: 72 * 4 })
  .map((quarters) => new Date(BASE + quarters * 15 * 60_000));
const dnd = fc.record({
  start: time,
  end: time,
  action: fc.constantFrom('delay' as const, 'discard' as const),
});

const campaignArb = fc.record({
  schedule: fc.oneof(
    instant.map((at) => ({ type: 'once' as const, at: at.toISOString() })),
    time.map((t) => ({ type: 'recurring' as const, time: t, every: { unit: 'day' as const, interval: 1 } })),
  ),
  timezone: fc.constantFrom(...ZONES),
  startOffsetH: fc.option(fc.integer({ min: 0, max: 48 }), { nil: undefined }),
  lengthH: fc.option(fc.integer({ min: 1, max: 72 }), { nil: undefined }),
  userTimezone: fc.option(fc.constantFrom('skip' as const, 'sendNow' as const), { nil: undefined }),
  ownDnd: fc.option(dnd, { nil: undefined }),
  ttlHours: fc.integer({ min: 1, max: 48 }),
  throttle: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
  ignoreGlobalLimits: fc.boolean(),
});

const scenario = fc.record({
  users: fc.array(fc.constantFrom(...ZONES), { minLength: 2, maxLength: 5 }),
  perDay: fc.integer({ min: 1, max: 2 }),
  globalDnd: fc.option(dnd, { nil: undefined }),
  campaigns: fc.array(campaignArb, { minLength: 1, maxLength: 3 }),
});

function insideWindow(window: { start: string; end: string }, at: Date, zone: string): boolean {
  const local = DateTime.fromJSDate(at, { zone });
  const minute = local.hour * 60 + local.minute;
  const toMinutes = (t: string) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3));
  const start = toMinutes(window.start);
  const end = toMinutes(window.end);
  if (start === end) return false;
  return start < end ? minute >= start && minute < end : minute >= start || minute < end;
}

describe('engine invariants over whole campaign runs (fast-check)', () => {
  it('never before start or after end, never inside DND, never over cap, at most once per occurrence', async () => {
    let totalSent = 0;
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const b = campaignRun({
          start: new Date(BASE).toISOString(),
          limits: { perUser: { perDay: s.perDay } },
          ...(s.globalDnd ? { dnd: s.globalDnd } : {}),
        });
        const zoneOfUser = new Map<string, string>();
        for (const [i, zone] of s.users.entries()) {
          await b.addUser(`u${i}`, zone);
          zoneOfUser.set(`u${i}`, zone);
        }
        type Spec = (typeof s.campaigns)[number] & { start?: Date; end?: Date };
        const specs = new Map<string, Spec>();
        for (const c of s.campaigns) {
          const start = c.startOffsetH === undefined ? undefined : new Date(BASE + c.startOffsetH * HOUR);
          const end =
            c.lengthH === undefined ? undefined : new Date((start?.getTime() ?? BASE) + c.lengthH * HOUR);
          const when: CampaignInput['when'] = {
            schedule: c.schedule,
            timezone: c.timezone,
            ...(start ? { start } : {}),
            ...(end ? { end } : {}),
            ...(c.userTimezone ? { userTimezone: { ifPassed: c.userTimezone } } : {}),
            ...(c.ownDnd ? { dnd: c.ownDnd } : {}),
            ...(c.throttle ? { throttlePerMinute: c.throttle } : {}),
          };
          try {
            const launched = await b.launch({
              when,
              what: { title: 'T', body: 'B', deeplink: 'https://x.test/', ttlSeconds: c.ttlHours * 3600 },
              setup: { ignoreGlobalLimits: c.ignoreGlobalLimits },
            });
            specs.set(launched.id, { ...c, ...(start ? { start } : {}), ...(end ? { end } : {}) });
          } catch (error) {
            // A schedule with no moment between start and end is refused at schedule time: fine.
            expect((error as Error).message).toMatch(/no moment between start and end/);
          }
        }
        await b.runUntil(new Date(BASE + 6 * 24 * HOUR));

        const perOccurrence = new Set<string>();
        const perUserDay = new Map<string, number>();
        for (const m of b.sent) {
          const spec = specs.get(m.campaignId) as Spec;
          const zone = zoneOfUser.get(m.userId) as string;
          // Never before start or after end.
          if (spec.start) expect(m.at.getTime()).toBeGreaterThanOrEqual(spec.start.getTime());
          if (spec.end) expect(m.at.getTime()).toBeLessThanOrEqual(spec.end.getTime());
          // Never inside DND (the campaign's own window, else the global one), in the user's zone.
          const window = spec.ownDnd ?? s.globalDnd;
          if (window) expect(insideWindow(window, m.at, zone), `${m.at.toISOString()} ${zone}`).toBe(false);
          // At most once per occurrence.
          const key = `${m.campaignId}|${m.occurrence}|${m.userId}`;
          expect(perOccurrence.has(key)).toBe(false);
          perOccurrence.add(key);
          // Never over the daily cap, days counted in the user's zone.
          if (!spec.ignoreGlobalLimits) {
            const day = `${m.userId}|${DateTime.fromJSDate(m.at, { zone }).toISODate()}`;
            perUserDay.set(day, (perUserDay.get(day) ?? 0) + 1);
            expect(perUserDay.get(day)).toBeLessThanOrEqual(s.perDay);
          }
        }
        // A campaign with an end leaves nothing pending once it is over: every decision ends somewhere.
        for (const [id, spec] of specs) {
          if (spec.end) expect((await b.herald.campaigns.stats(id)).pending).toBe(0);
        }
        totalSent += b.sent.length;
      }),
      {
        seed: Number(process.env.HERALD_FC_SEED ?? 20261125),
        numRuns: Number(process.env.HERALD_FC_RUNS ?? 12),
        endOnFailure: true,
      },
    );
    // The scenarios are not vacuous: many messages did go out.
    expect(totalSent).toBeGreaterThan(50);
  }, 60_000);
});
