import type { DateTime } from 'luxon';
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
import { plusOffset, readDate } from './reminder-date.js';

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
 * stopped one sends nothing). `events.import({ live: true })` arms a whole batch; `events.track` arms
 * the calls that arrived while the previous group was arming, together (`armEach` behind a
 * coalesce), so concurrent calls share each statement as an import batch does.
 */
export async function armLiveTriggers(ctx: EngineContext, events: readonly UserEvent[]): Promise<void> {
  for (const outcome of await armEach(ctx, events)) if (!outcome.ok) throw outcome.error;
}

/** What arming did for one event: done, or the fault of one of its own statements. */
export type ArmOutcome = { ok: true } | { ok: false; error: unknown };

const ARMED: ArmOutcome = { ok: true };

/**
 * Arms a group of events, answering for each whether its own statements succeeded. Only the
 * campaigns' read is shared and comes before anything is written: its failure throws, with nothing
 * stored. Every write of an event is its own call to the coalesced statements, so the group's
 * events share each statement while a statement that fails is retried call by call (coalesce.ts)
 * and fails only the events it holds.
 *
 * Two chains run side by side, as they touch different timers: the inaction windows (each user's
 * events in order, as a window opened by one event is closed by a later one; users side by side),
 * and the users' zones read followed by the fire and reminder timers, enqueued in event order (a
 * later reminder for a key replaces an earlier one).
 */
export async function armEach(ctx: EngineContext, events: readonly UserEvent[]): Promise<ArmOutcome[]> {
  const outcomes: ArmOutcome[] = events.map(() => ARMED);
  if (events.length === 0) return outcomes;
  const { live } = await ctx.campaignCache.snapshot();
  if (live.length === 0) return outcomes;
  const now = ctx.clock.now();
  const plans = events.map((event) => planEvent(ctx, { live, event, now }));
  const fail = (index: number, error: unknown) => {
    outcomes[index] = { ok: false, error };
  };
  const byUser = groupBy(
    events.map((_, index) => index),
    (index) => (events[index] as UserEvent).userId,
  );
  // Every user of the group at once (the group is bounded: 500 track calls, or one import batch): a
  // user's first events then reach the coalesced cancel, enqueue and decision statements together,
  // one statement each, where lanes of a few users at a time drift apart and each send their own.
  const users = [...byUser.values()].filter((indexes) =>
    indexes.some((index) => (plans[index] as EventPlan).windows.length > 0),
  );
  const windows = mapLimit(users, users.length, async (indexes) => {
    for (const index of indexes) {
      const own = (plans[index] as EventPlan).windows;
      try {
        // Windows of different campaigns are apart (a key each): opened and closed side by side.
        await mapLimit(own, own.length, (window) => window());
      } catch (error) {
        fail(index, error);
      }
    }
  });
  const timers = (async () => {
    let zones: Map<string, string>;
    try {
      zones = await reminderZones(ctx, plans);
    } catch (error) {
      plans.forEach((plan, index) => {
        if (plan.reminders.length > 0) fail(index, error);
      });
      zones = new Map();
    }
    await Promise.all(
      plans.map(async (plan, index) => {
        // An event whose reminder dates could not be read sets none of its timers.
        if (!outcomes[index]?.ok) return;
        const jobs = [...plan.fires, ...reminderJobs(ctx, plan, zones.get(plan.event.userId), now)];
        if (jobs.length === 0) return;
        try {
          await ctx.coalesced.enqueue(jobs);
        } catch (error) {
          fail(index, error);
        }
      }),
    );
  })();
  await Promise.all([windows, timers]);
  return outcomes;
}

/** What one event does to the live campaigns, before anything is read or written. */
interface EventPlan {
  event: UserEvent;
  /** onEvent campaigns fired: due at once. */
  fires: JobInput[];
  /** eventDate campaigns matched: their reminder's date is read in the user's zone. */
  reminders: Array<{ campaign: Campaign; schedule: EventDate }>;
  /** Inaction windows to close and open. */
  windows: Array<() => Promise<void>>;
}

