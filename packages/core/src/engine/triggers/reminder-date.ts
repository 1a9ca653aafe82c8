import { DateTime } from 'luxon';
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
 */
export function plusOffset(date: DateTime, zone: string, offset: ReminderOffset): Date {
  if (offset.unit === 'days') return date.setZone(zone).plus({ days: offset.amount }).toJSDate();
  return new Date(date.toMillis() + offset.amount * UNIT_MS[offset.unit]);
}
