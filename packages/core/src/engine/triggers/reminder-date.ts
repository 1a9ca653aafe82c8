import { DateTime, IANAZone } from 'luxon';
import type { Campaign, JsonValue } from '../../model/index.js';
import { UNIT_MS } from './inaction.js';

/** The due date of an eventDate reminder: the date an event names, plus the campaign's offset. */

type ReminderOffset = Extract<Campaign['when']['schedule'], { type: 'eventDate' }>['offset'];

/**
 * A date read as an instant. Why not `DateTime.fromISO(value, { zone })`: for a date carrying its
 * own offset (`…Z`, `…+02:00`: what `toISOString` writes) that converts the result into the zone,
 * and each conversion consults the zone's rules through `Intl` (tens of µs, most of a reminder's
 * cost); `setZone: true` keeps the date's own offset, the same instant, and `plusOffset` converts
 * only when a day offset needs the zone's calendar. A date without an offset is read in `zone`, as
 * before; epoch milliseconds are an instant, kept in UTC.
 */
export function readDate(value: JsonValue | undefined, zone: string): DateTime | null {
  const date =
    typeof value === 'number' && Number.isFinite(value)
      ? DateTime.fromMillis(value, { zone: 'utc' })
      : typeof value === 'string'
        ? DateTime.fromISO(value, { zone, setZone: true })
        : null;
  return date?.isValid ? date : null;
}

/**
 * The date plus the offset as luxon's `plus` counts it in `zone`: minutes and hours are spans of
 * time added to the instant (whatever the zone's rules say), days move the wall-clock date in the
 * zone and keep its time across a DST change.
 *
 * Why not `date.setZone(zone).plus({ days })`: that builds three DateTimes and asks the zone's
 * rules (`Intl`, about 10 µs a question) three or four times; the same rule asks them twice,
 * three times across a change.
 */
export function plusOffset(date: DateTime, zone: string, offset: ReminderOffset): Date {
  const instant = date.toMillis();
  if (offset.unit !== 'days') return new Date(instant + offset.amount * UNIT_MS[offset.unit]);
  const rules = IANAZone.create(zone);
  const before = rules.offset(instant);
  // The wall-clock time in the zone, as a UTC time value (whole milliseconds, as a Date holds it),
  // moved by whole days: UTC days all have 24 hours.
  const local = Math.trunc(instant + before * 60 * 1000) + offset.amount * UNIT_MS.days;
  return new Date(instantOfLocal(local, before, rules));
}

/**
 * The instant a wall-clock time names in a zone, found as luxon finds it (its `fixOffset`): try the
 * offset the date had, then the offset found there. In a gap (clocks put forward) the time is read
 * with the offset before the change, which lands after it; in an overlap, the offset tried first
 * (the date's own, when it still holds) wins.
 */
function instantOfLocal(local: number, guess: number, rules: IANAZone): number {
  let instant = local - guess * 60 * 1000;
  const found = rules.offset(instant);
  if (found === guess) return instant;
  instant -= (found - guess) * 60 * 1000;
  const again = rules.offset(instant);
  if (again === found) return instant;
  return local - Math.min(found, again) * 60 * 1000;
}
