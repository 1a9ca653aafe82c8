import type { Delivery, Profile, SkipReason, Subscription, UserId } from '../../model/index.js';
import { mapLimit } from '../collections.js';
import type { EngineContext } from '../context.js';
import type { JobResult, RedeliverGroupJob, Redelivery } from '../jobs.js';
import { zoneOf } from '../schedule/index.js';
import { type BatchRun, deliveryRow, openRun, renderFor, type Send } from './batch-run.js';
import { releaseUnsent } from './gate-batch.js';
import { checkDnd } from './gates/dnd.js';
import { blockedReason, lateReason, ttlLapsed } from './gates/window.js';
import { outcomeGroupSize, outcomeRecorder } from './record-outcomes.js';
import { redeliveryJob } from './redelivery-groups.js';
import type { RenderResult } from './render.js';
import { sendOne } from './send.js';
import { settleRecipients } from './settle.js';

/**
 * Sends again the messages of one run whose earlier try had a retryable
 * outcome, a group at a time (redelivery-groups.ts): one read of their
 * users' outcomes, subscriptions and profiles, the window, DND and TTL
 * checked again, the sends with their outcomes stored as they arrive, and
 * one settle of the users.
 */
export async function redeliverGroup(ctx: EngineContext, job: RedeliverGroupJob): Promise<JobResult> {
  const run = await openRun(ctx, job);
  if (!('campaign' in run)) return run;
  const { campaign } = run;
  try {
    const userIds = [...new Set(job.messages.map((message) => message.userId))];
    const [recorded, subscriptions, profiles] = await Promise.all([
      ctx.storage.listDeliveries(campaign.id, job.occurrence, userIds),
      ctx.storage.listSubscriptions(userIds),
      ctx.storage.getProfiles(userIds),
    ]);
    // A subscription with a final outcome is never sent again for this occurrence: a redelivery left by a
    // job given back at shutdown (its old holder's send failed as it stopped) may come after the new
    // holder sent the message.
    const final = new Set(recorded.map((delivery) => delivery.subscriptionId));
    const open = job.messages.filter((message) => !final.has(message.subscriptionId));
    if (open.length === 0) return { kind: 'done' };
    const reads = groupReads(subscriptions, profiles);
    const due = await holdInsideDnd(run, open, reads);
    const planned = await plan(run, due, reads);
    if (planned.unsendable.length > 0) await ctx.storage.recordDeliveries(planned.unsendable);

    const recorder = outcomeRecorder(run, outcomeGroupSize(ctx.sendConcurrency));
    await mapLimit(planned.sends, ctx.sendConcurrency, ({ send, message }) =>
      recorder.send(() =>
        sendOne(run, send, {
          attempt: message.attempts + 1,
          holds: message.holds,
          counterKeys: message.counterKeys,
        }),
      ),
    );
    await recorder.queueRetries();
    // A retry the window, the TTL or the template no longer allows leaves its recipient skipped for that
    // reason (expired, stopped, missing-value, ...), as a batch picked up that late would have, not
    // undeliverable: no service refused it. A recipient delivered already stays delivered.
    const users = [...new Set(due.map((message) => message.userId))];
    const settled = await settleRecipients(run, users, { unsentAs: planned.skippedAs });
    // A user's messages carry the same counter keys (their batch's): given back once.
    const counterKeysOf = new Map(due.map((message) => [message.userId, message.counterKeys]));
    await releaseUnsent(run, [...settled.undeliverable, ...settled.skipped], counterKeysOf);
    return { kind: 'done' };
  } finally {
    await run.log.flush();
  }
}

/** What a group read of its users. */
interface GroupReads {
  /**
   * A message's subscription while it is still its user's. One now another user's counts as removed:
   * the message was written for this one.
   */
  subscriptionOf(message: Redelivery): Subscription | undefined;
  profileOf(userId: UserId): Profile | undefined;
}

