import { assertNever } from '../../errors/index.js';
import type { Delivery, UserId } from '../../model/index.js';
import { toStorableText } from '../../model/text.js';
import type { SubscriptionRemoval } from '../../ports/index.js';
import { browserOf } from '../browsers.js';
import type { DeliveryOutcome } from '../context.js';
import { pushServiceOf } from '../faults.js';
import { backoffDelay } from './backoff.js';
import { type BatchRun, deliveryRow, type Send } from './batch-run.js';
import { payloadJson } from './payload.js';
import type { PendingRedelivery } from './redelivery-groups.js';

/** Which try of a message this is, and the counters it took (given back if it ends up not sent). */
export interface SendAttempt {
  /** 1 for the first send; a redelivery carries the count on. */
  attempt: number;
  /** Holds by an open circuit breaker since the last attempt (redeliveries carry them on); 0 when absent. */
  holds?: number;
  counterKeys: string[];
}

/** What one send came to, and what the caller writes of it: a delivery row, or for a retry its redelivery. */
export interface SendResult {
  userId: UserId;
  outcome: DeliveryOutcome;
  /** The final outcome's row; null for a retry, which has no final outcome yet. */
  delivery: Delivery | null;
  /** A gone subscription, removed by the caller when it stores the delivery row. */
  removal?: SubscriptionRemoval;
  /** A retry's redelivery, queued by the caller with others due close to it. */
  retry?: PendingRedelivery;
}

/**
 * Sends one message and acts on its outcome: sent, gone (the subscription
 * is to be removed), failed, or retry (a redelivery at the later of the
 * service's Retry-After and exponential backoff). The final outcome's
 * delivery row, a gone subscription's removal and a retry's redelivery are
 * returned, not written: the job's `OutcomeRecorder` (record-outcomes.ts)
 * stores rows and removes gone subscriptions in small groups as they
 * arrive, and queues the job's redeliveries once its sends are done (a
 * crash before they are written sends those messages again).
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
    // Reports then count under the browser that showed the message (campaigns.browsers).
    browser: browserOf(subscription),
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
  const address =
    subscription.target === 'webpush' && ctx.checkEndpointAddress
      ? await ctx.checkEndpointAddress(subscription.endpoint)
      : { ok: true as const };
  try {
    // Kept, not removed, when refused: a DNS answer can be wrong for a while; the next run checks again.
    outcome = !address.ok
      ? { kind: 'failed', statusCode: null, reason: `endpoint not allowed: ${address.reason}` }
      : await provider.send(
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
  // A reason is text from outside (a push service's answer, a provider's error): kept, and made storable.
  if (outcome.kind === 'failed' || outcome.kind === 'retry') {
    outcome = { ...outcome, reason: toStorableText(outcome.reason) };
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
  const acted = actOnOutcome(run, { send, outcome, ...sendAttempt });
  if (outcome.kind !== 'gone') return { userId, outcome, ...acted };
  // Only while its address is still the one that answered gone: a subscription refreshed meanwhile is kept.
  const ifEndpoint = subscription.target === 'webpush' ? subscription.endpoint : subscription.deviceToken;
  return { userId, outcome, ...acted, removal: { id: subscription.id, ifEndpoint } };
}

/** The delivery row of a final outcome, or a retry's redelivery. */
function actOnOutcome(
  run: BatchRun,
  { send, outcome, ...sendAttempt }: { send: Send; outcome: DeliveryOutcome } & SendAttempt,
): Pick<SendResult, 'delivery' | 'retry'> {
  const { ctx } = run;
  const { userId, subscription } = send;
  const { attempt, counterKeys } = sendAttempt;
  const now = ctx.clock.now();
  const record = (status: Delivery['status'], statusCode: number | null, reason: string | null) => ({
    delivery: deliveryRow(run, userId, subscription, {
      status,
      statusCode,
      reason,
      attempts: attempt,
      at: now,
    }),
  });
  switch (outcome.kind) {
    case 'sent':
      return record('sent', outcome.statusCode, null);
    case 'gone':
      return record('gone', outcome.statusCode, 'subscription expired or unsubscribed');
    case 'failed':
      // A configuration fault was logged once by ctx.faults when the outcome came.
      return record('failed', outcome.statusCode, outcome.reason);
    case 'retry': {
      // Held back by an open circuit breaker, the message never reached the service: no attempt is
      // spent, so an outage longer than the backoff's reach (five minutes down) cannot use up the
      // attempts. It waits for the breaker's next opening instead, bounded by its TTL (redeliver
      // skips it as expired then) and by the campaign's end.
      const held = outcome.circuitOpen === true;
      const spent = held ? attempt - 1 : attempt;
      if (!held && attempt >= ctx.retry.maxAttempts) {
        return record('failed', outcome.statusCode, `gave up after ${attempt} attempts: ${outcome.reason}`);
      }
      const holds = held ? (sendAttempt.holds ?? 0) + 1 : 0;
      const backoff = new Date(now.getTime() + backoffDelay(ctx.retry, attempt, ctx.random));
      const runAt = held || outcome.retryAt > backoff ? outcome.retryAt : backoff;
      const message = { userId, subscriptionId: subscription.id, attempts: spent, holds, counterKeys };
      return { delivery: null, retry: { message, runAt, at: now } };
    }
    default:
      return assertNever(outcome, 'delivery outcome');
  }
}
