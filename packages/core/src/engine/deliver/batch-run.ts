import type { Campaign, Decision, Delivery, Profile, Subscription, UserId } from '../../model/index.js';
import type { RecipientUpdate } from '../../ports/index.js';
import { browserOf } from '../browsers.js';
import type { EngineContext } from '../context.js';
import { type DecisionLog, decisionLog } from '../decisions.js';
import { type JobResult, type RunOfJob, retryWhilePaused, type TriggerEvent } from '../jobs.js';
import { occurrenceInstant } from '../schedule/index.js';
import { type RenderedMessage, type RenderResult, renderContext } from './render.js';

/**
 * What every step of one delivery job shares, built once when the job is
 * picked up (`deliverBatch`, `redeliver`) and handed down to admission,
 * gates, send and settle, so no step needs the others' arguments repeated.
 */
export interface BatchRun {
  ctx: EngineContext;
  campaign: Campaign;
  occurrence: string;
  /** When these messages are due: nothing goes before it, and the TTL counts from it. */
  dueAt: Date;
  /** When the job was picked up: the instant every gate of the batch is judged at. */
  now: Date;
  /** A live campaign's triggering event: read by templates, carried into retries. */
  event: TriggerEvent | undefined;
  /**
   * Builds the job's decisions; those that move no recipient row (delayed) are written in one call
   * when the job ends, the others with their recipient's row.
   */
  log: DecisionLog;
}

/**
 * The run a delivery job (a batch, a group of retries) works in, picked up now; or the job's answer
 * when there is none to work in: done when its campaign is gone (logged), the same job a minute later
 * while the campaign is paused.
 */
export async function openRun(ctx: EngineContext, job: RunOfJob): Promise<BatchRun | JobResult> {
  const campaign = await ctx.storage.getCampaign(job.campaignId);
  if (!campaign) {
    ctx.logger.warn('delivery for a missing campaign dropped', { campaignId: job.campaignId });
    return { kind: 'done' };
  }
  const now = ctx.clock.now();
  if (campaign.status === 'paused') return retryWhilePaused(now);
  return {
    ctx,
    campaign,
    occurrence: job.occurrence,
    dueAt: job.dueAt ?? occurrenceInstant(job.occurrence) ?? now,
    now,
    event: job.event,
    log: decisionLog(ctx, campaign, job.occurrence),
  };
}

/** The campaign's message for one user of this run, with the campaign's rule for missing values. */
export function renderFor(
  run: BatchRun,
  userId: UserId,
  profile: Profile | undefined,
): Promise<RenderResult> {
  const { ctx, campaign } = run;
  return ctx.renderer.render(campaign.what, renderContext(userId, profile, run.event), {
    onMissingValue: campaign.setup.onMissingValue,
  });
}

/** One rendered message for one subscription of one user. */
export interface Send {
  userId: UserId;
  subscription: Subscription;
  message: RenderedMessage;
}

/**
 * A pending recipient row of this run's occurrence (the decision's user) moved to its final state,
 * with the decision that records why: the storage writes both together, and neither if another job
 * moved the row first.
 */
export function recipientUpdate(
  run: BatchRun,
  state: RecipientUpdate['state'],
  reason: RecipientUpdate['reason'],
  decision: Decision,
): RecipientUpdate {
  return {
    campaignId: run.campaign.id,
    occurrence: run.occurrence,
    userId: decision.userId,
    state,
    reason,
    decision,
  };
}

/**
 * A delivery row of this run's occurrence: one subscription's final outcome,
 * with its browser (unknown when the subscription was removed before a retry).
 */
export function deliveryRow(
  run: BatchRun,
  userId: UserId,
  subscription: Subscription | { id: Delivery['subscriptionId'] },
  outcome: Pick<Delivery, 'status' | 'statusCode' | 'reason' | 'attempts' | 'at'>,
): Delivery {
  return {
    campaignId: run.campaign.id,
    occurrence: run.occurrence,
    userId,
    subscriptionId: subscription.id,
    ...outcome,
    browser: 'target' in subscription ? browserOf(subscription) : null,
  };
}
