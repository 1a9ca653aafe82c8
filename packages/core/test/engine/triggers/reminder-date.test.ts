import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { plusOffset, readDate } from '../../../src/engine/triggers/reminder-date.js';

/** The rule as first written (one luxon call chain, the zone applied to every date): the reference. */
function reference(value: string | number, zone: string, offset: { amount: number; unit: string }) {
  const date =
    typeof value === 'number' ? DateTime.fromMillis(value, { zone }) : DateTime.fromISO(value, { zone });
  return date.isValid ? date.plus({ [offset.unit]: offset.amount }).toJSDate() : null;
}

function due(
  value: string | number,
  zone: string,
  offset: { amount: number; unit: 'minutes' | 'hours' | 'days' },
) {
  const date = readDate(value, zone);
  return date ? plusOffset(date, zone, offset) : null;
}

const ZONES = [
  'UTC',
  'Europe/Paris',
  'America/New_York',
  'Australia/Lord_Howe',
  'Asia/Kathmandu',
  'Pacific/Apia',
];
const VALUES: Array<string | number> = [
  // Each side of the 2026 DST changes (New York 8 Mar / 1 Nov, Paris 29 Mar / 25 Oct, Lord Howe's half hour).
  '2026-03-09T08:00',
  '2026-03-08T02:30',
  '2026-03-30T01:30:00Z',
  '2026-03-29T02:30',
  '2026-10-25T02:30:00+02:00',
  '2026-11-01T01:30',
  '2026-11-02T06:30:00.250Z',
  '2026-04-05T02:15',
  '2026-10-04T02:15:00+10:30',
  '2026-12-31T23:59:59-05:00',
  '2026-12-20',
  '2026-W51-3T10:00Z',
  // Landing one day later (or earlier) in a gap or an overlap, Lord Howe's half-hour change, Samoa's skipped day.
  '2026-03-07T02:30',
  '2026-03-10T02:30',
  '2026-10-31T01:30',
  '2026-04-04T01:45',
  '2026-04-05T01:45',
  '2026-10-03T02:15',
  '2026-10-04T02:15',
  '2011-12-29T10:00',
  '2011-12-31T10:00',
  // Before standard time, a zone's offset had seconds (local mean time).
  '1880-06-01T12:00',
  Date.UTC(2026, 2, 9, 13, 0),
  Date.UTC(2026, 9, 25, 1, 30),
];
const OFFSETS = [
  { amount: -1, unit: 'days' },
  { amount: -7, unit: 'days' },
  { amount: 1, unit: 'days' },
  { amount: -2, unit: 'hours' },
  { amount: 25, unit: 'hours' },
  { amount: -90, unit: 'minutes' },
  { amount: 0, unit: 'days' },
] as const;

describe('eventDate reminder dates', () => {
  it('are the instants luxon gives for the date read in the user zone plus the offset, across DST changes', () => {
    let compared = 0;
    for (const zone of ZONES) {
      for (const value of VALUES) {
        for (const offset of OFFSETS) {
          expect(
            due(value, zone, offset)?.toISOString(),
            `${value} in ${zone} ${offset.amount} ${offset.unit}`,
          ).toBe(reference(value, zone, offset)?.toISOString());
          compared++;
        }
      }
    }
    expect(compared).toBe(ZONES.length * VALUES.length * OFFSETS.length);
  });

  it('read no date from text that is not ISO 8601, nor from epoch milliseconds beyond the Date range', () => {
    for (const value of ['next tuesday', '2026-02-30T10:00:00Z', '', 'T10:00']) {
      expect(readDate(value, 'Europe/Paris'), value).toBeNull();
    }
    expect(readDate(9e15, 'Europe/Paris')).toBeNull();
    expect(readDate(true, 'Europe/Paris')).toBeNull();
    expect(readDate(null, 'Europe/Paris')).toBeNull();
  });
});
