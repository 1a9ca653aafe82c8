import { describe, expect, it } from 'vitest';
import { actAtFor, nominalFor } from '../../src/engine/schedule/next-due.js';
import { nextDueAt, When } from '../../src/index.js';
import { local } from './campaign-runs/harness.js';

const when = (input: unknown) => When.parse(input);

/** Every due instant of a rule from `notBefore`, up to `count`. */
function run(rule: unknown, notBefore: string, count: number, extra: object = {}): Date[] {
  const w = when({ schedule: rule, ...extra });
  const out: Date[] = [];
  let after: Date | null = null;
  for (let i = 0; i < count; i++) {
    const next = nextDueAt(w, after, new Date(notBefore));
    if (!next) break;
    out.push(next);
    after = next;
  }
  return out;
}

describe('recurring rules', () => {
  it('monthly on the 7th created on the 20th first runs on the 7th of next month', () => {
    const dates = run(
      { type: 'recurring', time: '10:00', every: { unit: 'month', dayOfMonth: 7 } },
      '2026-01-20T12:00:00Z',
      3,
      { timezone: 'Europe/Paris' },
    );
    expect(dates.map((d) => local(d, 'Europe/Paris'))).toEqual([
      '2026-02-07 10:00',
      '2026-03-07 10:00',
      '2026-04-07 10:00',
    ]);
  });

  it('monthly on the 7th created on the 7th after its time waits a month; before its time runs that day', () => {
    const rule = { type: 'recurring', time: '10:00', every: { unit: 'month', dayOfMonth: 7 } };
    expect(run(rule, '2026-01-07T10:00:01Z', 1)[0]?.toISOString()).toBe('2026-02-07T10:00:00.000Z');
    expect(run(rule, '2026-01-07T09:59:00Z', 1)[0]?.toISOString()).toBe('2026-01-07T10:00:00.000Z');
  });

  it('day 31 skips the months without one (no run on the 30th instead)', () => {
    const dates = run(
      { type: 'recurring', time: '08:00', every: { unit: 'month', dayOfMonth: 31 } },
      '2026-01-01T00:00:00Z',
      7,
    );
    expect(dates.map((d) => d.toISOString().slice(0, 10))).toEqual([
      '2026-01-31',
      '2026-03-31',
      '2026-05-31',
      '2026-07-31',
      '2026-08-31',
      '2026-10-31',
      '2026-12-31',
    ]);
  });

  it('Feb 29 (monthly on the 29th) runs in February only in leap years', () => {
    const dates = run(
      { type: 'recurring', time: '08:00', every: { unit: 'month', dayOfMonth: 29 } },
      '2027-01-01T00:00:00Z',
      14,
    );
    const februaries = dates.filter((d) => d.getUTCMonth() === 1).map((d) => d.toISOString().slice(0, 10));
    expect(februaries).toEqual(['2028-02-29']);
    expect(dates.map((d) => d.toISOString().slice(0, 7))).not.toContain('2027-02');
  });

  it('every 3 days counts from the first matching day on or after the start', () => {
    const dates = run(
      { type: 'recurring', time: '09:00', every: { unit: 'day', interval: 3 } },
      '2026-01-01T10:00:00Z',
      4,
      { start: '2026-01-01T10:00:00Z' },
    );
    expect(dates.map((d) => d.toISOString().slice(0, 10))).toEqual([
      '2026-01-02',
      '2026-01-05',
      '2026-01-08',
      '2026-01-11',
    ]);
  });

  it('weekly on Monday and Thursday, in the campaign zone, until end', () => {
    const dates = run(
      { type: 'recurring', time: '23:30', every: { unit: 'week', weekdays: [1, 4] } },
      '2026-03-01T00:00:00Z',
      10,
      { timezone: 'Asia/Tokyo', end: '2026-03-13T00:00:00Z' },
    );
    expect(dates.map((d) => local(d, 'Asia/Tokyo'))).toEqual([
      '2026-03-02 23:30',
      '2026-03-05 23:30',
      '2026-03-09 23:30',
      '2026-03-12 23:30',
    ]);
  });

  describe.each([
    {
      zone: 'America/New_York',
      gapDay: '2026-03-08',
      overlapDay: '2026-11-01',
      gap: '02:30',
      overlap: '01:30',
    },
    { zone: 'Europe/Paris', gapDay: '2026-03-29', overlapDay: '2026-10-25', gap: '02:30', overlap: '02:30' },
  ])('DST in $zone', ({ zone, gapDay, overlapDay, gap, overlap }) => {
    it(`a daily ${gap} in the spring-forward gap runs at 03:30, once, then ${gap} again`, () => {
      const from = new Date(new Date(`${gapDay}T00:00:00Z`).getTime() - 2 * 86_400_000).toISOString();
      const dates = run({ type: 'recurring', time: gap, every: { unit: 'day', interval: 1 } }, from, 4, {
        timezone: zone,
      });
      expect(dates.map((d) => local(d, zone))).toEqual([
        `${dayOffset(gapDay, -2)} ${gap}`,
        `${dayOffset(gapDay, -1)} ${gap}`,
        `${gapDay} 03:30`,
        `${dayOffset(gapDay, 1)} ${gap}`,
      ]);
    });

    it(`a daily ${overlap} in the fall-back overlap runs once, at its first occurrence`, () => {
      const from = `${dayOffset(overlapDay, -1)}T12:00:00Z`;
      const dates = run({ type: 'recurring', time: overlap, every: { unit: 'day', interval: 1 } }, from, 3, {
        timezone: zone,
      });
      expect(dates.map((d) => local(d, zone))).toEqual([
        `${overlapDay} ${overlap}`,
        `${dayOffset(overlapDay, 1)} ${overlap}`,
        `${dayOffset(overlapDay, 2)} ${overlap}`,
      ]);
      // The first occurrence: the instant one hour before the repeated one.
      const [first] = dates;
      const repeated = new Date((first as Date).getTime() + 3_600_000);
      expect(local(repeated, zone)).toBe(`${overlapDay} ${overlap}`);
      // Consecutive runs are 25 hours apart across the fall-back night, never twice that night.
      expect(((dates[1] as Date).getTime() - (first as Date).getTime()) / 3_600_000).toBe(25);
    });
  });
});

