import { z } from 'zod';
import type { CounterSpec } from '../../../ports/index.js';
import { dayKey, nextDayStart, nextWeekStart, weekKey } from '../../schedule/index.js';

/** The host's per-user limits across all campaigns (createHerald `limits`). */
export const GlobalLimits = z.strictObject({
  perUser: z
    .strictObject({
      perDay: z.number().int().min(0).optional(),
      perWeek: z.number().int().min(0).optional(),
    })
    .optional(),
});
export type GlobalLimits = z.infer<typeof GlobalLimits>;

/**
 * Counter specs of the global per-user caps for a send at `now`. Days and
 * weeks are counted in the user's zone: the daily counter is keyed by the
 * local date and resets at local midnight (a 23- or 25-hour day across
 * DST), the weekly one by the ISO week (Monday to Sunday).
 */
export function capSpecs(limits: GlobalLimits, userId: string, zone: string, now: Date): CounterSpec[] {
  return capPeriods(limits, zone, now).map((period) => capSpec(period, userId));
}

/** One cap's counting period in one zone at one instant: the same for every user in that zone. */
export interface CapPeriod {
  kind: 'd' | 'w';
  /** The local date (`d`) or the ISO week (`w`). */
  key: string;
  limit: number;
  expiresAt: Date;
}

/** The caps' periods in `zone` at `now` (a batch works them out once per zone, not per user). */
export function capPeriods(limits: GlobalLimits, zone: string, now: Date): CapPeriod[] {
  const periods: CapPeriod[] = [];
  const perDay = limits.perUser?.perDay;
  const perWeek = limits.perUser?.perWeek;
  if (perDay !== undefined) {
    periods.push({
      kind: 'd',
      key: dayKey(now, zone),
      limit: perDay,
      // A day of slack past the reset, so a zone change cannot leave a counter expiring early.
      expiresAt: new Date(nextDayStart(now, zone).getTime() + 86_400_000),
    });
  }
  if (perWeek !== undefined) {
    periods.push({
      kind: 'w',
      key: weekKey(now, zone),
      limit: perWeek,
      expiresAt: new Date(nextWeekStart(now, zone).getTime() + 86_400_000),
    });
  }
  return periods;
}

/** A user's counter for one period. */
export function capSpec({ kind, key, limit, expiresAt }: CapPeriod, userId: string): CounterSpec {
  return { key: `herald:cap:${kind}:${userId}:${key}`, limit, expiresAt };
}
