import type { Recipient, UserId } from '../../model/index.js';
import type { BatchRun } from './batch-run.js';
import { inControlGroup } from './gates/control-group.js';

/** The users a job goes on with, and whether this job created all their recipient rows. */
export interface Admitted {
  pending: UserId[];
  /**
   * Every pending user's recipient row was inserted by this job: none had one
   * before, so no job of this occurrence sent them anything (outcomes are
   * stored only for recipients admitted first) and their earlier deliveries
   * need no reading. A batch run again after a kill, or a batch of users
   * another batch already admitted, is not fresh.
   */
  fresh: boolean;
}

/**
 * Inserts the batch's recipient rows (control-group members as `control`);
 * returns the users still pending. Insert-if-absent per (campaign,
 * occurrence, user) is what makes a re-run of the job send nothing twice.
 */
export async function admitRecipients(run: BatchRun, userIds: readonly UserId[]): Promise<Admitted> {
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
  const { inserted } = await ctx.storage.insertRecipients(rows);
  for (const row of rows) {
    if (row.state === 'control') {
      log.add(row.userId, 'control', 'control', { percent: campaign.setup.controlGroupPercent });
    }
  }
  // When none existed and every row went in, the states are the ones just written: reading them back
  // (a statement a job on a shared store pays for) would say the same. Otherwise another job wrote some.
  if (known.size === 0 && inserted === rows.length) {
    return {
      pending: rows.filter((row) => row.state === 'pending').map((row) => row.userId),
      fresh: true,
    };
  }
  const pending = (await ctx.storage.getRecipients(campaign.id, occurrence, userIds))
    .filter((recipient) => recipient.state === 'pending')
    .map((recipient) => recipient.userId);
  return { pending, fresh: false };
}
