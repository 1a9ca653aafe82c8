import type { Campaign, Recipient, SkipReason, UserId } from '../../model/index.js';
import { mapLimit } from '../collections.js';
import type { EngineContext } from '../context.js';
import { type DecisionLog, decisionLog } from '../decisions.js';
import { deliverBatchJobs } from '../fanout/batch-jobs.js';
import { type DeliverBatchJob, type JobResult, type RedeliverJob, retryWhilePaused } from '../jobs.js';
import { occurrenceInstant } from '../schedule/occurrence.js';
import { zoneOf } from '../schedule/wave.js';
import { batchVerdicts, gateWithoutCounters, renderContext, takeCounters } from './gate-batch.js';
import { inControlGroup } from './gates/control-group.js';
import { checkDnd } from './gates/dnd.js';
import { blockedReason, lateReason } from './gates/window.js';
import { zoneFactsAt } from './gates/zone-facts.js';
import { delivery, type SendResult, sendOne } from './send.js';
import { settleRecipients, update } from './settle.js';

export { blockedReason } from './gates/window.js';

/**
 * Gates, renders and sends one batch of a campaign occurrence. Every gate is
 * checked here, when the batch is picked up, not when it was queued:
 * control group, stop / end / cut-off, start and due time, subscriptions,
 * Do-Not-Disturb in the user's zone, TTL, the template, then the global
 * caps and the throttle (one atomic counter step). Safe to run twice:
 * recipients are inserted once per (campaign, occurrence, user), only those
 * still pending are worked on, and a subscription with a final outcome is
 * not sent again.
 */
export async function deliverBatch(ctx: EngineContext, job: DeliverBatchJob): Promise<JobResult> {
  const campaign = await ctx.storage.getCampaign(job.campaignId);
  if (!campaign) {
    ctx.logger.warn('delivery for a missing campaign dropped', { campaignId: job.campaignId });
    return { kind: 'done' };
  }
  const now = ctx.clock.now();
  if (campaign.status === 'paused') return retryWhilePaused(now);
  const dueAt = job.dueAt ?? occurrenceInstant(job.occurrence) ?? now;
  const log = decisionLog(ctx, campaign, job.occurrence);
  try {
    const pending = await admitRecipients(ctx, campaign, job, now, log);
    if (pending.length === 0) return { kind: 'done' };

    const blocked = blockedReason(campaign, now);
    if (blocked) {
      await skip(ctx, campaign, job.occurrence, pending, blocked, now, log);
      return { kind: 'done' };
    }
    // Nothing before start, nothing before the message is due.
    const notBefore = maxDate(dueAt, campaign.when.start ?? dueAt);
    if (now < notBefore) return { kind: 'later', runAt: notBefore };
    await gateAndSend(ctx, campaign, job, pending, dueAt, now, log);
    return { kind: 'done' };
  } finally {
    await log.flush();
  }
}

/** Inserts the batch's recipient rows (control-group members as `control`); returns the users still pending. */
async function admitRecipients(
  ctx: EngineContext,
  campaign: Campaign,
  job: DeliverBatchJob,
  now: Date,
  log: DecisionLog,
): Promise<UserId[]> {
  const known = new Set(
    (await ctx.storage.getRecipients(campaign.id, job.occurrence, job.userIds)).map((r) => r.userId),
  );
  const fresh = job.userIds.filter((userId) => !known.has(userId));
  const rows = fresh.map(
    (userId): Recipient => ({
      campaignId: campaign.id,
      occurrence: job.occurrence,
      userId,
      ...(inControlGroup(campaign.id, userId, campaign.setup.controlGroupPercent)
        ? { state: 'control', reason: 'control' }
        : { state: 'pending', reason: null }),
      createdAt: now,
      updatedAt: now,
    }),
  );
  await ctx.storage.insertRecipients(rows);
  for (const row of rows) {
    if (row.state === 'control') {
      log.add(row.userId, 'control', 'control', { percent: campaign.setup.controlGroupPercent });
    }
  }
  return (await ctx.storage.getRecipients(campaign.id, job.occurrence, job.userIds))
    .filter((recipient) => recipient.state === 'pending')
    .map((recipient) => recipient.userId);
}

async function gateAndSend(
  ctx: EngineContext,
  campaign: Campaign,
  job: DeliverBatchJob,
  pending: UserId[],
  dueAt: Date,
  now: Date,
  log: DecisionLog,
): Promise<void> {
  const [profiles, subscriptions, earlier] = await Promise.all([
    ctx.storage.getProfiles(pending),
    ctx.storage.listSubscriptions(pending),
    ctx.storage.listDeliveries(campaign.id, job.occurrence, pending),
  ]);
  const zones = zoneFactsAt(ctx, campaign, now);
  const verdicts = batchVerdicts(campaign, job.occurrence, dueAt, log);
  const ready = await gateWithoutCounters(
    ctx,
    campaign,
    job,
    pending,
    { profiles, subscriptions, earlier },
    dueAt,
    now,
    zones,
    verdicts,
  );
  const counted = await takeCounters(ctx, campaign, ready, now, zones, verdicts);

  const outcomes = await mapLimit(counted.sends, ctx.sendConcurrency, (send) =>
    sendOne(ctx, campaign, job.occurrence, send, 1, {
      dueAt,
      counterKeys: counted.counterKeys.get(send.userId) ?? [],
      event: job.event,
    }),
  );
  await recordFinal(ctx, outcomes);
  await ctx.storage.updateRecipients(verdicts.skips, now);
  await enqueueDelays(ctx, campaign, job, dueAt, verdicts.delays);
  const settled = await settleRecipients(
    ctx,
    campaign,
    job.occurrence,
    unique([...outcomes.map((o) => o.userId), ...counted.settleOnly]),
    log,
    counted.sentFacts,
  );
  await releaseUnsent(ctx, settled.undeliverable, counted.counterKeys, now);
}

