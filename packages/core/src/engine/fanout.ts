import type { Campaign, SegmentDefinition } from '../model/index.js';
import type { JobInput } from '../ports/index.js';
import type { EngineContext } from './context.js';
import type { JobResult } from './deliver.js';
import { type AudiencePageJob, JobName } from './jobs.js';

/**
 * Reads one keyset page of an occurrence's audience and turns it into
 * delivery jobs plus the job for the next page, so a campaign of any size
 * is streamed page by page and shared by every worker. Dedupe keys make a
 * re-run of a page (after a crash) add nothing new.
 */
export async function fanOutPage(ctx: EngineContext, job: AudiencePageJob): Promise<JobResult> {
  const campaign = await ctx.storage.getCampaign(job.campaignId);
  if (!campaign || campaign.status === 'stopped') return { kind: 'done' };
  const now = ctx.clock.now();
  if (campaign.status === 'paused') return { kind: 'later', runAt: new Date(now.getTime() + 60_000) };

  const segment = await resolveSegment(campaign);
  const userIds = await ctx.storage.selectAudience(segment, { after: job.after, limit: ctx.pageSize, now });
  const jobs: JobInput[] = [];
  for (let start = 0; start < userIds.length; start += ctx.batchSize) {
    const batch = userIds.slice(start, start + ctx.batchSize);
    jobs.push({
      name: JobName.deliverBatch,
      payload: { campaignId: campaign.id, occurrence: job.occurrence, userIds: batch },
      runAt: now,
      dedupeKey: `${campaign.id}|${job.occurrence}|b|${batch[0]}`,
    });
  }
  const last = userIds.at(-1);
  if (last !== undefined && userIds.length === ctx.pageSize) {
    jobs.push({
      name: JobName.audiencePage,
      payload: { campaignId: campaign.id, occurrence: job.occurrence, after: last, page: job.page + 1 },
      runAt: now,
      dedupeKey: `${campaign.id}|${job.occurrence}|p|${last}`,
    });
  }
  await ctx.queue.enqueue(jobs);
  if (last === undefined || userIds.length < ctx.pageSize) await finishOccurrence(ctx, campaign);
  return { kind: 'done' };
}

/** The whole audience of the last occurrence is queued: a campaign with nothing left to schedule is complete. */
async function finishOccurrence(ctx: EngineContext, campaign: Campaign): Promise<void> {
  const current = await ctx.storage.getCampaign(campaign.id);
  if (!current || current.nextRunAt !== null || current.status !== 'running') return;
  await ctx.storage.updateCampaign(
    { ...current, status: 'completed', updatedAt: ctx.clock.now(), version: current.version + 1 },
    current.version,
  );
}

async function resolveSegment(campaign: Campaign): Promise<SegmentDefinition> {
  if ('segment' in campaign.who) return campaign.who.segment;
  // Saved segments arrive with the segments issue; a campaign cannot reference one before then.
  throw new Error(`Campaign ${campaign.id}: saved segment ${campaign.who.segmentId} cannot be resolved`);
}
