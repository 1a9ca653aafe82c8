import type { Campaign, Decision, DecisionOutcome, JsonValue, UserId } from '../model/index.js';
import type { EngineContext } from './context.js';

/**
 * Builds the decisions of one job. Those that move no recipient row are collected and written in one
 * call (`write`: the storage's, or `ctx.coalesced.appendDecisions` where concurrent calls share the
 * statement); the others go with their row's update or insert.
 */
export function decisionLog(
  ctx: EngineContext,
  campaign: Pick<Campaign, 'id'>,
  occurrence: string,
  write: (decisions: readonly Decision[]) => Promise<void> = (decisions) =>
    ctx.storage.appendDecisions(decisions),
) {
  const pending: Decision[] = [];
  /** A decision of this job's campaign and occurrence, at the clock's now. */
  const decision = (
    userId: UserId,
    outcome: DecisionOutcome,
    reason: string | null,
    facts: Record<string, JsonValue | undefined> = {},
  ): Decision => ({
    campaignId: campaign.id,
    occurrence,
    userId,
    at: ctx.clock.now(),
    outcome,
    reason,
    facts: Object.fromEntries(
      Object.entries(facts).filter((entry): entry is [string, JsonValue] => entry[1] !== undefined),
    ),
  });
  return {
    decision,
    /**
     * Queues a decision that moves no recipient row (delayed, cancelled, filtered): one that does
     * travels with its `RecipientUpdate` or `RecipientInsert` instead, so the row and its decision
     * are one write.
     */
    add(
      userId: UserId,
      outcome: DecisionOutcome,
      reason: string | null,
      facts: Record<string, JsonValue | undefined> = {},
    ): void {
      pending.push(decision(userId, outcome, reason, facts));
    },
    async flush(): Promise<void> {
      if (pending.length === 0) return;
      const batch = pending.splice(0, pending.length);
      await write(batch);
    },
  };
}
export type DecisionLog = ReturnType<typeof decisionLog>;