function groupReads(subscriptions: readonly Subscription[], profiles: readonly Profile[]): GroupReads {
  const byId = new Map(subscriptions.map((subscription) => [subscription.id, subscription]));
  const byUser = new Map(profiles.map((profile) => [profile.userId, profile]));
  return {
    subscriptionOf(message) {
      const subscription = byId.get(message.subscriptionId);
      return subscription?.userId === message.userId ? subscription : undefined;
    },
    profileOf: (userId) => byUser.get(userId),
  };
}

/**
 * A retry never lands inside DND: one whose user is inside the window waits for its end, as a first
 * send does, in a job of its own queued here, unless waiting would take it past the campaign's end,
 * cut-off or TTL. Returns the messages that go now.
 */
async function holdInsideDnd(
  run: BatchRun,
  messages: readonly Redelivery[],
  reads: GroupReads,
): Promise<Redelivery[]> {
  const { ctx, campaign, dueAt, now } = run;
  const dnd = campaign.when.dnd ?? ctx.dnd;
  if (!dnd) return [...messages];
  const due: Redelivery[] = [];
  const held = new Map<number, Redelivery[]>();
  for (const message of messages) {
    const check = reads.subscriptionOf(message)
      ? checkDnd(dnd, zoneOf(campaign, reads.profileOf(message.userId)?.timezone), now)
      : null;
    if (check?.inside && !lateReason(campaign, check.endsAt, dueAt)) {
      const until = check.endsAt.getTime();
      const waiting = held.get(until);
      if (waiting) waiting.push(message);
      else held.set(until, [message]);
    } else {
      due.push(message);
    }
  }
  const jobs = [...held].map(([until, waiting]) =>
    redeliveryJob(run, waiting, new Date(until), `|dnd|${until}`),
  );
  if (jobs.length > 0) await ctx.queue.enqueue(jobs);
  return due;
}

interface Planned {
  sends: { send: Send; message: Redelivery }[];
  /**
   * Final rows of messages not sent: their subscription is gone, or the campaign's window, the TTL
   * or the template no longer allows a retry.
   */
  unsendable: Delivery[];
  /** Users whose retry the window, the TTL or the template no longer allows (a subscription still there). */
  skippedAs: Map<UserId, SkipReason>;
}

/** What becomes of each message due now: sent (rendered once per user), or failed for good with its reason. */
async function plan(run: BatchRun, messages: readonly Redelivery[], reads: GroupReads): Promise<Planned> {
  const { ctx, campaign, dueAt, now } = run;
  const blocked = blockedReason(campaign, now) ?? (ttlLapsed(campaign, dueAt, now) ? 'expired' : null);
  const planned: Planned = { sends: [], unsendable: [], skippedAs: new Map() };
  const rendered = new Map<UserId, RenderResult>();
  const failed = (message: Redelivery, subscription: Subscription | undefined, reason: string) =>
    planned.unsendable.push(
      deliveryRow(run, message.userId, subscription ?? { id: message.subscriptionId }, {
        status: 'failed',
        statusCode: null,
        reason,
        attempts: message.attempts,
        at: now,
      }),
    );
  for (const message of messages) {
    const { userId } = message;
    const subscription = reads.subscriptionOf(message);
    if (!subscription) {
      failed(message, undefined, 'subscription removed before retry');
      continue;
    }
    if (blocked) {
      failed(message, subscription, `not retried: ${blocked}`);
      planned.skippedAs.set(userId, blocked);
      continue;
    }
    let result = rendered.get(userId);
    if (!result) {
      result = await render(userId);
      rendered.set(userId, result);
    }
    if (result.ok) {
      planned.sends.push({ send: { userId, subscription, message: result.message }, message });
    } else {
      failed(message, subscription, `not retried: ${result.reason}`);
      planned.skippedAs.set(userId, result.reason);
    }
  }
  return planned;

  async function render(userId: UserId): Promise<RenderResult> {
    const result = await renderFor(run, userId, reads.profileOf(userId));
    if (!result.ok) {
      ctx.logger.info('retry not sent: template did not render', {
        campaignId: campaign.id,
        userId,
        issues: result.issues,
      });
    }
    return result;
  }
}
