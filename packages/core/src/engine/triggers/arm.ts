import { DateTime } from 'luxon';
import { assertNever } from '../../errors/index.js';
import type { Campaign, JsonValue, UserEvent, UserId } from '../../model/index.js';
import type { JobInput } from '../../ports/index.js';
import { groupBy, mapLimit } from '../collections.js';
import type { EngineContext } from '../context.js';
import { zoneOf } from '../schedule/index.js';
import { liveFireJob } from './fire-job.js';
import { cancelInactionWindow, openInactionWindow } from './inaction.js';
import { fireKey, onEventOccurrence, reminderOccurrence, reminderTimerKey } from './keys.js';
import { matchesEvent } from './match.js';

/**
 * What a tracked event does to live campaigns. Every pending timer is a
 * queue job with a run-at time and a dedupe key, so a million waiting
 * timers survive a restart and cost no memory:
 *
 * - onEvent: a matching event fires at once (one occurrence per event).
 * - inaction: a matching event starts a window; the timer fires at its end
 *   unless the completing event cancels it (`queue.cancel`, and checked
 *   again in storage when the timer fires). While a window is open, further
 *   triggering events are ignored: the first window wins, so a second
 *   "Added To Cart" never double-sends or pushes the reminder back.
 * - eventDate: a matching event with a readable date property sets a
 *   reminder at that date plus the offset, in the user's zone; a new event
 *   for the same key replaces the pending reminder.
 *
 * Only armed campaigns react (running, or scheduled with their start come),
 * to events whose time lies inside [start, end]. A completing event cancels inaction timers of paused
 * campaigns too.
 *
 * The campaigns come from the engine's in-memory copy (campaign-cache.ts: a change made by another
 * process is seen within `tuning.campaignRefreshMs`; the fire job reads the campaign again and a
 * stopped one sends nothing). `events.track` arms its one event; `events.import({ live: true })` a
 * whole batch, in one enqueue.
 */
export async function armLiveTriggers(ctx: EngineContext, events: readonly UserEvent[]): Promise<void> {
  if (events.length === 0) return;
  const { live } = await ctx.campaignCache.snapshot();
  if (live.length === 0) return;
  const now = ctx.clock.now();
  const zones = await reminderZones(ctx, live, events, now);
  // Each user's events in order (an inaction window opened by one event is closed by a later one);
  // users side by side, so their window statements share the coalesced writes. Timers of every event
  // go in one enqueue at the end, in event order (a later reminder for a key replaces an earlier one).
  const timers: JobInput[][] = events.map(() => []);
  const byUser = groupBy(
    events.map((_, index) => index),
    (index) => (events[index] as UserEvent).userId,
  );
  await mapLimit([...byUser.values()], USERS_AT_ONCE, async (indexes) => {
    for (const index of indexes) {
      timers[index] = await armEvent(ctx, { live, event: events[index] as UserEvent, zones, now });
    }
  });
  const jobs = timers.flat();
  if (jobs.length > 0) await ctx.coalesced.enqueue(jobs);
}

/** What one event does to each live campaign: inaction windows at once, the timers it sets returned. */
async function armEvent(
  ctx: EngineContext,
  {
    live,
    event,
    zones,
    now,
  }: { live: readonly Campaign[]; event: UserEvent; zones: ReadonlyMap<string, string>; now: Date },
): Promise<JobInput[]> {
  const jobs: JobInput[] = [];
  // Inaction windows of different campaigns are apart (a key each): opened and closed side by side.
  const windows: Array<() => Promise<void>> = [];
  for (const campaign of live) {
    const schedule = campaign.when.schedule;
    const armed = isArmed(campaign, now) && withinLife(campaign, event.time);
    switch (schedule.type) {
      case 'onEvent':
        if (armed && matchesEvent(schedule.event, event, now)) {
          jobs.push(
            liveFireJob({
              campaign,
              event,
              occurrence: onEventOccurrence(event),
              dueAt: now,
              now,
              dedupeKey: (occurrence) => fireKey(campaign.id, event.userId, occurrence),
            }),
          );
        }
        break;
      case 'inaction': {
        const completes = matchesEvent(schedule.notFollowedBy, event, now);
        const opens = armed && matchesEvent(schedule.event, event, now);
        if (!completes && !opens) break;
        windows.push(async () => {
          if (completes) await cancelInactionWindow(ctx, campaign, event);
          if (opens) await openInactionWindow(ctx, { campaign, schedule, event, now });
        });
        break;
      }
      case 'eventDate': {
        if (!armed || !matchesEvent(schedule.event, event, now)) break;
        const reminder = reminderFor(ctx, {
          campaign,
          schedule,
          event,
          profileZone: zones.get(event.userId),
        });
        if (!reminder) break;
        jobs.push({
          ...liveFireJob({
            campaign,
            event,
            occurrence: reminderOccurrence(reminder.key, reminder.dueAt),
            dueAt: reminder.dueAt,
            now,
            dedupeKey: () => reminderTimerKey(campaign.id, event.userId, reminder.key),
          }),
          onDuplicate: 'replace',
        });
        break;
      }
      case 'once':
      case 'dates':
      case 'recurring':
        break;
      default:
        assertNever(schedule, 'schedule');
    }
  }
  await mapLimit(windows, windows.length, (window) => window());
  return jobs;
}

