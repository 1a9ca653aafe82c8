import type { Campaign, JsonValue, SkipReason, UserId } from '../../model/index.js';
import type { RecipientUpdate } from '../../ports/index.js';
import { groupBy } from '../collections.js';
import type { EngineContext } from '../context.js';
import type { DecisionLog } from '../decisions.js';

/**
 * A pending recipient becomes delivered once any of their subscriptions got
 * the message, or undeliverable once every subscription has a final outcome
 * and none was sent. Each transition out of pending is logged once.
 */
export async function settleRecipients(
  ctx: EngineContext,
  campaign: Campaign,
  occurrence: string,
  userIds: readonly UserId[],
  log: DecisionLog,
  factsOf: ReadonlyMap<UserId, Record<string, JsonValue>> = new Map(),
): Promise<{ delivered: UserId[]; undeliverable: UserId[] }> {
  const result = { delivered: [] as UserId[], undeliverable: [] as UserId[] };
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
  const subscriptionsOf = groupBy(subscriptions, (s) => s.userId);
  const updates: RecipientUpdate[] = [];
  for (const userId of userIds) {
    if (!pending.has(userId)) continue;
    const done = deliveriesOf.get(userId) ?? [];
    const outcomes = done.map((d) => `${d.status}${d.statusCode === null ? '' : ` ${d.statusCode}`}`);
    if (wasSent(userId)) {
      updates.push(update(campaign, occurrence, userId, 'delivered', null));
      log.add(userId, 'sent', null, { ...factsOf.get(userId), outcomes });
      result.delivered.push(userId);
      continue;
    }
    const finalIds = new Set(done.map((d) => d.subscriptionId));
    const open = (subscriptionsOf.get(userId) ?? []).filter((s) => !finalIds.has(s.id));
    if (open.length === 0) {
      updates.push(update(campaign, occurrence, userId, 'undeliverable', null));
      log.add(userId, 'undeliverable', done[0]?.reason ?? null, { outcomes });
      result.undeliverable.push(userId);
    }
  }
  await ctx.storage.updateRecipients(updates, ctx.clock.now());
  return result;
}

export function update(
  campaign: Campaign,
  occurrence: string,
  userId: UserId,
  state: RecipientUpdate['state'],
  reason: SkipReason | null,
): RecipientUpdate {
  return { campaignId: campaign.id, occurrence, userId, state, reason };
}
