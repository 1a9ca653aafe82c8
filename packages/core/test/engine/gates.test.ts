import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { capSpecs } from '../../src/engine/deliver/gates/caps.js';
import { checkDnd, dndWindowAround } from '../../src/engine/deliver/gates/dnd.js';
import { nextMinute, throttleSpec } from '../../src/engine/deliver/gates/throttle.js';
import { lateReason } from '../../src/engine/deliver/gates/window.js';
import { atWallTime } from '../../src/engine/schedule/local-time.js';
import { PASSED_GRACE_MS, userDue } from '../../src/engine/schedule/wave.js';
import { type Campaign, DndWindow } from '../../src/index.js';
import { campaign as campaignRow } from '../../src/testing/fixtures.js';

const window = (start: string, end: string, action: 'delay' | 'discard' = 'delay') =>
  DndWindow.parse({ start, end, action });

describe('Do-Not-Disturb window', () => {
  const night = window('21:00', '09:00');
  it.each([
    ['2026-01-10T20:59:00Z', false],
    ['2026-01-10T21:00:00Z', true],
    ['2026-01-10T23:59:00Z', true],
    ['2026-01-11T00:00:00Z', true],
    ['2026-01-11T08:59:00Z', true],
    ['2026-01-11T09:00:00Z', false],
  ])('21:00–09:00 in UTC at %s: inside = %s', (at, inside) => {
    expect(checkDnd(night, 'UTC', new Date(at)).inside).toBe(inside);
  });

  it('ends at the next local end: tomorrow from the evening part, today from the morning part', () => {
    const evening = checkDnd(night, 'Asia/Tokyo', new Date('2026-01-10T13:00:00Z')); // 22:00 JST
    const morning = checkDnd(night, 'Asia/Tokyo', new Date('2026-01-10T20:00:00Z')); // 05:00 JST next day
    expect(evening.inside && evening.endsAt.toISOString()).toBe('2026-01-11T00:00:00.000Z');
    expect(morning.inside && morning.endsAt.toISOString()).toBe('2026-01-11T00:00:00.000Z');
  });

  it('a window that does not cross midnight, and an empty one (start = end)', () => {
    const lunch = window('12:00', '14:00', 'discard');
    expect(checkDnd(lunch, 'UTC', new Date('2026-01-10T13:00:00Z'))).toMatchObject({
      inside: true,
      action: 'discard',
    });
    expect(checkDnd(lunch, 'UTC', new Date('2026-01-10T14:00:00Z')).inside).toBe(false);
    expect(checkDnd(window('10:00', '10:00'), 'UTC', new Date('2026-01-10T10:00:00Z')).inside).toBe(false);
  });

  it('Lord Howe (30-minute DST): an end at 02:15 in the spring gap is shifted forward by the gap', () => {
    // 2026-10-04 02:00 LHST → 02:30 LHDT: 02:15 does not exist.
    const check = checkDnd(window('22:00', '02:15'), 'Australia/Lord_Howe', new Date('2026-10-03T14:00:00Z'));
    expect(check.inside).toBe(true);
    if (!check.inside) return;
    expect(
      DateTime.fromJSDate(check.endsAt, { zone: 'Australia/Lord_Howe' }).toFormat('yyyy-MM-dd HH:mm'),
    ).toBe('2026-10-04 02:45');
  });
});

describe('the DND window around a moment (explain)', () => {
  const night = window('22:00', '07:00');
  it('spans the fall-back night in Paris: 22:00 CEST to 07:00 CET is 10 hours', () => {
    const expected = { from: new Date('2026-10-24T20:00:00Z'), to: new Date('2026-10-25T06:00:00Z') };
    expect(dndWindowAround(night, 'Europe/Paris', new Date('2026-10-24T12:00:00Z'))).toEqual(expected);
    expect(dndWindowAround(night, 'Europe/Paris', new Date('2026-10-25T03:00:00Z'))).toEqual(expected);
    expect(dndWindowAround(night, 'Europe/Paris', new Date('2026-10-24T21:00:00Z'))).toEqual(expected);
  });

  it('is null for an empty window', () => {
    expect(dndWindowAround(window('10:00', '10:00'), 'UTC', new Date('2026-01-01T00:00:00Z'))).toBeNull();
  });
});

