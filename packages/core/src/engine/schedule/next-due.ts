import { DateTime } from 'luxon';
import { assertNever } from '../../errors/index.js';
import type { When } from '../../model/index.js';
import { atWallTime, parseTimeOfDay, sameWallTimeIn } from './local-time.js';

/** How far ahead a recurring rule is searched for its next day; a year covers every rule. */
const SEARCH_DAYS = 400;

/**
 * The first due instant of a scheduled campaign strictly after `after`
 * (or at/after `notBefore` when `after` is null), within start and end.
 * Returns null when the schedule has nothing left. Live schedules have no
 * due instants: events trigger them.
 *
 * Recurring rules, stated once:
 * - They run at `time` in the campaign's zone (per-user zones are applied at
 *   delivery). A time that does not exist on a day (DST spring-forward gap)
 *   runs at the same wall-clock time shifted forward by the gap (02:30 in a
 *   02:00–03:00 gap becomes 03:30); a time that occurs twice (fall-back
 *   overlap) runs once, at its first occurrence (`atWallTime`).
 * - Monthly on day 29–31 skips months that do not have that day (no run on
 *   the 30th "instead"); Feb 29 runs only in leap years.
 * - Every N days counts from the first matching day on or after the start.
 * - Nothing is due before `notBefore` (the campaign's start, or when it was
 *   scheduled): a monthly "on the 7th" scheduled on the 20th first runs on
 *   the 7th of next month. A one-time campaign is the exception: its single
 *   run is never dropped (`firstDueFrom` and `firstMoment` say when it acts).
 */
export function nextDueAt(when: When, after: Date | null, notBefore: Date): Date | null {
  const floor = maxDate(notBefore, when.start ?? notBefore);
  const candidate = nextCandidate(when, after, floor);
  if (!candidate) return null;
  if (when.end && candidate > when.end) return null;
  return candidate;
}

function nextCandidate(when: When, after: Date | null, floor: Date): Date | null {
  const schedule = when.schedule;
  const isLater = (date: Date) => (after === null ? true : date > after);
  switch (schedule.type) {
    case 'once':
      // A one-time campaign whose moment passed before it was scheduled runs at once.
      return after === null ? maxDate(schedule.at, when.start ?? schedule.at) : null;
    case 'dates': {
      const sorted = [...schedule.at].sort((a, b) => a.getTime() - b.getTime());
      return sorted.find((date) => isLater(date) && date >= floor) ?? null;
    }
    case 'recurring':
      return nextRecurring(when, schedule, after, floor);
    case 'onEvent':
    case 'inaction':
    case 'eventDate':
      return null;
    default:
      return assertNever(schedule, 'schedule');
  }
}

type Recurring = Extract<When['schedule'], { type: 'recurring' }>;

function nextRecurring(when: When, rule: Recurring, after: Date | null, floor: Date): Date | null {
  const zone = when.timezone;
  const [hour, minute] = parseTimeOfDay(rule.time);
  const start = DateTime.fromJSDate(floor, { zone }).startOf('day');
  const lowerBound = after && after >= floor ? after : null;
  const daysToBound = lowerBound ? Math.ceil(DateTime.fromJSDate(lowerBound).diff(start, 'days').days) : 0;
  let firstMatch: DateTime | null = null;
  for (let offset = 0; offset <= daysToBound + SEARCH_DAYS; offset++) {
    const day = start.plus({ days: offset });
    if (!matchesDay(rule, day, firstMatch)) continue;
    const instant = atWallTime(day, hour, minute).toJSDate();
    if (instant < floor) continue;
    firstMatch ??= day;
    if (lowerBound && instant <= lowerBound) continue;
    return instant;
  }
  return null;
}

function matchesDay(rule: Recurring, day: DateTime, firstMatch: DateTime | null): boolean {
  const every = rule.every;
  switch (every.unit) {
    case 'day':
      if (!firstMatch) return true;
      return Math.round(day.diff(firstMatch, 'days').days) % every.interval === 0;
    case 'week':
      return every.weekdays.includes(day.weekday);
    case 'month':
      return day.day === every.dayOfMonth;
    default:
      return assertNever(every, 'recurrence');
  }
}

function maxDate(a: Date, b: Date): Date {
  return a > b ? a : b;
}

/**
 * The earliest zone in use (UTC+14, Kiribati's Line Islands). A campaign
 * delivered in each user's zone starts its wave when its wall-clock time
 * comes there, and the wave ends about 26 hours later in UTC-12.
 */
export const EARLIEST_ZONE = 'Etc/GMT-14';

/**
 * When the scheduler must act on an occurrence whose nominal instant (the
 * schedule's time in the campaign's zone) is `nominal`: the nominal instant
 * itself, or, for a campaign delivered in the user's zone, the moment that
 * wall-clock time first comes anywhere on Earth (possibly before `start`:
 * the delivery gate holds every message until start).
 */
export function actAtFor(when: When, nominal: Date): Date {
  if (!when.userTimezone) return nominal;
  return sameWallTimeIn(nominal, when.timezone, EARLIEST_ZONE);
}

/**
 * The most an occurrence's act-at moment can precede its nominal instant:
 * UTC+14 against a campaign zone at UTC-12, plus an hour of DST.
 */
const MAX_HEAD_START_MS = 27 * 3600_000;

/**
 * The first occurrence (its nominal instant) of a series counted from
 * `anchor` whose act-at moment is on or after `from`: the scheduler never
 * starts a run whose moment came before the campaign was scheduled or
 * resumed. For delivery in the user's zone that moment is when the
 * wall-clock time first comes anywhere, so a wave already under way is not
 * started (half the world would get it late, or not at all with
 * `ifPassed: skip`); the next one is. A one-time campaign is never dropped.
 * Null when nothing is left.
 */
export function firstDueFrom(when: When, anchor: Date, from: Date): Date | null {
  // A one-time campaign's single run is never dropped: scheduled or resumed late, it runs at once.
  if (when.schedule.type === 'once') return nextDueAt(when, null, anchor);
  // Search from just before the earliest nominal instant whose act-at moment can be `from`.
  const headStart = when.userTimezone ? MAX_HEAD_START_MS : 0;
  let nominal = nextDueAt(when, new Date(from.getTime() - headStart - 1), anchor);
  while (nominal !== null && actAtFor(when, nominal) < from) nominal = nextDueAt(when, nominal, anchor);
  return nominal;
}

/** The inverse of `actAtFor`: the occurrence's nominal instant from the scheduler's act-at instant. */
export function nominalFor(when: When, actAt: Date): Date {
  if (!when.userTimezone) return actAt;
  return sameWallTimeIn(actAt, EARLIEST_ZONE, when.timezone);
}
