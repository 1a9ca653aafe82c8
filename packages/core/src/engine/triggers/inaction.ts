import type { Campaign, UserEvent } from '../../model/index.js';
import type { EngineContext } from '../context.js';
import { decisionLog } from '../decisions.js';
import { liveFireJob } from './fire-job.js';
import { inactionOccurrence, inactionTimerKey } from './keys.js';

type Inaction = Extract<Campaign['when']['schedule'], { type: 'inaction' }>;

/** Milliseconds of a window's (and a reminder offset's) unit, counted as spans of time. */
export const UNIT_MS = { minutes: 60_000, hours: 3_600_000, days: 86_400_000 } as const;
/** The decision reason that marks an open inaction window in the log. */
const WINDOW_OPEN = 'inaction-window';

/**
 * Opens an inaction window for a triggering event: a timer job due at the
 * window's end, one per user (its dedupe key). While one waits, a further
 * trigger is ignored — the first window wins — and the log says so.
 */
export async function openInactionWindow(
  ctx: EngineContext,
  { campaign, schedule, event, now }: { campaign: Campaign; schedule: Inaction; event: UserEvent; now: Date },
): Promise<void> {
  const dueAt = new Date(event.time.getTime() + schedule.within.amount * UNIT_MS[schedule.within.unit]);
  const occurrence = inactionOccurrence(event);
  const [added] = await ctx.coalesced.enqueueEach([
    {
      ...liveFireJob({
        campaign,
        event,
        occurrence,
        dueAt,
        now,
        dedupeKey: () => inactionTimerKey(campaign.id, event.userId),
      }),
      onDuplicate: 'ignore',
    },
  ]);
  const open = added ? null : await openWindow(ctx, campaign, event);
  const log = decisionLog(
    ctx,
    campaign,
    added ? occurrence : (open ?? occurrence),
    ctx.coalesced.appendDecisions,
  );
  if (added) {
    log.add(event.userId, 'delayed', WINDOW_OPEN, {
      until: dueAt.toISOString(),
      trigger: event.name,
      triggeredAt: event.time.toISOString(),
    });
  } else {
    log.add(event.userId, 'filtered', 'window-already-open', {
      trigger: event.name,
      triggeredAt: event.time.toISOString(),
    });
  }
  await log.flush();
}

/** The completing event: removes the waiting timer and logs the cancellation on that window's occurrence. */
export async function cancelInactionWindow(
  ctx: EngineContext,
  campaign: Campaign,
  event: UserEvent,
): Promise<void> {
  const [removed] = await ctx.coalesced.cancelEach([inactionTimerKey(campaign.id, event.userId)]);
  if (!removed) return;
  const occurrence =
    (await openWindow(ctx, campaign, event)) ?? `inaction-cancelled:${event.time.toISOString()}`;
  const log = decisionLog(ctx, campaign, occurrence, ctx.coalesced.appendDecisions);
  log.add(event.userId, 'cancelled', 'completed', { completedBy: event.name, at: event.time.toISOString() });
  await log.flush();
}

/** The occurrence of the user's window still open at the event's time, from the decision log. */
async function openWindow(ctx: EngineContext, campaign: Campaign, event: UserEvent): Promise<string | null> {
  const decisions = await ctx.storage.listDecisions({ userId: event.userId, campaignId: campaign.id });
  const closed = new Set(
    decisions.filter((d) => d.reason !== WINDOW_OPEN && d.outcome !== 'filtered').map((d) => d.occurrence),
  );
  const open = decisions.filter(
    (d) =>
      d.outcome === 'delayed' &&
      d.reason === WINDOW_OPEN &&
      !closed.has(d.occurrence) &&
      typeof d.facts.until === 'string' &&
      new Date(d.facts.until) >= event.time,
  );
  return open.at(-1)?.occurrence ?? null;
}
