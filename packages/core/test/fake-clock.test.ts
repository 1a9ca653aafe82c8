import { describe, expect, it } from 'vitest';
import { systemClock } from '../src/adapters/system-clock.js';
import { fakeClock } from '../src/testing/fake-clock.js';

const START = '2026-03-01T09:00:00.000Z';
const iso = (date: Date) => date.toISOString();

describe('fakeClock', () => {
  it('starts at the given instant (string or Date) and stands still', () => {
    expect(iso(fakeClock(START).now())).toBe(START);
    expect(iso(fakeClock(new Date(START)).now())).toBe(START);
    expect(() => fakeClock('not a date')).toThrow(RangeError);
  });

  it('returns a fresh Date each time, so callers cannot move time by mutating it', () => {
    const clock = fakeClock(START);
    clock.now().setUTCFullYear(1999);
    expect(iso(clock.now())).toBe(START);
  });

  it('advance and set move time', async () => {
    const clock = fakeClock(START);
    await clock.advance(90_000);
    expect(iso(clock.now())).toBe('2026-03-01T09:01:30.000Z');
    await clock.set('2026-03-29T01:30:00Z');
    expect(iso(clock.now())).toBe('2026-03-29T01:30:00.000Z');
    await clock.set(new Date(START));
    expect(iso(clock.now())).toBe(START);
    await expect(async () => clock.advance(-1)).rejects.toThrow(RangeError);
  });

  it('wakes a sleeper when fake time reaches its deadline, not before', async () => {
    const clock = fakeClock(START);
    let woke = false;
    const sleeping = clock.sleep(1000).then(() => {
      woke = true;
    });
    expect(clock.pendingSleeps()).toBe(1);
    await clock.advance(999);
    expect(woke).toBe(false);
    expect(clock.pendingSleeps()).toBe(1);
    await clock.advance(1);
    await sleeping;
    expect(woke).toBe(true);
    expect(clock.pendingSleeps()).toBe(0);
  });

  it('wakes sleepers in deadline order, each seeing its own deadline as now', async () => {
    const clock = fakeClock(START);
    const seen: string[] = [];
    const sleeper = (ms: number, label: string) =>
      clock.sleep(ms).then(() => seen.push(`${label}@${iso(clock.now())}`));
    const all = Promise.all([
      sleeper(3000, 'c'),
      sleeper(1000, 'a'),
      sleeper(2000, 'b'),
      sleeper(1000, 'a2'),
    ]);
    await clock.advance(10_000);
    await all;
    expect(seen).toEqual([
      'a@2026-03-01T09:00:01.000Z',
      'a2@2026-03-01T09:00:01.000Z',
      'b@2026-03-01T09:00:02.000Z',
      'c@2026-03-01T09:00:03.000Z',
    ]);
    expect(iso(clock.now())).toBe('2026-03-01T09:00:10.000Z');
  });

  it('runs a sleep-then-work loop once per period crossed by one advance', async () => {
    const clock = fakeClock(START);
    const controller = new AbortController();
    const ticks: string[] = [];
    const loop = (async () => {
      while (!controller.signal.aborted) {
        await clock.sleep(60_000, controller.signal);
        if (!controller.signal.aborted) ticks.push(iso(clock.now()));
      }
    })();
    await clock.advance(5 * 60_000 + 30_000);
    expect(ticks).toEqual([1, 2, 3, 4, 5].map((m) => `2026-03-01T09:0${m}:00.000Z`));
    controller.abort();
    await loop;
    expect(clock.pendingSleeps()).toBe(0);
  });

  it('ends a sleep at once when its signal aborts, and never starts one on an aborted signal', async () => {
    const clock = fakeClock(START);
    const controller = new AbortController();
    const sleeping = clock.sleep(60_000, controller.signal);
    expect(clock.pendingSleeps()).toBe(1);
    controller.abort();
    await sleeping;
    expect(clock.pendingSleeps()).toBe(0);
    expect(iso(clock.now())).toBe(START);
    await clock.sleep(60_000, controller.signal);
    expect(clock.pendingSleeps()).toBe(0);
  });

  it('resolves a sleep of zero or less at once', async () => {
    const clock = fakeClock(START);
    await clock.sleep(0);
    await clock.sleep(-5);
    expect(clock.pendingSleeps()).toBe(0);
  });

  it('set to an earlier time wakes nobody', async () => {
    const clock = fakeClock(START);
    let woke = false;
    void clock.sleep(1000).then(() => {
      woke = true;
    });
    await clock.set('2026-03-01T08:00:00Z');
    expect(woke).toBe(false);
    // The deadline stays an absolute instant: it is an hour and a second away now.
    await clock.advance(3_600_000);
    expect(woke).toBe(false);
    await clock.advance(1000);
    expect(woke).toBe(true);
  });
});

describe('systemClock', () => {
  it('reads the wall clock', () => {
    const before = Date.now();
    const now = systemClock().now().getTime();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });

  it('sleeps for real', async () => {
    const started = performance.now();
    await systemClock().sleep(30);
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
  });

  it('ends a sleep when the signal aborts', async () => {
    const controller = new AbortController();
    const started = performance.now();
    const sleeping = systemClock().sleep(10_000, controller.signal);
    setTimeout(() => controller.abort(), 10);
    await sleeping;
    expect(performance.now() - started).toBeLessThan(1000);
    const aborted = performance.now();
    await systemClock().sleep(10_000, controller.signal);
    expect(performance.now() - aborted).toBeLessThan(100);
  });
});
