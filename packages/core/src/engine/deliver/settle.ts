import type { JsonValue, SkipReason, UserId } from '../../model/index.js';
import type { RecipientUpdate } from '../../ports/index.js';
import { groupBy } from '../collections.js';
import { type BatchRun, recipientUpdate } from './batch-run.js';

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
  factsOf: ReadonlyMap<UserId, Record<string, JsonValue>> = new Map(),
  unsentAs: SkipReason | null = null,
): Promise<{ delivered: UserId[]; undeliverable: UserId[]; skipped: UserId[] }> {
  const { ctx, campaign, occurrence, log } = run;
  const result = { delivered: [] as UserId[], undeliverable: [] as UserId[], skipped: [] as UserId[] };
  if (userIds.length === 0) return result;
  const [deliveries, recipients] = await Promise.all([
    ctx.storage.listDeliveries(campaign.id, occurrence, userIds),
    ctx.storage.getRecipients(campaign.id, occurrence, userIds),
  ]);
  const pending = new Set(recipients.filter((r) => r.state === 'pending').map((r) => r.userId));
  const deliveriesOf = groupBy(deliveries, (d) => d.userId);
  const wasSent = (userId: UserId) => deliveriesOf.get(userId)?.some((d) => d.status === 'sent') ?? false;
  // Only a pending user with nothing sent can be undeliverable, and only they
  // need their subscriptions read: in a healthy batch, nobody.
  const unsent = userIds.filter((userId) => pending.has(userId) && !wasSent(userId));
  const subscriptions = unsent.length > 0 ? await ctx.storage.listSubscriptions(unsent) : [];
  const subscriptionsOf = groupBy(subscriptions, (subscription) => subscription.userId);
  const updates: RecipientUpdate[] = [];
  for (const userId of userIds) {
    if (!pending.has(userId)) continue;
    const done = deliveriesOf.get(userId) ?? [];
    const outcomes = done.map((d) => `${d.status}${d.statusCode === null ? '' : ` ${d.statusCode}`}`);
    if (wasSent(userId)) {
      updates.push(
        recipientUpdate(
          run,
          'delivered',
          null,
          log.decision(userId, 'sent', null, { ...factsOf.get(userId), outcomes }),
        ),
      );
      result.delivered.push(userId);
      continue;
    }
    const finalIds = new Set(done.map((d) => d.subscriptionId));
    const open = (subscriptionsOf.get(userId) ?? []).filter((subscription) => !finalIds.has(subscription.id));
    if (open.length === 0 && unsentAs !== null) {
      updates.push(
        recipientUpdate(run, 'skipped', unsentAs, log.decision(userId, 'skipped', unsentAs, { outcomes })),
      );
      result.skipped.push(userId);
    } else if (open.length === 0) {
      const decision = log.decision(userId, 'undeliverable', done[0]?.reason ?? null, { outcomes });
      updates.push(recipientUpdate(run, 'undeliverable', null, decision));
      result.undeliverable.push(userId);
    }
  }
  await ctx.storage.updateRecipients(updates, ctx.clock.now());
  return result;
}
