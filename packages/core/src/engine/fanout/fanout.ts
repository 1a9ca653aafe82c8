import type { Campaign, UserId } from '../../model/index.js';
import type { AudiencePageRecord, JobInput, RecipientInsert } from '../../ports/index.js';
import type { EngineContext } from '../context.js';
import { decisionLog } from '../decisions.js';
import { type AudiencePageJob, JobName, type JobResult, retryWhilePaused } from '../jobs.js';
import { occurrenceInstant, userDue, zoneOf } from '../schedule/index.js';
import { resolveAudience } from './audience.js';
import { deliverBatchJobs } from './batch-jobs.js';

/**
 * Reads one keyset page of an occurrence's audience and turns it into
 * delivery jobs plus the job for the next page, so a campaign of any size
 * is streamed page by page and shared by every worker. Dedupe keys make a
 * re-run of a page (after a crash) add nothing new, and a page already
 * recorded is not read again (`rerunOfRecordedPage`). A campaign delivered in
 * the user's zone becomes a wave: one job per due instant, run when it comes.
 */
export async function fanOutPage(ctx: EngineContext, job: AudiencePageJob): Promise<JobResult> {
  const campaign = await ctx.storage.getCampaign(job.campaignId);
  if (!campaign || campaign.status === 'stopped') return { kind: 'done' };
  const now = ctx.clock.now();
  if (campaign.status === 'paused') return retryWhilePaused(now);
  const recorded = await ctx.storage.getAudiencePage({
    campaignId: campaign.id,
    occurrence: job.occurrence,
    after: job.after ?? '',
  });
  if (recorded) return rerunOfRecordedPage(ctx, campaign, recorded);

  const segment = await resolveAudience(ctx.storage, campaign);
  const userIds = await ctx.storage.selectAudience(segment, { after: job.after, limit: ctx.pageSize, now });
  const startedAt = job.startedAt ?? now;
  const page: PageRun = { ctx, campaign, occurrence: job.occurrence, startedAt, now };
  const jobs: JobInput[] = [];
  for (const group of await dueGroups(page, userIds)) {
    jobs.push(
      ...deliverBatchJobs(group.userIds, ctx.batchSize, {
        campaignId: campaign.id,
        occurrence: job.occurrence,
        dueAt: group.dueAt,
        runAt: new Date(Math.max(group.dueAt.getTime(), now.getTime())),
        dedupeKey: (first) => `${campaign.id}|${job.occurrence}|b|${first}`,
      }),
    );
  }
  const last = userIds.at(-1);
  if (last !== undefined && userIds.length === ctx.pageSize) {
    jobs.push({
      name: JobName.audiencePage,
      payload: {
        campaignId: campaign.id,
        occurrence: job.occurrence,
        after: last,
        page: job.page + 1,
        startedAt: startedAt.toISOString(),
      },
      runAt: now,
      dedupeKey: `${campaign.id}|${job.occurrence}|p|${last}`,
    });
  }
  await ctx.queue.enqueue(jobs);
  // After the jobs are queued, so a page is never counted without them; a re-run of the page counts once.
  const lastPage = last === undefined || userIds.length < ctx.pageSize;
  await ctx.storage.recordAudiencePage({
    campaignId: campaign.id,
    occurrence: job.occurrence,
    after: job.after ?? '',
    users: userIds.length,
    last: lastPage,
    at: now,
  });
  if (lastPage) {
    ctx.emit({ type: 'occurrence-finished', campaignId: campaign.id, occurrence: job.occurrence });
    await finishOccurrence(ctx, campaign);
  }
  return { kind: 'done' };
}

/**
 * This page ran to its record before, so its delivery jobs and the next page's
 * job were queued: it is a job run again after a failure past the record, or a
 * second start of the occurrence that a worker took before the scheduler that
 * lost the race withdrew it (`withdrawLostStart`). Reading the audience again
 * would queue nothing new for this page, but the next page's job (its dedupe key
 * free once that page ran) would walk the whole audience again and report the
 * occurrence finished twice. So nothing is read or queued; only a last page
 * finishes the campaign once more (idempotent), the one step a failed first run
 * may not have reached.
 */