/**
 * The zones of the users whose events set a reminder (a date is read and counted in the user's
 * zone), from one read of their profiles; a user without a zone is absent.
 */
async function reminderZones(
  ctx: EngineContext,
  live: readonly Campaign[],
  events: readonly UserEvent[],
  now: Date,
): Promise<Map<string, string>> {
  const users = new Set<UserId>();
  for (const campaign of live) {
    const schedule = campaign.when.schedule;
    if (schedule.type !== 'eventDate') continue;
    for (const event of events) if (matchesEvent(schedule.event, event, now)) users.add(event.userId);
  }
  const zones = new Map<string, string>();
  if (users.size === 0) return zones;
  for (const profile of await ctx.coalesced.getProfiles([...users])) {
    if (profile?.timezone) zones.set(profile.userId, profile.timezone);
  }
  return zones;
}

/** Users of one batch armed at once: enough to fill the coalesced statements, few enough to bound what waits. */
const USERS_AT_ONCE = 100;

/** Running, or scheduled with its start already come (the scheduler has not armed it yet: events are not lost meanwhile). */
function isArmed(campaign: Campaign, now: Date): boolean {
  if (campaign.status === 'running') return true;
  return campaign.status === 'scheduled' && campaign.nextRunAt !== null && campaign.nextRunAt <= now;
}

function withinLife(campaign: Campaign, time: Date): boolean {
  return (
    (!campaign.when.start || time >= campaign.when.start) && (!campaign.when.end || time <= campaign.when.end)
  );
}

type EventDate = Extract<Campaign['when']['schedule'], { type: 'eventDate' }>;

/**
 * The reminder of an eventDate campaign: the date in `property` (ISO 8601 or
 * epoch milliseconds; a date or time without an offset is read in the
 * user's zone) plus the offset, counted in the user's zone (days keep the
 * wall-clock time across DST). Null when the property holds no date.
 */
function reminderFor(
  ctx: EngineContext,
  {
    campaign,
    schedule,
    event,
    profileZone,
  }: { campaign: Campaign; schedule: EventDate; event: UserEvent; profileZone: string | undefined },
): { key: string; dueAt: Date } | null {
  const raw = event.properties[schedule.property];
  const zone = zoneOf(campaign, profileZone);
  const date = readDate(raw, zone);
  if (!date) {
    ctx.logger.info('eventDate trigger ignored: no date in the property', {
      campaignId: campaign.id,
      property: schedule.property,
    });
    return null;
  }
  const dueAt = date.plus({ [schedule.offset.unit]: schedule.offset.amount }).toJSDate();
  const keyValue = schedule.keyProperty ? event.properties[schedule.keyProperty] : undefined;
  const key =
    keyValue === undefined || keyValue === null ? `date=${String(raw)}` : `key=${stringify(keyValue)}`;
  return { key, dueAt };
}

function readDate(value: JsonValue | undefined, zone: string): DateTime | null {
  if (typeof value === 'number' && Number.isFinite(value)) return DateTime.fromMillis(value, { zone });
  if (typeof value !== 'string') return null;
  const date = DateTime.fromISO(value, { zone });
  return date.isValid ? date : null;
}

function stringify(value: JsonValue): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