describe('wall-clock times', () => {
  it('in a 30-minute overlap (Lord Howe, April) picks the first occurrence', () => {
    const day = DateTime.fromISO('2026-04-05', { zone: 'Australia/Lord_Howe' });
    const at = atWallTime(day, 1, 45);
    expect(at.toFormat('HH:mm')).toBe('01:45');
    expect(at.minus({ minutes: 30 }).toFormat('HH:mm')).toBe('01:15');
    expect(at.plus({ minutes: 30 }).toFormat('HH:mm')).toBe('01:45');
  });
});

describe('global cap counters', () => {
  const now = new Date('2026-05-01T11:30:00Z');
  it('key the day and the ISO week in the user zone, and expire after the local reset', () => {
    const kiri = capSpecs({ perUser: { perDay: 3, perWeek: 10 } }, 'u', 'Pacific/Kiritimati', now);
    const pago = capSpecs({ perUser: { perDay: 3, perWeek: 10 } }, 'u', 'Pacific/Pago_Pago', now);
    expect(kiri.map((s) => s.key)).toEqual(['herald:cap:d:u:2026-05-02', 'herald:cap:w:u:2026-W18']);
    expect(pago.map((s) => s.key)).toEqual(['herald:cap:d:u:2026-05-01', 'herald:cap:w:u:2026-W18']);
    expect(kiri.map((s) => s.limit)).toEqual([3, 10]);
    for (const spec of [...kiri, ...pago]) expect(spec.expiresAt > now).toBe(true);
  });

  it('are absent without limits', () => {
    expect(capSpecs({}, 'u', 'UTC', now)).toEqual([]);
  });
});

describe('throttle and lateness', () => {
  it('buckets sends by minute', () => {
    const a = throttleSpec('c', 5, new Date('2026-05-01T10:00:59.999Z'));
    const b = throttleSpec('c', 5, new Date('2026-05-01T10:01:00Z'));
    expect(a.key).not.toBe(b.key);
    expect(a.limit).toBe(5);
    expect(nextMinute(new Date('2026-05-01T10:00:30Z')).toISOString()).toBe('2026-05-01T10:01:00.000Z');
  });

  it('a wait is too late after end, after cut-off, or past the TTL counted from the due time', () => {
    const c = (when: object): Campaign =>
      campaignRow('c', { when: { schedule: { type: 'once', at: '2026-05-01T10:00:00Z' }, ...when } });
    const due = new Date('2026-05-01T10:00:00Z');
    const until = new Date('2026-05-01T12:00:00Z');
    expect(lateReason(c({ end: '2026-05-01T11:00:00Z' }), until, due)).toBe('ended');
    expect(lateReason(c({ cutoff: '2026-05-01T11:00:00Z' }), until, due)).toBe('cutoff');
    const short = { ...c({}), what: { ...c({}).what, ttlSeconds: 3600 } };
    expect(lateReason(short, until, due)).toBe('expired');
    expect(lateReason(c({}), until, due)).toBeNull();
  });
});

describe('per-user due time', () => {
  const wave = (ifPassed: 'skip' | 'sendNow', start?: string) =>
    campaignRow('c', {
      when: {
        schedule: { type: 'once', at: '2026-06-10T09:00:00Z' },
        timezone: 'UTC',
        userTimezone: { ifPassed },
        ...(start ? { start } : {}),
      },
    });
  const nominal = new Date('2026-06-10T09:00:00Z');

  it('is the wall-clock time in the user zone; passed beyond the grace when the run started later', () => {
    const startedAt = new Date('2026-06-09T19:00:00Z');
    expect(userDue(wave('skip'), nominal, 'Europe/Paris', startedAt)).toEqual({
      kind: 'due',
      at: new Date('2026-06-10T07:00:00Z'),
    });
    const late = new Date(Date.parse('2026-06-10T07:00:00Z') + PASSED_GRACE_MS + 1);
    expect(userDue(wave('skip'), nominal, 'Europe/Paris', late).kind).toBe('passed');
    const justLate = new Date(Date.parse('2026-06-10T07:00:00Z') + PASSED_GRACE_MS);
    expect(userDue(wave('skip'), nominal, 'Europe/Paris', justLate).kind).toBe('due');
  });

  it('never before start', () => {
    const c = wave('sendNow', '2026-06-10T08:00:00Z');
    expect(userDue(c, nominal, 'Europe/Berlin', new Date('2026-06-09T19:00:00Z'))).toEqual({
      kind: 'passed',
      at: new Date('2026-06-10T08:00:00Z'),
    });
    expect(userDue(c, nominal, 'America/New_York', new Date('2026-06-09T19:00:00Z'))).toEqual({
      kind: 'due',
      at: new Date('2026-06-10T13:00:00Z'),
    });
  });
});
