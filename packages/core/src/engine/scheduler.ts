import type { EngineContext } from './context.js';
import { JobName } from './jobs.js';
import { nextDueAt } from './schedule.js';

/**
 * One scheduler pass: every scheduled or running campaign whose next run is
 * due gets its occurrence queued (page 0 of its audience) and its next run
 * computed. Safe to run on many machines at once: the occurrence's dedupe
 * key and the campaign's version stop a double start.
 */
export async function runScheduler(ctx: EngineContext): Promise<number> {
  const now = ctx.clock.now();
  const due = await ctx.storage.listCampaigns({ status: ['scheduled', 'running'], dueBy: now });
  let started = 0;
  for (const campaign of due) {
    const dueAt = campaign.nextRunAt;
    if (!dueAt) continue;
    const occurrence = dueAt.toISOString();
    await ctx.queue.enqueue([
      {
        name: JobName.audiencePage,
        payload: { campaignId: campaign.id, occurrence, after: null, page: 0 },
        runAt: now,
        dedupeKey: `${campaign.id}|${occurrence}|p|start`,
      },
    ]);
    const written = await ctx.storage.updateCampaign(
      {
        ...campaign,
        status: 'running',
        nextRunAt: nextDueAt(campaign.when, dueAt, campaign.createdAt),
        updatedAt: now,
        version: campaign.version + 1,
      },
      campaign.version,
    );
    if (written) {
      started++;
      ctx.logger.info('campaign occurrence started', { campaignId: campaign.id, occurrence });
    }
  }
  return started;
}