function planEvent(
  ctx: EngineContext,
  { live, event, now }: { live: readonly Campaign[]; event: UserEvent; now: Date },
): EventPlan {
  const plan: EventPlan = { event, fires: [], reminders: [], windows: [] };
  for (const campaign of live) {
    const schedule = campaign.when.schedule;
    const armed = isArmed(campaign, now) && withinLife(campaign, event.time);
    switch (schedule.type) {
      case 'onEvent':
        if (armed && matchesEvent(schedule.event, event, now)) {
          plan.fires.push(
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
        plan.windows.push(async () => {
          if (completes) await cancelInactionWindow(ctx, campaign, event);
          if (opens) await openInactionWindow(ctx, { campaign, schedule, event, now });
        });
        break;
      }
      case 'eventDate':
        if (armed && matchesEvent(schedule.event, event, now)) plan.reminders.push({ campaign, schedule });
        break;
      case 'once':
      case 'dates':
      case 'recurring':
        break;
      default:
        assertNever(schedule, 'schedule');
    }
  }
  return plan;
}

/** The reminder timers of an event's matched eventDate campaigns (none for a property without a date). */
function reminderJobs(
  ctx: EngineContext,
  { event, reminders }: EventPlan,
  profileZone: string | undefined,
  now: Date,
): JobInput[] {
  const reads = new Map<string, DateTime | null>();
  return reminders.flatMap(({ campaign, schedule }): JobInput[] => {
    const reminder = reminderFor(ctx, { campaign, schedule, event, profileZone, reads });
    if (!reminder) return [];
    return [
      {
        ...liveFireJob({
          campaign,
          event,
          occurrence: reminderOccurrence(reminder.key, reminder.dueAt),
          dueAt: reminder.dueAt,
          now,
          dedupeKey: () => reminderTimerKey(campaign.id, event.userId, reminder.key),
        }),
        onDuplicate: 'replace',
      },
    ];
  });
}

/**
 * The zones of the users whose events set a reminder (a date is read and counted in the user's
 * zone), from one read of their profiles' zones (not whole profiles); a user without a zone is absent.
 */
async function reminderZones(ctx: EngineContext, plans: readonly EventPlan[]): Promise<Map<string, string>> {
  const users = new Set<UserId>();
  for (const plan of plans) if (plan.reminders.length > 0) users.add(plan.event.userId);
  const zones = new Map<string, string>();
  if (users.size === 0) return zones;
  for (const [userId, zone] of await ctx.storage.getProfileZones([...users])) {
    if (zone) zones.set(userId, zone);
  }
  return zones;
}

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
 * `reads` keeps the dates already read from this event: campaigns reading
 * the same property in the same zone share one read.
 */
function reminderFor(
  ctx: EngineContext,
  {
    campaign,
    schedule,
    event,
    profileZone,
    reads,
  }: {
    campaign: Campaign;
    schedule: EventDate;
    event: UserEvent;
    profileZone: string | undefined;
    reads: Map<string, DateTime | null>;
  },
): { key: string; dueAt: Date } | null {
  const raw = event.properties[schedule.property];
  const zone = zoneOf(campaign, profileZone);
  const readKey = JSON.stringify([schedule.property, zone]);
  let date = reads.get(readKey);
  if (date === undefined) {
    date = readDate(raw, zone);
    reads.set(readKey, date);
  }
  if (!date) {
    ctx.logger.info('eventDate trigger ignored: no date in the property', {
      campaignId: campaign.id,
      property: schedule.property,
    });
    return null;
  }
  const dueAt = plusOffset(date, zone, schedule.offset);
  const keyValue = schedule.keyProperty ? event.properties[schedule.keyProperty] : undefined;
  const key =
    keyValue === undefined || keyValue === null ? `date=${String(raw)}` : `key=${stringify(keyValue)}`;
  return { key, dueAt };
}

function stringify(value: JsonValue): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
