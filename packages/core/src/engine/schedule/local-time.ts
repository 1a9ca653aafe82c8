import { DateTime } from 'luxon';

/**
 * Wall-clock arithmetic in IANA zones, stated once for the whole engine.
 *
 * - A wall time that does not exist on a day (the DST spring-forward gap)
 *   is shifted forward by the gap: 02:30 in a 02:00–03:00 gap is 03:30.
 * - A wall time that happens twice (the fall-back overlap) means its first
 *   occurrence, the earlier instant.
 */
export function atWallTime(day: DateTime, hour: number, minute: number): DateTime {
  const zone = day.zone;
  const candidate = DateTime.fromObject(
    { year: day.year, month: day.month, day: day.day, hour, minute },
    { zone },
  );
  // In an overlap luxon picks the later offset; look for an earlier instant with the same wall time.
  for (const back of [60, 30, 120]) {
    const earlier = candidate.minus({ minutes: back });
    if (earlier.hour === hour && earlier.minute === minute && earlier.day === day.day) return earlier;
  }
  return candidate;
}

/** "HH:mm" → [hour, minute]. */
export function parseTimeOfDay(time: string): [number, number] {
  const [hour, minute] = time.split(':').map(Number) as [number, number];
  return [hour, minute];
}

/** The local calendar day of `instant` in `zone` (start of day, in that zone). */
export function localDay(instant: Date, zone: string): DateTime {
  return DateTime.fromJSDate(instant, { zone }).startOf('day');
}

/** The same wall-clock date and time as `instant` has in `fromZone`, placed in `toZone`. */
export function sameWallTimeIn(instant: Date, fromZone: string, toZone: string): Date {
  const local = DateTime.fromJSDate(instant, { zone: fromZone });
  const day = DateTime.fromObject({ year: local.year, month: local.month, day: local.day }, { zone: toZone });
  return atWallTime(day, local.hour, local.minute).toJSDate();
}

/** Minutes since local midnight. */
export function minuteOfDay(local: DateTime): number {
  return local.hour * 60 + local.minute;
}

/** ISO calendar date ("2026-03-08") of `instant` in `zone`: the key of a per-day counter. */
export function dayKey(instant: Date, zone: string): string {
  return DateTime.fromJSDate(instant, { zone }).toISODate() as string;
}

/** ISO week ("2026-W10", Monday to Sunday) of `instant` in `zone`: the key of a per-week counter. */
export function weekKey(instant: Date, zone: string): string {
  return DateTime.fromJSDate(instant, { zone }).toFormat("kkkk-'W'WW");
}

/** The first instant of the next local day in `zone` (23 or 25 hours away on DST days). */
export function nextDayStart(instant: Date, zone: string): Date {
  return localDay(instant, zone).plus({ days: 1 }).toJSDate();
}

/** The first instant of the next ISO week (Monday 00:00) in `zone`. */
export function nextWeekStart(instant: Date, zone: string): Date {
  return DateTime.fromJSDate(instant, { zone }).startOf('week').plus({ weeks: 1 }).toJSDate();
}

/** The zone luxon would use, or null when `zone` is not a valid IANA name. */
export function validZone(zone: string | undefined): string | null {
  if (!zone) return null;
  return DateTime.fromMillis(0).setZone(zone).isValid ? zone : null;
}
