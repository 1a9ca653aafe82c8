import type { Delivery, JsonValue, SkipReason, UserId } from '../../model/index.js';
import type { RecipientUpdate } from '../../ports/index.js';
import { groupBy } from '../collections.js';
import { type BatchRun, recipientUpdate } from './batch-run.js';

/** What a job itself stored of one final outcome: enough to settle its user without reading it back. */
export type StoredOutcome = Pick<Delivery, 'userId' | 'subscriptionId' | 'status' | 'statusCode' | 'reason'>;

export interface SettleOptions {
  /** The facts of each `sent` decision (the counters taken). */
  factsOf?: ReadonlyMap<UserId, Record<string, JsonValue>>;
  /** Users whose retry the TTL or the campaign's window no longer allows: unsent, they are skipped for this reason. */
  unsentAs?: ReadonlyMap<UserId, SkipReason>;
  /**
   * The final outcomes a fresh batch (`Admitted.fresh`) stored itself, by user. A user with a `sent`
   * one among them is delivered whatever else is stored, so neither their recipient row nor their
   * deliveries are read back: the update moves the row only if it is still pending. What this misses
   * can only come from a job running beside this one (the job inserted the user's recipient row, so
   * no job sent them anything before it started): reading first and that job storing later is an
   * order the read-back allows too. (Should that job have stored its outcome for the same
   * subscription first, this one's row was ignored, yet the message did go: delivered is still
   * true.) Only for a fresh batch: a retried one's earlier outcomes belong in the decision's facts.
   * Users without a `sent` outcome here are read back, unless `sendsHere` says every send of theirs
   * has its final outcome here.
   */
  storedHere?: ReadonlyMap<UserId, readonly StoredOutcome[]>;
  /**
   * How many sends the fresh batch made to each user. A user with that many outcomes in `storedHere`,
   * none `sent` (every subscription gone or refused), is undeliverable without a read-back, by the
   * reasoning above: their recipient row is this job's, and only a job running beside it could have
   * stored more.
   */
  sendsHere?: ReadonlyMap<UserId, number>;
}

/**
 * A pending recipient becomes delivered once any of their subscriptions got
 * the message, or undeliverable once every subscription has a final outcome
 * and none was sent; with `unsentAs` (a retry the TTL or the campaign's
 * window no longer allows), skipped for that reason instead. Each
 * transition out of pending is written with its decision, in one call: a
 * job that fails after it cannot lose them, and a second settle of a row
 * already moved appends nothing.
 */
export async function settleRecipients(
  run: BatchRun,
  userIds: readonly UserId[],
  {
    factsOf = new Map(),
    unsentAs = new Map(),
    storedHere = new Map(),
    sendsHere = new Map(),
  }: SettleOptions = {},
): Promise<{ delivered: UserId[]; undeliverable: UserId[]; skipped: UserId[] }> {
  const { ctx, campaign, occurrence, log } = run;
  const result = { delivered: [] as UserId[], undeliverable: [] as UserId[], skipped: [] as UserId[] };
  if (userIds.length === 0) return result;
  const sentHere = (userId: UserId) =>
    storedHere.get(userId)?.some((stored) => stored.status === 'sent') ?? false;
  const refusedHere = (userId: UserId) =>
    (sendsHere.get(userId) ?? 0) > 0 && storedHere.get(userId)?.length === sendsHere.get(userId);
  const settledHere = (userId: UserId) => sentHere(userId) || refusedHere(userId);
  const toRead = userIds.filter((userId) => !settledHere(userId));
  const [deliveries, recipients] =
    toRead.length === 0
      ? [[], []]
      : await Promise.all([
          ctx.storage.listDeliveries(campaign.id, occurrence, toRead),
          ctx.storage.getRecipients(campaign.id, occurrence, toRead),
        ]);
  const pending = new Set(recipients.filter((r) => r.state === 'pending').map((r) => r.userId));
  const deliveriesOf = groupBy(deliveries, (d) => d.userId);
  const wasSent = (userId: UserId) => deliveriesOf.get(userId)?.some((d) => d.status === 'sent') ?? false;
  // Only a pending user with nothing sent can be undeliverable, and only they
  // need their subscriptions read: in a healthy batch, nobody.
  const unsent = toRead.filter((userId) => pending.has(userId) && !wasSent(userId));
  const subscriptions = unsent.length > 0 ? await ctx.storage.listSubscriptions(unsent) : [];
  const subscriptionsOf = groupBy(subscriptions, (subscription) => subscription.userId);
  const updates: RecipientUpdate[] = [];
  const delivered = (userId: UserId, done: readonly StoredOutcome[]) => {
    const outcomes = done.map(outcomeText);
    const decision = log.decision(userId, 'sent', null, { ...factsOf.get(userId), outcomes });
    updates.push(recipientUpdate(run, 'delivered', null, decision));
    result.delivered.push(userId);
  };
  const undeliverable = (userId: UserId, done: readonly StoredOutcome[]) => {
    const outcomes = done.map(outcomeText);
    const decision = log.decision(userId, 'undeliverable', done[0]?.reason ?? null, { outcomes });
    updates.push(recipientUpdate(run, 'undeliverable', null, decision));
    result.undeliverable.push(userId);
  };
  for (const userId of userIds) {
    if (settledHere(userId)) {
      // In the order a read-back gives them (by subscription id), so the facts do not depend on which path settled.
      const done = [...(storedHere.get(userId) ?? [])].sort(bySubscriptionId);
      if (sentHere(userId)) delivered(userId, done);
      else undeliverable(userId, done);
      continue;
    }
    if (!pending.has(userId)) continue;
    const done = deliveriesOf.get(userId) ?? [];
    if (wasSent(userId)) {
      delivered(userId, done);
      continue;
    }
    const outcomes = done.map(outcomeText);
    const finalIds = new Set(done.map((d) => d.subscriptionId));
    const open = (subscriptionsOf.get(userId) ?? []).filter((subscription) => !finalIds.has(subscription.id));
    const skippedAs = unsentAs.get(userId);
    if (open.length === 0 && skippedAs !== undefined) {
      updates.push(
        recipientUpdate(run, 'skipped', skippedAs, log.decision(userId, 'skipped', skippedAs, { outcomes })),
      );
      result.skipped.push(userId);
    } else if (open.length === 0) {
      undeliverable(userId, done);
    }
  }
  await ctx.storage.updateRecipients(updates, ctx.clock.now());
  return result;
}

/** One outcome in a decision's facts: its status and the service's status code ("sent 201"). */
function outcomeText(outcome: Pick<Delivery, 'status' | 'statusCode'>): string {
  return `${outcome.status}${outcome.statusCode === null ? '' : ` ${outcome.statusCode}`}`;
}

function bySubscriptionId(a: StoredOutcome, b: StoredOutcome): number {
  return a.subscriptionId < b.subscriptionId ? -1 : a.subscriptionId > b.subscriptionId ? 1 : 0;
}
