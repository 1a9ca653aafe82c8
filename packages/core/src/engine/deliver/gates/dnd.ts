import { DateTime } from 'luxon';
import type { DndWindow } from '../../../model/index.js';
import { atWallTime, minuteOfDay, parseTimeOfDay } from '../../schedule/index.js';

export type DndCheck =
  | { inside: false; zone: string; localTime: string }
  | { inside: true; zone: string; localTime: string; endsAt: Date; action: DndWindow['action'] };

/**
 * Whether `now` falls inside a Do-Not-Disturb window in `zone`.
 *
 * Rules, stated once:
 * - The window is [start, end) in local wall-clock time; start > end crosses
 *   midnight (21:00–09:00); start = end is an empty window (no DND).
 * - It ends at the next local `end` after now, found with the engine's
 *   wall-time rule: an end inside a DST gap is shifted forward by the gap,
 *   an end inside a fall-back overlap is its first occurrence.
 * - A local time repeated by a fall-back overlap is judged by its wall
 *   clock: 01:30 is inside 01:00–02:00 both times it happens.
 */
export function checkDnd(window: DndWindow, zone: string, now: Date): DndCheck {
  const local = DateTime.fromJSDate(now, { zone });
  const localTime = local.toFormat('yyyy-MM-dd HH:mm ZZZZ');
  const [startH, startM] = parseTimeOfDay(window.start);
  const [endH, endM] = parseTimeOfDay(window.end);
  const start = startH * 60 + startM;
  const end = endH * 60 + endM;
  const minute = minuteOfDay(local);
  const inside =
    start === end ? false : start < end ? minute >= start && minute < end : minute >= start || minute < end;
  if (!inside) return { inside: false, zone, localTime };
  const today = local.startOf('day');
  // Before `end` on the local clock: it ends today; otherwise (the evening part of a window crossing midnight) tomorrow.
  const endDay = minute < end ? today : today.plus({ days: 1 });
  let endsAt = atWallTime(endDay, endH, endM).toJSDate();
  // A gap can move today's end to before now (end 02:30 shifted to 03:30 is after; but guard all the same).
  if (endsAt <= now) endsAt = atWallTime(endDay.plus({ days: 1 }), endH, endM).toJSDate();
  return { inside: true, zone, localTime, endsAt, action: window.action };
}

/**
 * The Do-Not-Disturb window in force at `now` or, outside one, the next one,
 * as instants in `zone` (DST applied by the wall-time rule). Null for an
 * empty window.
 */
export function dndWindowAround(window: DndWindow, zone: string, now: Date): { from: Date; to: Date } | null {
  if (window.start === window.end) return null;
  const [startH, startM] = parseTimeOfDay(window.start);
  const check = checkDnd(window, zone, now);
  const today = DateTime.fromJSDate(now, { zone }).startOf('day');
  if (check.inside) {
    // It started today, or yesterday for the morning part of a window crossing midnight.
    const startedToday = atWallTime(today, startH, startM).toJSDate();
    const from =
      startedToday <= now ? startedToday : atWallTime(today.minus({ days: 1 }), startH, startM).toJSDate();
    return { from, to: check.endsAt };
  }
  let from = atWallTime(today, startH, startM).toJSDate();
  if (from <= now) from = atWallTime(today.plus({ days: 1 }), startH, startM).toJSDate();
  const ends = checkDnd(window, zone, from);
  return { from, to: ends.inside ? ends.endsAt : from };
}
