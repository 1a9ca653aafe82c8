import { assertNever } from '../../errors/index.js';
import type { Delivery, UserId } from '../../model/index.js';
import type { DeliveryOutcome } from '../context.js';
import { pushServiceOf } from '../faults.js';
import { JobName } from '../jobs.js';
import { backoffDelay } from './backoff.js';
import { type BatchRun, deliveryRow, type Send } from './batch-run.js';
import { payloadJson } from './payload.js';

/** Which try of a message this is, and the counters it took (given back if it ends up not sent). */
export interface SendAttempt {
  /** 1 for the first send; a redelivery carries the count on. */
  attempt: number;
  counterKeys: string[];
}

/** What one send came to, and the delivery row the caller records (null for a retry: no final outcome yet). */
export interface SendResult {
  userId: UserId;
  outcome: DeliveryOutcome;
  delivery: Delivery | null;
}

/**
 * Sends one message and acts on its outcome: sent, gone (the subscription
 * is removed), failed, or retry (a redelivery job at the later of the
 * service's Retry-After and exponential backoff). The final outcome's
 * delivery row is returned, not written: a job records all of its rows in
 * one `recordDeliveries` call (a crash before it at worst sends again, as
 * a crash mid-job always could).
 */
export async function sendOne(run: BatchRun, send: Send, sendAttempt: SendAttempt): Promise<SendResult> {
  const { ctx, campaign, occurrence } = run;
  const { userId, subscription, message } = send;
  const provider = ctx.providers[subscription.target];
  const now = ctx.clock.now();
  if (!provider) throw new Error(`no provider for ${subscription.target}`);
  const expiresAt = new Date(now.getTime() + campaign.what.ttlSeconds * 1000);
  const token = ctx.tokens.sign({
    campaignId: campaign.id,
    occurrence,
    userId,
    expiresAt: new Date(now.getTime() + ctx.reportTokenTtlMs),
  });
  const payload = payloadJson(campaign.what, message, {
    campaignId: campaign.id,
    occurrence,
    userId,
    token,
    expiresAt,
    ...(ctx.reportUrl ? { reportUrl: ctx.reportUrl } : {}),
  });
  let outcome: DeliveryOutcome;
  let thrown: unknown;
  try {
    outcome = await provider.send(
      {
        subscription,
        payload,
        ttlSeconds: campaign.what.ttlSeconds,
        urgency: campaign.what.urgency,
        ...(campaign.what.topic ? { topic: campaign.what.topic } : {}),
        campaignId: campaign.id,
      },
      now,
    );
  } catch (error) {
    // A message that can never be sent (too large, bad config) fails this
    // recipient, not the whole batch.
    outcome = { kind: 'failed', statusCode: null, reason: (error as Error).message };
    thrown = error;
  }
  ctx.faults.observe({ campaignId: campaign.id, subscription, outcome, error: thrown });
  ctx.emit({
    type: 'delivery',
    campaignId: campaign.id,
    occurrence,
    userId,
    target: subscription.target,
    outcome: outcome.kind,
    pushService: pushServiceOf(subscription),
    ...(outcome.statusCode !== null ? { status: outcome.statusCode } : {}),
    ...(outcome.kind === 'failed' || outcome.kind === 'retry' ? { reason: outcome.reason } : {}),
  });
  const row = await actOnOutcome(run, { send, outcome, ...sendAttempt });
  return { userId, outcome, delivery: row };
}

/** Removes a gone subscription or queues a retry; returns the delivery row of a final outcome. */
async function actOnOutcome(
  run: BatchRun,
  { send, outcome, attempt, counterKeys }: { send: Send; outcome: DeliveryOutcome } & SendAttempt,
): Promise<Delivery | null> {
  const { ctx, campaign, occurrence } = run;
  const { userId, subscription } = send;
  const now = ctx.clock.now();
  const record = (status: Delivery['status'], statusCode: number | null, reason: string | null) =>
    deliveryRow(run, userId, subscription, {
      status,
      statusCode,
      reason,
      attempts: attempt,
      at: now,
    });
  switch (outcome.kind) {
    case 'sent':
      return record('sent', outcome.statusCode, null);
    case 'gone': {
      const address = subscription.target === 'webpush' ? subscription.endpoint : subscription.deviceToken;
      await ctx.storage.removeSubscription(subscription.id, { ifEndpoint: address });
      return record('gone', outcome.statusCode, 'subscription expired or unsubscribed');
    }
    case 'failed':
      // A configuration fault was logged once by ctx.faults when the outcome came.
      return record('failed', outcome.statusCode, outcome.reason);
    case 'retry': {
      if (attempt >= ctx.retry.maxAttempts) {
        return record('failed', outcome.statusCode, `gave up after ${attempt} attempts: ${outcome.reason}`);
      }
      const backoff = new Date(now.getTime() + backoffDelay(ctx.retry, attempt, ctx.random));
      const runAt = outcome.retryAt > backoff ? outcome.retryAt : backoff;
      await ctx.queue.enqueue([
        {
          name: JobName.redeliver,
          payload: {
            campaignId: campaign.id,
            occurrence,
            userId,
            subscriptionId: subscription.id,
            attempts: attempt,
            dueAt: run.dueAt.toISOString(),
            counterKeys,
            ...(run.event ? { event: run.event } : {}),
          },
          runAt,
          dedupeKey: `${campaign.id}|${occurrence}|r|${subscription.id}|${attempt}`,
        },
      ]);
      return null;
    }
    default:
      return assertNever(outcome, 'delivery outcome');
  }
}
