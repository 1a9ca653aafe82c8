import type { Campaign, Profile, UserEvent } from '../../model/index.js';
import { evaluateSegment } from '../../segments/index.js';
import type { EngineContext } from '../context.js';
import { decisionLog } from '../decisions.js';
import { deliverBatch } from '../deliver/index.js';
import { resolveAudience } from '../fanout/index.js';
import { type JobResult, type LiveFireJob, retryWhilePaused } from '../jobs.js';
import { matchesEvent } from './match.js';

/**
 * A live trigger comes due for one user. The inaction check and the
 * campaign's filter segment ("filter this stream by past behaviour / user
 * properties") are evaluated now, at fire time; then the message goes
 * through the same gates as any other (start, end, DND, caps, throttle…).
 */
export async function fireLive(ctx: EngineContext, job: LiveFireJob): Promise<JobResult> {
  const campaign = await ctx.storage.getCampaign(job.campaignId);
  if (!campaign) return { kind: 'done' };
  const now = ctx.clock.now();
  if (campaign.status === 'paused') return retryWhilePaused(now);
  const log = decisionLog(ctx, campaign, job.occurrence);
  try {
    const schedule = campaign.when.schedule;
    if (schedule.type === 'inaction') {
      const completing = await completedSince(ctx, schedule.notFollowedBy, job, now);
      if (completing) {
        log.add(job.userId, 'cancelled', 'completed', {
          completedBy: completing.name,
          at: completing.time.toISOString(),
        });
        return { kind: 'done' };
      }
    }
    if (!(await inFilterSegment(ctx, campaign, job, now))) {
      log.add(job.userId, 'filtered', 'not-in-segment', {});
      return { kind: 'done' };
    }
  } finally {
    await log.flush();
  }
  return deliverBatch(ctx, {
    campaignId: campaign.id,
    occurrence: job.occurrence,
    userIds: [job.userId],
    dueAt: job.dueAt,
    event: job.event,
  });
}

/** The completing event of an inaction window, if the user did it between the trigger and the window's end. */
async function completedSince(
  ctx: EngineContext,
  matcher: Parameters<typeof matchesEvent>[0],
  job: LiveFireJob,
  now: Date,
): Promise<UserEvent | null> {
  const events = await ctx.storage.listEvents({
    userId: job.userId,
    name: matcher.name,
    from: job.event.time,
    to: new Date(job.dueAt.getTime() + 1),
  });
  return events.find((event) => matchesEvent(matcher, event, now)) ?? null;
}

async function inFilterSegment(
  ctx: EngineContext,
  campaign: Campaign,
  job: LiveFireJob,
  now: Date,
): Promise<boolean> {
  const segment = await resolveAudience(ctx.storage, campaign);
  if (segment.type === 'all') return true;
  const [stored, events, subscriptions] = await Promise.all([
    ctx.storage.getProfile(job.userId),
    ctx.storage.listEvents({ userId: job.userId }),
    ctx.storage.listSubscriptions([job.userId]),
  ]);
  const profile: Profile = stored ?? {
    userId: job.userId,
    properties: {},
    test: false,
    createdAt: now,
    updatedAt: now,
  };
  return evaluateSegment(segment, { profile, events, subscriptions }, now);
}
