import { type Campaign, isLive } from '../../model/index.js';
import type { EngineContext } from '../context.js';
import { JobName } from '../jobs.js';
import { seriesAnchor } from './lifecycle.js';
import { actAtFor, nextDueAt, nominalFor } from './next-due.js';
import { occurrenceId } from './occurrence.js';

/**
 * One scheduler pass over every scheduled or running campaign whose next
 * moment has come. Safe to run on many machines at once, with no lease: the
 * campaign's version lets one pass per moment move it on (and emit the
 * start), the occurrence's dedupe key and `withdrawLostStart` keep a second
 * page 0 out of the queue, and should a worker take one first, fan-out finds
 * the page recorded and reads nothing (fanout.ts, `rerunOfRecordedPage`)
 * (packages/adapter-postgres/test/schedulers-everywhere.test.ts).
 *
 * - A scheduled (past-behaviour) campaign gets its occurrence queued (page 0
 *   of its audience) and its next moment computed. `nextRunAt` is when the
 *   scheduler acts: the occurrence's instant, or for delivery in the user's
 *   zone the moment its wall-clock time first comes (UTC+14).
 * - A live campaign's moments are its start (armed: running) and its end
 *   (disarmed: completed). Events do the rest.
 */
export async function runScheduler(ctx: EngineContext): Promise<number> {
  const now = ctx.clock.now();
  const due = await ctx.storage.listCampaigns({ status: ['scheduled', 'running'], dueBy: now });
  let started = 0;
  for (const campaign of due) {
    if (!campaign.nextRunAt) continue;
    const acted = isLive(campaign.when.schedule)
      ? await armOrDisarm(ctx, campaign, now)
      : await startOccurrence(ctx, campaign, campaign.nextRunAt, now);
    if (acted) started++;
  }
  return started;
}

async function startOccurrence(
  ctx: EngineContext,
  campaign: Campaign,
  actAt: Date,
  now: Date,
): Promise<boolean> {
  const nominal = nominalFor(campaign.when, actAt);
  const occurrence = occurrenceId(nominal);
  const startKey = `${campaign.id}|${occurrence}|p|start`;
  // Queued before the campaign moves on, so a crash between the two never loses an occurrence.
  const queued = await ctx.queue.enqueue([
    {
      name: JobName.audiencePage,
      payload: { campaignId: campaign.id, occurrence, after: null, page: 0, startedAt: now.toISOString() },
      runAt: now,
      dedupeKey: startKey,
    },
  ]);
  const next = nextDueAt(campaign.when, nominal, seriesAnchor(campaign));
  const written = await ctx.storage.updateCampaign(
    {
      ...campaign,
      status: 'running',
      nextRunAt: next ? actAtFor(campaign.when, next) : null,
      updatedAt: now,
      version: campaign.version + 1,
    },
    campaign.version,
  );
  if (!written && queued > 0) await withdrawLostStart(ctx, campaign.id, occurrence, startKey);
  if (written) {
    ctx.logger.info('campaign occurrence started', { campaignId: campaign.id, occurrence });
    ctx.emit({ type: 'occurrence-started', campaignId: campaign.id, occurrence });
    if (campaign.status !== 'running')
      ctx.emit({ type: 'campaign-status', campaignId: campaign.id, from: campaign.status, to: 'running' });
  }
  return written;
}

/**
 * This pass lost the version check, yet its page-0 job was added. Either
 * the winner's enqueue came after it and was deduped against it (this job
 * is then the occurrence's only start, and must stay), or the winner's page
 * 0 had already run to its end, freeing the dedupe key (this job is a second
 * start). Only the second leaves a recorded first page (fan-out records a
 * page before its job completes), so that record decides. If a worker took
 * the job meanwhile, the same record makes its fan-out read and queue nothing.
 */
async function withdrawLostStart(
  ctx: EngineContext,
  campaignId: Campaign['id'],
  occurrence: string,
  startKey: string,
): Promise<void> {
  if (await ctx.storage.getAudiencePage({ campaignId, occurrence, after: '' }))
    await ctx.queue.cancel(startKey);
}

/** A live campaign at its start is armed (running until its end); at its end it is disarmed (completed). */
async function armOrDisarm(ctx: EngineContext, campaign: Campaign, now: Date): Promise<boolean> {
  const arming = campaign.status === 'scheduled';
  const end = campaign.when.end ?? null;
  const ended = end !== null && now >= end;
  const written = await ctx.storage.updateCampaign(
    {
      ...campaign,
      status: arming && !ended ? 'running' : 'completed',
      nextRunAt: arming && !ended ? end : null,
      updatedAt: now,
      version: campaign.version + 1,
    },
    campaign.version,
  );
  if (written) {
    ctx.logger.info(arming && !ended ? 'live campaign armed' : 'live campaign disarmed at its end', {
      campaignId: campaign.id,
    });
    const to = arming && !ended ? 'running' : 'completed';
    if (to !== campaign.status)
      ctx.emit({ type: 'campaign-status', campaignId: campaign.id, from: campaign.status, to });
  }
  return written;
}
