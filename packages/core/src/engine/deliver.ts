import { DateTime } from 'luxon';
import type { Campaign, JsonValue, Profile, Recipient, SkipReason, UserId } from '../model/index.js';
import type { CounterSpec, JobInput, RecipientUpdate } from '../ports/index.js';
import { mapLimit } from './concurrency.js';
import type { EngineContext } from './context.js';
import { type DecisionLog, decisionLog } from './decisions.js';
import { capSpecs } from './gates/caps.js';
import { checkDnd } from './gates/dnd.js';
import { isThrottleKey, nextMinute, throttleSpec } from './gates/throttle.js';
import { blockedReason, lateReason } from './gates/window.js';
import { inControlGroup } from './ids.js';
import { type DeliverBatchJob, JobName, type RedeliverJob, type TriggerEvent } from './jobs.js';
import { missingFacts } from './render.js';
import { delivery, type Send, type SendResult, sendOne } from './send.js';
import { groupBy, settleRecipients, update } from './settle.js';
import { zoneOf } from './wave.js';

export { blockedReason } from './gates/window.js';

/** What a delivery job asks of the worker when it cannot finish now. */
export type JobResult = { kind: 'done' } | { kind: 'later'; runAt: Date };

const PAUSED_RETRY_MS = 60_000;

/** The instant a scheduled occurrence is named after, or null for a live occurrence. */
export function occurrenceInstant(occurrence: string): Date | null {
  const date = new Date(occurrence);
  return /^\d{4}-\d\d-\d\dT/.test(occurrence) && !Number.isNaN(date.getTime()) ? date : null;
}

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
  if (campaign.status === 'paused')
    return { kind: 'later', runAt: new Date(now.getTime() + PAUSED_RETRY_MS) };
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
  const profileOf = new Map(profiles.map((profile) => [profile.userId, profile]));
  const alreadyFinal = new Set(earlier.map((delivery) => delivery.subscriptionId));
  const subscriptionsOf = groupBy(subscriptions, (subscription) => subscription.userId);
  const dnd = campaign.when.dnd ?? ctx.dnd;

  const skips: RecipientUpdate[] = [];
  const skipUser = (
    userId: UserId,
    reason: SkipReason,
    facts: Record<string, JsonValue | undefined> = {},
  ) => {
    skips.push(update(campaign, job.occurrence, userId, 'skipped', reason));
    log.add(userId, 'skipped', reason, facts);
  };
  const delays = new Map<number, UserId[]>();
  const delay = (userId: UserId, until: Date, why: string, facts: Record<string, JsonValue | undefined>) => {
    const late = lateReason(campaign, until, dueAt);
    if (late) return skipUser(userId, late, { ...facts, wouldWaitUntil: until.toISOString(), why });
    log.add(userId, 'delayed', why, { ...facts, until: until.toISOString() });
    const group = delays.get(until.getTime());
    if (group) group.push(userId);
    else delays.set(until.getTime(), [userId]);
  };

  // Gates that need no counter: subscriptions, DND, TTL, the template.
  const ready: { userId: UserId; zone: string; localTime: string; sends: Send[] }[] = [];
  for (const userId of pending) {
    const profile = profileOf.get(userId);
    const zone = zoneOf(campaign, profile?.timezone);
    const localTime = DateTime.fromJSDate(now, { zone }).toFormat('yyyy-MM-dd HH:mm ZZZZ');
    const own = (subscriptionsOf.get(userId) ?? []).filter((s) => ctx.providers[s.target] !== undefined);
    if (own.length === 0) {
      skipUser(userId, 'no-subscription', { zone, localTime });
      continue;
    }
    if (dnd) {
      const check = checkDnd(dnd, zone, now);
      if (check.inside) {
        const facts = {
          zone,
          localTime,
          dnd: `${dnd.start}–${dnd.end}`,
          dndEndsAt: check.endsAt.toISOString(),
        };
        if (check.action === 'discard') skipUser(userId, 'dnd-discarded', facts);
        else delay(userId, check.endsAt, 'dnd', facts);
        continue;
      }
    }
    if (now.getTime() > dueAt.getTime() + campaign.what.ttlSeconds * 1000) {
      skipUser(userId, 'expired', { zone, localTime, dueAt: dueAt.toISOString() });
      continue;
    }
    const rendered = await ctx.renderer.render(campaign.what, renderContext(userId, profile, job.event), {
      onMissingValue: campaign.setup.onMissingValue,
    });
    if (!rendered.ok) {
      ctx.logger.info('recipient skipped: template did not render', {
        campaignId: campaign.id,
        userId,
        issues: rendered.issues,
      });
      skipUser(userId, rendered.reason, { zone, ...missingFacts(rendered.missing) });
      continue;
    }
    const sends = own
      .filter((subscription) => !alreadyFinal.has(subscription.id))
      .map((subscription) => ({ userId, subscription, message: rendered.message }));
    ready.push({ userId, zone, localTime, sends });
  }

  // Caps and throttle: one all-or-nothing counter step per user, in batch order.
  const counted = new Map<UserId, string[]>();
  /** What each sent message was decided on, for the `sent` decision (explain: "cap counters at the time"). */
  const sentFacts = new Map<UserId, Record<string, JsonValue>>();
  const sends: Send[] = [];
  const settleOnly: UserId[] = [];
  let throttledFrom = -1;
  for (const [index, candidate] of ready.entries()) {
    if (candidate.sends.length === 0) {
      // Every subscription already has a final outcome (a retried batch): settle, count nothing.
      settleOnly.push(candidate.userId);
      continue;
    }
    const specs = counterSpecs(ctx, campaign, candidate.userId, candidate.zone, now);
    let result: { allowed: true; counts: number[] } | null = null;
    if (specs.length > 0) {
      const consumed = await ctx.counters.consume(specs, now);
      if (!consumed.allowed) {
        const blockedBy = consumed.blockedBy;
        if (isThrottleKey(blockedBy)) {
          throttledFrom = index;
          break;
        }
        const counts = await ctx.counters.get(
          specs.map((s) => s.key),
          now,
        );
        skipUser(candidate.userId, 'capped', {
          zone: candidate.zone,
          blockedBy,
          counters: specs.map((s, i) => ({ key: s.key, count: counts[i] ?? 0, limit: s.limit })),
        });
        continue;
      }
      result = consumed;
      counted.set(
        candidate.userId,
        specs.map((s) => s.key),
      );
    }
    sentFacts.set(candidate.userId, {
      zone: candidate.zone,
      localTime: candidate.localTime,
      counters: specs.map((s, i) => ({ key: s.key, count: result?.counts[i] ?? 0, limit: s.limit })),
    });
    sends.push(...candidate.sends);
  }
  if (throttledFrom >= 0) {
    // Spread the rest over the coming minutes at the throttle's pace, so a big
    // campaign does not re-queue everyone every minute (the counter still decides).
    const perMinute = campaign.when.throttlePerMinute ?? 1;
    for (const [k, candidate] of ready.slice(throttledFrom).entries()) {
      const until = new Date(nextMinute(now).getTime() + Math.floor(k / perMinute) * 60_000);
      delay(candidate.userId, until, 'throttle', {
        zone: candidate.zone,
        throttlePerMinute: campaign.when.throttlePerMinute ?? null,
      });
    }
  }

  const outcomes = await mapLimit(sends, ctx.sendConcurrency, (send) =>
    sendOne(ctx, campaign, job.occurrence, send, 1, {
      dueAt,
      counterKeys: counted.get(send.userId) ?? [],
      event: job.event,
    }),
  );
  await recordFinal(ctx, outcomes);
  await ctx.storage.updateRecipients(skips, now);
  await enqueueDelays(ctx, campaign, job, dueAt, delays);
  const settled = await settleRecipients(
    ctx,
    campaign,
    job.occurrence,
    unique([...outcomes.map((o) => o.userId), ...settleOnly]),
    log,
    sentFacts,
  );
  await releaseUnsent(ctx, settled.undeliverable, counted, now);
}

