import type { Campaign, Decision, DecisionOutcome, JsonValue, UserId } from '../model/index.js';
import type { EngineContext } from './context.js';

/**
 * Collects the decisions of one job and writes them in one call (`write`: the storage's, or
 * `ctx.coalesced.appendDecisions` where concurrent calls share the statement).
 */
export function decisionLog(
  ctx: EngineContext,
  campaign: Pick<Campaign, 'id'>,
  occurrence: string,
  write: (decisions: readonly Decision[]) => Promise<void> = (decisions) =>
    ctx.storage.appendDecisions(decisions),
) {
  const pending: Decision[] = [];
  return {
    add(
      userId: UserId,
      outcome: DecisionOutcome,
      reason: string | null,
      facts: Record<string, JsonValue | undefined> = {},
    ): void {
      pending.push({
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
    },
    async flush(): Promise<void> {
      if (pending.length === 0) return;
      const batch = pending.splice(0, pending.length);
      await write(batch);
    },
  };
}
export type DecisionLog = ReturnType<typeof decisionLog>;
