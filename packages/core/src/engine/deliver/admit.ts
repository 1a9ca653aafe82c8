import type { Recipient, UserId } from '../../model/index.js';
import type { BatchRun } from './batch-run.js';
import { inControlGroup } from './gates/control-group.js';

/**
 * Inserts the batch's recipient rows (control-group members as `control`);
 * returns the users still pending. Insert-if-absent per (campaign,
 * occurrence, user) is what makes a re-run of the job send nothing twice.
 */
export async function admitRecipients(run: BatchRun, userIds: readonly UserId[]): Promise<UserId[]> {
  const { ctx, campaign, occurrence, now, log } = run;
  const known = new Set(
    (await ctx.storage.getRecipients(campaign.id, occurrence, userIds)).map((recipient) => recipient.userId),
  );
  const fresh = userIds.filter((userId) => !known.has(userId));
  const rows = fresh.map(
    (userId): Recipient => ({
      campaignId: campaign.id,
      occurrence,
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
  return (await ctx.storage.getRecipients(campaign.id, occurrence, userIds))
    .filter((recipient) => recipient.state === 'pending')
    .map((recipient) => recipient.userId);
}
