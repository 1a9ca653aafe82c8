import { assertNever } from '../errors/index.js';
import type {
  Campaign,
  Delivery,
  Profile,
  Recipient,
  SkipReason,
  Subscription,
  UserId,
} from '../model/index.js';
import type { RecipientUpdate } from '../ports/index.js';
import { backoffDelay } from './backoff.js';
import { mapLimit } from './concurrency.js';
import type { DeliveryOutcome, EngineContext } from './context.js';
import { inControlGroup } from './ids.js';
import { type DeliverBatchJob, JobName, type RedeliverJob } from './jobs.js';
import { buildPayload } from './payload.js';
import type { RenderedMessage } from './render.js';

/** What a delivery job asks of the worker when it cannot finish now. */
export type JobResult = { kind: 'done' } | { kind: 'later'; runAt: Date };

/** Why a campaign cannot deliver at `now`, checked when a message is picked up, not when queued. */
export function blockedReason(campaign: Campaign, now: Date): SkipReason | null {
  if (campaign.status === 'stopped') return 'stopped';
  if (campaign.when.end && now > campaign.when.end) return 'ended';
  if (campaign.when.cutoff && now > campaign.when.cutoff) return 'cutoff';
  return null;
}

/**
 * Gates, renders and sends one batch of a campaign occurrence. Safe to run
 * twice: recipients are inserted once per (campaign, occurrence, user), only
 * those still pending are worked on, and subscriptions that already have a
 * final outcome are not sent again.
 */
export async function deliverBatch(ctx: EngineContext, job: DeliverBatchJob): Promise<JobResult> {
  const campaign = await ctx.storage.getCampaign(job.campaignId);
  if (!campaign) {
    ctx.logger.warn('delivery for a missing campaign dropped', { campaignId: job.campaignId });
    return { kind: 'done' };
  }
  const now = ctx.clock.now();
  if (campaign.status === 'paused') return { kind: 'later', runAt: new Date(now.getTime() + 60_000) };

  await ctx.storage.insertRecipients(
    job.userIds.map(
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
    ),
  );
  const pending = (await ctx.storage.getRecipients(campaign.id, job.occurrence, job.userIds))
    .filter((recipient) => recipient.state === 'pending')
    .map((recipient) => recipient.userId);
  if (pending.length === 0) return { kind: 'done' };

  const blocked = blockedReason(campaign, now);
  if (blocked) {
    await skip(ctx, campaign, job.occurrence, pending, blocked, now);
    return { kind: 'done' };
  }

  const [profiles, subscriptions, earlier] = await Promise.all([
    ctx.storage.getProfiles(pending),
    ctx.storage.listSubscriptions(pending),
    ctx.storage.listDeliveries(campaign.id, job.occurrence, pending),
  ]);
  const profileOf = new Map(profiles.map((profile) => [profile.userId, profile]));
  const alreadyFinal = new Set(earlier.map((delivery) => delivery.subscriptionId));
  const subscriptionsOf = groupBy(subscriptions, (subscription) => subscription.userId);

  const updates: RecipientUpdate[] = [];
  const sends: { userId: UserId; subscription: Subscription; message: RenderedMessage }[] = [];
  for (const userId of pending) {
    const own = (subscriptionsOf.get(userId) ?? []).filter((s) => ctx.providers[s.target] !== undefined);
    if (own.length === 0) {
      updates.push(update(campaign, job.occurrence, userId, 'skipped', 'no-subscription'));
      continue;
    }
    const rendered = await ctx.renderer.render(campaign.what, renderContext(userId, profileOf.get(userId)));
    if (!rendered.ok) {
      ctx.logger.info('recipient skipped: template did not render', {
        campaignId: campaign.id,
        userId,
        issues: rendered.issues,
      });
      updates.push(update(campaign, job.occurrence, userId, 'skipped', 'render-failed'));
      continue;
    }
    for (const subscription of own) {
      if (!alreadyFinal.has(subscription.id)) sends.push({ userId, subscription, message: rendered.message });
    }
  }

  const outcomes = await mapLimit(sends, ctx.sendConcurrency, (send) =>
    sendOne(ctx, campaign, job.occurrence, send.userId, send.subscription, send.message, 1),
  );
  await ctx.storage.updateRecipients(updates, now);
  await settleRecipients(ctx, campaign, job.occurrence, unique(outcomes.map((o) => o.userId)));
  return { kind: 'done' };
}

/** Sends again to one subscription after a retryable answer. */
export async function redeliver(ctx: EngineContext, job: RedeliverJob): Promise<JobResult> {
  const campaign = await ctx.storage.getCampaign(job.campaignId);
  if (!campaign) return { kind: 'done' };
  const now = ctx.clock.now();
  if (campaign.status === 'paused') return { kind: 'later', runAt: new Date(now.getTime() + 60_000) };
  const subscription = await ctx.storage.getSubscription(job.subscriptionId);
  const blocked = blockedReason(campaign, now);
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
    const profile = await ctx.storage.getProfile(job.userId);
    const rendered = await ctx.renderer.render(
      campaign.what,
      renderContext(job.userId, profile ?? undefined),
    );
    if (rendered.ok) {
      await sendOne(
        ctx,
        campaign,
        job.occurrence,
        job.userId,
        subscription,
        rendered.message,
        job.attempts + 1,
      );
    }
  }
  await settleRecipients(ctx, campaign, job.occurrence, [job.userId]);
  return { kind: 'done' };
}