/** The final outcomes of a job's sends, in one storage write. */
async function recordFinal(ctx: EngineContext, results: readonly SendResult[]): Promise<void> {
  const rows = results.flatMap((result) => (result.delivery ? [result.delivery] : []));
  if (rows.length > 0) await ctx.storage.recordDeliveries(rows);
}

function counterSpecs(
  ctx: EngineContext,
  campaign: Campaign,
  userId: UserId,
  zone: string,
  now: Date,
): CounterSpec[] {
  const specs = campaign.setup.ignoreGlobalLimits ? [] : capSpecs(ctx.limits, userId, zone, now);
  // Caps first: a user over their cap is skipped as capped rather than delayed by the throttle.
  if (campaign.when.throttlePerMinute !== undefined) {
    specs.push(throttleSpec(campaign.id, campaign.when.throttlePerMinute, now));
  }
  return specs;
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
  const jobs: JobInput[] = [];
  for (const [until, userIds] of delays) {
    for (let start = 0; start < userIds.length; start += ctx.batchSize) {
      const batch = userIds.slice(start, start + ctx.batchSize);
      jobs.push({
        name: JobName.deliverBatch,
        payload: {
          campaignId: campaign.id,
          occurrence: job.occurrence,
          userIds: batch,
          dueAt: dueAt.toISOString(),
          ...(job.event ? { event: job.event } : {}),
        },
        runAt: new Date(until),
        dedupeKey: `${campaign.id}|${job.occurrence}|w|${batch[0]}|${until}`,
      });
    }
  }
  if (jobs.length > 0) await ctx.queue.enqueue(jobs);
}

/** Sends again to one subscription after a retryable answer; the window, DND and TTL are checked again. */
export async function redeliver(ctx: EngineContext, job: RedeliverJob): Promise<JobResult> {
  const campaign = await ctx.storage.getCampaign(job.campaignId);
  if (!campaign) return { kind: 'done' };
  const now = ctx.clock.now();
  if (campaign.status === 'paused')
    return { kind: 'later', runAt: new Date(now.getTime() + PAUSED_RETRY_MS) };
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

function renderContext(userId: UserId, profile: Profile | undefined, event: TriggerEvent | undefined) {
  return {
    user: { ...(profile?.properties ?? {}), id: userId },
    ...(event ? { event: event.properties } : {}),
  };
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

function maxDate(a: Date, b: Date): Date {
  return a > b ? a : b;
}
