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
 * stopped one sends nothing). `events.import({ live: true })` arms a whole batch; `events.track` stores
 * and arms the calls that arrived while the previous group was at it, together (`trackEach` behind
 * a coalesce), so concurrent calls share each statement as an import batch does.
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
 */
export async function armEach(ctx: EngineContext, events: readonly UserEvent[]): Promise<ArmOutcome[]> {
  if (events.length === 0) return [];
  const { live } = await ctx.campaignCache.snapshot();
  if (live.length === 0) return events.map(() => ARMED);
  const now = ctx.clock.now();
  const plans = events.map((event) => planEvent(ctx, { live, event, now }));
  return armPlanned(ctx, { plans, zones: await settled(reminderZones(ctx, plans)), now });
}

/**
 * What `events.track` does with the calls that arrived while the previous group was armed: stores
 * each event and arms the stored ones, answering for each. The users' zones (for reminder dates)
 * are read while the events are inserted, not after: the timers then wait for one round trip
 * instead of two, and the inaction windows' timers and the others go out together in one
 * statement (a queue with `enqueueEach` shares it). An event is stored before any of its timers is
 * enqueued (a timer due at once may be claimed at once, and its filter segment reads the user's
 * events), and an event whose insert fails arms nothing. Never throws: this runs behind a coalesce,
 * which would write a thrown group again call by call and so store its events twice.
 */
export async function trackEach(ctx: EngineContext, events: readonly UserEvent[]): Promise<ArmOutcome[]> {
  let live: readonly Campaign[] = [];
  let unread: { error: unknown } | null = null;
  try {
    live = (await ctx.campaignCache.snapshot()).live;
  } catch (error) {
    // The events are stored all the same; their calls fail with the campaigns' read.
    unread = { error };
  }
  const now = ctx.clock.now();
  const plans = events.map((event) => planEvent(ctx, { live, event, now }));
  const [stored, zones] = await Promise.all([
    Promise.all(
      events.map((event) =>
        ctx.coalesced.appendEvents([event]).then(
          (): ArmOutcome => (unread ? { ok: false, error: unread.error } : ARMED),
          (error: unknown): ArmOutcome => ({ ok: false, error }),
        ),
      ),
    ),
    settled(reminderZones(ctx, plans)),
  ]);
  const armable = stored.flatMap((outcome, index) => (outcome.ok ? [index] : []));
  if (live.length === 0 || armable.length === 0) return stored;
  let armed: ArmOutcome[];
  try {
    armed = await armPlanned(ctx, { plans: armable.map((index) => plans[index] as EventPlan), zones, now });
  } catch (error) {
    // armPlanned answers per event; should it throw all the same, the stored events fail, once.
    armed = armable.map(() => ({ ok: false, error }));
  }
  armable.forEach((index, position) => {
    stored[index] = armed[position] as ArmOutcome;
  });
  return stored;
}

/** The users' zones, or why they could not be read. */
type ZoneRead = { ok: true; zones: Map<string, string> } | { ok: false; error: unknown };

async function settled(read: Promise<Map<string, string>>): Promise<ZoneRead> {
  try {
    return { ok: true, zones: await read };
  } catch (error) {
    return { ok: false, error };
  }
}

/**
 * The writes of planned events. Two chains run side by side, as they touch different timers: the
 * inaction windows (each user's events in order, as a window opened by one event is closed by a
 * later one; users side by side), and the fire and reminder timers, enqueued in event order (a
 * later reminder for a key replaces an earlier one). An event whose reminder zones could not be
 * read sets none of its timers.
 */
async function armPlanned(
  ctx: EngineContext,
  { plans, zones, now }: { plans: readonly EventPlan[]; zones: ZoneRead; now: Date },
): Promise<ArmOutcome[]> {
  const outcomes: ArmOutcome[] = plans.map((plan) =>
    !zones.ok && plan.reminders.length > 0 ? { ok: false, error: zones.error } : ARMED,
  );
  const fail = (index: number, error: unknown) => {
    outcomes[index] = { ok: false, error };
  };
  const byUser = groupBy(
    plans.map((_, index) => index),
    (index) => (plans[index] as EventPlan).event.userId,
  );
  const windows = mapLimit([...byUser.values()], USERS_AT_ONCE, async (indexes) => {
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
  const userZones = zones.ok ? zones.zones : new Map<string, string>();
  const timers = Promise.all(
    plans.map(async (plan, index) => {
      if (!outcomes[index]?.ok) return;
      try {
        const jobs = [...plan.fires, ...reminderJobs(ctx, plan, userZones.get(plan.event.userId), now)];
        if (jobs.length > 0) await ctx.coalesced.enqueue(jobs);
      } catch (error) {
        fail(index, error);
      }
    }),
  );
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