async function sendOne(
  ctx: EngineContext,
  campaign: Campaign,
  occurrence: string,
  userId: UserId,
  subscription: Subscription,
  message: RenderedMessage,
  attempt: number,
): Promise<{ userId: UserId; outcome: DeliveryOutcome }> {
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
  const payload = buildPayload(campaign.what, message, {
    campaignId: campaign.id,
    occurrence,
    userId,
    token,
    expiresAt,
    ...(ctx.reportUrl ? { reportUrl: ctx.reportUrl } : {}),
  });
  let outcome: DeliveryOutcome;
  try {
    outcome = await provider.send(
      {
        subscription,
        payload: JSON.stringify(payload),
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
  }
  await recordOutcome(ctx, campaign, occurrence, userId, subscription, outcome, attempt);
  return { userId, outcome };
}

async function recordOutcome(
  ctx: EngineContext,
  campaign: Campaign,
  occurrence: string,
  userId: UserId,
  subscription: Subscription,
  outcome: DeliveryOutcome,
  attempt: number,
): Promise<void> {
  const now = ctx.clock.now();
  const record = (status: Delivery['status'], statusCode: number | null, reason: string | null) =>
    ctx.storage.recordDeliveries([
      delivery(campaign, occurrence, userId, subscription.id, {
        status,
        statusCode,
        reason,
        attempts: attempt,
        at: now,
      }),
    ]);
  switch (outcome.kind) {
    case 'sent':
      return record('sent', outcome.statusCode, null);
    case 'gone': {
      const address = subscription.target === 'webpush' ? subscription.endpoint : subscription.deviceToken;
      await ctx.storage.removeSubscription(subscription.id, { ifEndpoint: address });
      return record('gone', outcome.statusCode, 'subscription expired or unsubscribed');
    }
    case 'failed':
      if (outcome.configFault) {
        ctx.logger.error('push service refused Herald configuration', {
          campaignId: campaign.id,
          reason: outcome.reason,
        });
      }
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
          },
          runAt,
          dedupeKey: `${campaign.id}|${occurrence}|r|${subscription.id}|${attempt}`,
        },
      ]);
      return;
    }
    default:
      return assertNever(outcome, 'delivery outcome');
  }
}

/**
 * A pending recipient becomes delivered once any of their subscriptions got
 * the message, or undeliverable once every subscription has a final outcome
 * and none was sent.
 */
async function settleRecipients(
  ctx: EngineContext,
  campaign: Campaign,
  occurrence: string,
  userIds: readonly UserId[],
): Promise<void> {
  if (userIds.length === 0) return;
  const [deliveries, subscriptions] = await Promise.all([
    ctx.storage.listDeliveries(campaign.id, occurrence, userIds),
    ctx.storage.listSubscriptions(userIds),
  ]);
  const deliveriesOf = groupBy(deliveries, (d) => d.userId);
  const subscriptionsOf = groupBy(subscriptions, (s) => s.userId);
  const updates: RecipientUpdate[] = [];
  for (const userId of userIds) {
    const done = deliveriesOf.get(userId) ?? [];
    if (done.some((d) => d.status === 'sent')) {
      updates.push(update(campaign, occurrence, userId, 'delivered', null));
      continue;
    }
    const finalIds = new Set(done.map((d) => d.subscriptionId));
    const open = (subscriptionsOf.get(userId) ?? []).filter((s) => !finalIds.has(s.id));
    if (open.length === 0) updates.push(update(campaign, occurrence, userId, 'undeliverable', null));
  }
  await ctx.storage.updateRecipients(updates, ctx.clock.now());
}

async function skip(
  ctx: EngineContext,
  campaign: Campaign,
  occurrence: string,
  userIds: readonly UserId[],
  reason: SkipReason,
  now: Date,
): Promise<void> {
  await ctx.storage.updateRecipients(
    userIds.map((userId) => update(campaign, occurrence, userId, 'skipped', reason)),
    now,
  );
}

function renderContext(userId: UserId, profile: Profile | undefined) {
  return { user: { ...(profile?.properties ?? {}), id: userId } };
}

function update(
  campaign: Campaign,
  occurrence: string,
  userId: UserId,
  state: RecipientUpdate['state'],
  reason: SkipReason | null,
): RecipientUpdate {
  return { campaignId: campaign.id, occurrence, userId, state, reason };
}

function delivery(
  campaign: Campaign,
  occurrence: string,
  userId: UserId,
  subscriptionId: Delivery['subscriptionId'],
  rest: Pick<Delivery, 'status' | 'statusCode' | 'reason' | 'attempts' | 'at'>,
): Delivery {
  return { campaignId: campaign.id, occurrence, userId, subscriptionId, ...rest };
}

function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}