describe('one time and several dates', () => {
  it('a one-time campaign scheduled after its moment runs at once; dates skip those before it was created', () => {
    expect(
      nextDueAt(
        when({ schedule: { type: 'once', at: '2026-01-01T00:00:00Z' } }),
        null,
        new Date('2026-02-01'),
      ),
    ).toEqual(new Date('2026-01-01T00:00:00Z'));
    const dates = run(
      { type: 'dates', at: ['2026-03-01T10:00:00Z', '2026-01-01T10:00:00Z', '2026-02-01T10:00:00Z'] },
      '2026-01-15T00:00:00Z',
      5,
    );
    expect(dates.map((d) => d.toISOString())).toEqual([
      '2026-02-01T10:00:00.000Z',
      '2026-03-01T10:00:00.000Z',
    ]);
  });
});

describe('waves in the user time zone', () => {
  it('act at the moment the wall-clock time first comes (UTC+14), and map back to the occurrence', () => {
    const w = when({
      schedule: { type: 'once', at: '2026-06-10T09:00:00+02:00' },
      timezone: 'Europe/Paris',
      userTimezone: { ifPassed: 'skip' },
    });
    const nominal = new Date('2026-06-10T07:00:00Z');
    const actAt = actAtFor(w, nominal);
    expect(actAt.toISOString()).toBe('2026-06-09T19:00:00.000Z');
    expect(nominalFor(w, actAt)).toEqual(nominal);
  });
});

function dayOffset(day: string, days: number): string {
  return new Date(new Date(`${day}T12:00:00Z`).getTime() + days * 86_400_000).toISOString().slice(0, 10);
}
