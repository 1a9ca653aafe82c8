import type { SkipReason, UserId } from '../../model/index.js';
import { countBy, groupBy, mapLimit } from '../collections.js';
import type { EngineContext } from '../context.js';
import { deliverBatchJobs } from '../fanout/index.js';
import type { DeliverBatchJob, JobResult } from '../jobs.js';
import { admitRecipients } from './admit.js';
import { type BatchRun, openRun, recipientUpdate } from './batch-run.js';
import { gateWithoutCounters, openGates, releaseUnsent, takeCounters } from './gate-batch.js';
import { blockedReason } from './gates/window.js';
import { outcomeGroupSize, outcomeRecorder } from './record-outcomes.js';
import { sendOne } from './send.js';
import { type StoredOutcome, settleRecipients } from './settle.js';

/**
 * Gates, renders and sends one batch of a campaign occurrence. Every gate is
 * checked here, when the batch is picked up, not when it was queued:
 * control group, stop / end / cut-off, start and due time, subscriptions,
 * Do-Not-Disturb in the user's zone, TTL, the template, then the global
 * caps and the throttle (one atomic counter step). Safe to run twice:
 * recipients are inserted once per (campaign, occurrence, user), only those
 * still pending are worked on, and a subscription with a final outcome is
 * not sent again.
 *
 * This file only orchestrates: each step (admit.ts, gate-batch.ts, send.ts,
 * settle.ts) takes the job's BatchRun and returns to here; none calls another.
 */
export async function deliverBatch(ctx: EngineContext, job: DeliverBatchJob): Promise<JobResult> {
  const run = await openRun(ctx, job);
  if (!('campaign' in run)) return run;
  const { campaign, now } = run;
  try {
    const { pending, fresh } = await admitRecipients(run, job.userIds);
    if (pending.length === 0) return { kind: 'done' };

    const blocked = blockedReason(campaign, now);
    if (blocked) {
      await skip(run, pending, blocked);
      return { kind: 'done' };
    }
    // Nothing before start, nothing before the message is due.
    const notBefore = maxDate(run.dueAt, campaign.when.start ?? run.dueAt);
    if (now < notBefore) return { kind: 'later', runAt: notBefore };
    await gateAndSend(run, pending, fresh);
    return { kind: 'done' };
  } finally {
    await run.log.flush();
  }
}

/** `fresh`: this job admitted every pending user (`admitRecipients`), so none has an earlier outcome to read. */
async function gateAndSend(run: BatchRun, pending: UserId[], fresh: boolean): Promise<void> {
  const { ctx, campaign, occurrence, now } = run;
  const [profiles, subscriptions, earlier] = await Promise.all([
    ctx.storage.getProfiles(pending),
    ctx.storage.listSubscriptions(pending),
    fresh ? [] : ctx.storage.listDeliveries(campaign.id, occurrence, pending),
  ]);
  const gates = openGates(run);
  const ready = await gateWithoutCounters(run, gates, pending, { profiles, subscriptions, earlier });
  const counted = await takeCounters(run, gates, ready);

  // Each outcome is stored as it arrives (in small groups), so a kill re-sends only what was in flight.
  const recorder = outcomeRecorder(run, outcomeGroupSize(ctx.sendConcurrency));
  // Only the user ids are kept to settle with, and on a fresh batch what each stored outcome was (not its
  // delivery row: held to the job's end, rows would outlive the young generation and die in the old one),
  // so that settling needs no read-back of the users it sent to.
  const storedOutcomes: StoredOutcome[] = [];
  const sentTo = await mapLimit(counted.sends, ctx.sendConcurrency, async (send) => {
    const { delivery } = await recorder.send(() =>
      sendOne(run, send, { attempt: 1, counterKeys: counted.counterKeys.get(send.userId) ?? [] }),
    );
    if (fresh && delivery) {
      const { userId, subscriptionId, status, statusCode, reason } = delivery;
      storedOutcomes.push({ userId, subscriptionId, status, statusCode, reason });
    }
    return send.userId;
  });
  await recorder.queueRetries();
  await ctx.storage.updateRecipients(gates.verdicts.skips, now);
  await enqueueDelays(run, gates.verdicts.delays);
  const settled = await settleRecipients(run, unique([...sentTo, ...counted.settleOnly]), {
    factsOf: counted.sentFacts,
    storedHere: groupBy(storedOutcomes, (stored) => stored.userId),
    sendsHere: fresh ? countBy(counted.sends, (send) => send.userId) : new Map(),
  });
  await releaseUnsent(run, settled.undeliverable, counted.counterKeys);
}

/** Users delayed (DND's end, the throttle's next minutes) become batches queued to run at their instant. */
async function enqueueDelays(run: BatchRun, delays: Map<number, UserId[]>): Promise<void> {
  const { ctx, campaign, occurrence } = run;
  const jobs = [...delays].flatMap(([until, userIds]) =>
    deliverBatchJobs(userIds, ctx.batchSize, {
      campaignId: campaign.id,
      occurrence,
      dueAt: run.dueAt,
      event: run.event,
      runAt: new Date(until),
      dedupeKey: (first) => `${campaign.id}|${occurrence}|w|${first}|${until}`,
    }),
  );
  if (jobs.length > 0) await ctx.queue.enqueue(jobs);
}

/** The whole batch skipped for one reason (stopped, ended, cut-off), in one write. */
async function skip(run: BatchRun, userIds: readonly UserId[], reason: SkipReason): Promise<void> {
  const { ctx, now, log } = run;
  await ctx.storage.updateRecipients(
    userIds.map((userId) =>
      recipientUpdate(
        run,
        'skipped',
        reason,
        log.decision(userId, 'skipped', reason, { at: now.toISOString() }),
      ),
    ),
    now,
  );
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

function maxDate(a: Date, b: Date): Date {
  return a > b ? a : b;
}
