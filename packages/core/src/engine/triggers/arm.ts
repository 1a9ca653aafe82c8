import { DateTime } from 'luxon';
import { assertNever } from '../../errors/index.js';
import type { Campaign, JsonValue, UserEvent } from '../../model/index.js';
import { isLive } from '../../model/index.js';
import type { JobInput } from '../../ports/index.js';
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
 */
export async function armLiveTriggers(ctx: EngineContext, event: UserEvent): Promise<void> {
  const campaigns = (await ctx.storage.listCampaigns({ status: ['scheduled', 'running', 'paused'] })).filter(
    (c) => isLive(c.when.schedule),
  );
  if (campaigns.length === 0) return;
  const now = ctx.clock.now();
  const jobs: JobInput[] = [];
  for (const campaign of campaigns) {
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
        if (matchesEvent(schedule.notFollowedBy, event, now)) {
          await cancelInactionWindow(ctx, campaign, event);
        }
        if (armed && matchesEvent(schedule.event, event, now)) {
          await openInactionWindow(ctx, { campaign, schedule, event, now });
        }
        break;
      }
      case 'eventDate': {
        if (!armed || !matchesEvent(schedule.event, event, now)) break;
        const reminder = await reminderFor(ctx, campaign, schedule, event);
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
  if (jobs.length > 0) await ctx.queue.enqueue(jobs);
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
 */
async function reminderFor(
  ctx: EngineContext,
  campaign: Campaign,
  schedule: EventDate,
  event: UserEvent,
): Promise<{ key: string; dueAt: Date } | null> {
  const raw = event.properties[schedule.property];
  const profile = await ctx.storage.getProfile(event.userId);
  const zone = zoneOf(campaign, profile?.timezone);
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