async function rerunOfRecordedPage(
  ctx: EngineContext,
  campaign: Campaign,
  page: AudiencePageRecord,
): Promise<JobResult> {
  ctx.logger.debug('audience page already queued; not read again', {
    campaignId: campaign.id,
    occurrence: page.occurrence,
    after: page.after,
  });
  if (page.last) await finishOccurrence(ctx, campaign);
  return { kind: 'done' };
}

/** What the steps of one audience page share, built once when the page job is picked up. */
interface PageRun {
  ctx: EngineContext;
  campaign: Campaign;
  occurrence: string;
  /** When the occurrence started (the scheduler pass): the reference for "local time already passed". */
  startedAt: Date;
  now: Date;
}

/**
 * Groups a page by when each user's message is due. Users whose local time
 * had already passed when the run started are skipped (`time-passed`) or
 * sent at once, per `userTimezone.ifPassed`.
 */
async function dueGroups(
  page: PageRun,
  userIds: readonly UserId[],
): Promise<{ dueAt: Date; userIds: UserId[] }[]> {
  const { ctx, campaign, occurrence, startedAt } = page;
  const nominal = occurrenceInstant(occurrence) ?? startedAt;
  if (userIds.length === 0) return [];
  if (!campaign.when.userTimezone) {
    return [
      { dueAt: userDue(campaign, nominal, campaign.when.timezone, startedAt).at, userIds: [...userIds] },
    ];
  }
  const profiles = new Map(
    (await ctx.storage.getProfiles(userIds)).map((profile) => [profile.userId, profile]),
  );
  const groups = new Map<number, UserId[]>();
  const passed: UserId[] = [];
  for (const userId of userIds) {
    const due = userDue(campaign, nominal, zoneOf(campaign, profiles.get(userId)?.timezone), startedAt);
    if (due.kind === 'passed' && campaign.when.userTimezone.ifPassed === 'skip') {
      passed.push(userId);
      continue;
    }
    const group = groups.get(due.at.getTime());
    if (group) group.push(userId);
    else groups.set(due.at.getTime(), [userId]);
  }
  if (passed.length > 0) await skipPassed(page, passed, profiles);
  return [...groups].map(([at, ids]) => ({ dueAt: new Date(at), userIds: ids }));
}

async function skipPassed(
  page: PageRun,
  userIds: UserId[],
  profiles: Map<UserId, { timezone?: string | undefined }>,
): Promise<void> {
  const { ctx, campaign, occurrence, now } = page;
  const log = decisionLog(ctx, campaign, occurrence);
  // Each row goes in with its decision, both only if the row is new: a user already there was decided before.
  const rows = userIds.map(
    (userId): RecipientInsert => ({
      campaignId: campaign.id,
      occurrence,
      userId,
      state: 'skipped',
      reason: 'time-passed',
      createdAt: now,
      updatedAt: now,
      decision: log.decision(userId, 'skipped', 'time-passed', {
        zone: zoneOf(campaign, profiles.get(userId)?.timezone),
        ifPassed: 'skip',
      }),
    }),
  );
  await ctx.storage.insertRecipients(rows);
}

/** The whole audience of the last occurrence is queued: a campaign with nothing left to schedule is complete. */
async function finishOccurrence(ctx: EngineContext, campaign: Campaign): Promise<void> {
  const current = await ctx.storage.getCampaign(campaign.id);
  if (!current || current.nextRunAt !== null || current.status !== 'running') return;
  const written = await ctx.storage.updateCampaign(
    { ...current, status: 'completed', updatedAt: ctx.clock.now(), version: current.version + 1 },
    current.version,
  );
  if (written)
    ctx.emit({ type: 'campaign-status', campaignId: current.id, from: 'running', to: 'completed' });
}