/** The final outcomes of a job's sends, in one storage write. */
async function recordFinal(ctx: EngineContext, results: readonly SendResult[]): Promise<void> {
  const rows = results.flatMap((result) => (result.delivery ? [result.delivery] : []));
  if (rows.length > 0) await ctx.storage.recordDeliveries(rows);
}

/** Counted messages that were not sent give their units back, so a failed send never uses up a cap. */
async function releaseUnsent(
  ctx: EngineContext,
  undeliverable: readonly UserId[],
  counted: Map<UserId, string[]>,
  now: Date,
): Promise<void> {
  const keys = undeliverable.flatMap((userId) => counted.get(userId) ?? []);
  if (keys.length > 0) await ctx.counters.release(keys, now);
}

async function enqueueDelays(
  ctx: EngineContext,
  campaign: Campaign,
  job: DeliverBatchJob,
  dueAt: Date,
  delays: Map<number, UserId[]>,
): Promise<void> {
  const jobs = [...delays].flatMap(([until, userIds]) =>
    deliverBatchJobs(userIds, ctx.batchSize, {
      campaignId: campaign.id,
      occurrence: job.occurrence,
      dueAt,
      event: job.event,
      runAt: new Date(until),
      dedupeKey: (first) => `${campaign.id}|${job.occurrence}|w|${first}|${until}`,
    }),
  );
  if (jobs.length > 0) await ctx.queue.enqueue(jobs);
}

/** Sends again to one subscription after a retryable answer; the window, DND and TTL are checked again. */
export async function redeliver(ctx: EngineContext, job: RedeliverJob): Promise<JobResult> {
  const campaign = await ctx.storage.getCampaign(job.campaignId);
  if (!campaign) return { kind: 'done' };
  const now = ctx.clock.now();
  if (campaign.status === 'paused') return retryWhilePaused(now);
  const log = decisionLog(ctx, campaign, job.occurrence);
  try {
    const [subscription, profile] = await Promise.all([
      ctx.storage.getSubscription(job.subscriptionId),
      ctx.storage.getProfile(job.userId),
    ]);
    const dueAt = job.dueAt ?? occurrenceInstant(job.occurrence) ?? now;
    const dnd = campaign.when.dnd ?? ctx.dnd;
    if (subscription && dnd) {
      const check = checkDnd(dnd, zoneOf(campaign, profile?.timezone), now);
      if (check.inside && !lateReason(campaign, check.endsAt, dueAt)) {
        // A retry never lands inside DND: it waits for the window's end like a first send.
        return { kind: 'later', runAt: check.endsAt };
      }
    }
    const blocked =
      blockedReason(campaign, now) ??
      (now.getTime() > dueAt.getTime() + campaign.what.ttlSeconds * 1000 ? 'expired' : null);
    if (!subscription || blocked) {
      await ctx.storage.recordDeliveries([
        delivery(campaign, job.occurrence, job.userId, job.subscriptionId, {
          status: 'failed',
          statusCode: null,
          reason: subscription ? `not retried: ${blocked}` : 'subscription removed before retry',
          attempts: job.attempts,
          at: now,
        }),
      ]);
    } else {
      const rendered = await ctx.renderer.render(
        campaign.what,
        renderContext(job.userId, profile ?? undefined, job.event),
        { onMissingValue: campaign.setup.onMissingValue },
      );
      if (rendered.ok) {
        const sent = await sendOne(
          ctx,
          campaign,
          job.occurrence,
          { userId: job.userId, subscription, message: rendered.message },
          job.attempts + 1,
          { dueAt, counterKeys: job.counterKeys, event: job.event },
        );
        await recordFinal(ctx, [sent]);
      }
    }
    const settled = await settleRecipients(ctx, campaign, job.occurrence, [job.userId], log);
    if (settled.undeliverable.length > 0 && job.counterKeys.length > 0) {
      await ctx.counters.release(job.counterKeys, now);
    }
    return { kind: 'done' };
  } finally {
    await log.flush();
  }
}

async function skip(
  ctx: EngineContext,
  campaign: Campaign,
  occurrence: string,
  userIds: readonly UserId[],
  reason: SkipReason,
  now: Date,
  log: DecisionLog,
): Promise<void> {
  await ctx.storage.updateRecipients(
    userIds.map((userId) => update(campaign, occurrence, userId, 'skipped', reason)),
    now,
  );
  for (const userId of userIds) log.add(userId, 'skipped', reason, { at: now.toISOString() });
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

function maxDate(a: Date, b: Date): Date {
  return a > b ? a : b;
}
