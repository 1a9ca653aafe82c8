import type { UserId } from '../../model/index.js';
import type { RecipientInsert } from '../../ports/index.js';
import type { BatchRun } from './batch-run.js';
import { inControlGroup } from './gates/control-group.js';

/** The users a job goes on with, and whether this job created all their recipient rows. */
export interface Admitted {
  pending: UserId[];
  /**
   * Every user of the batch got their recipient row from this job: none had
   * one before, so no job of this occurrence sent them anything (outcomes
   * are stored only for recipients admitted first) and their earlier
   * deliveries need no reading. A batch run again after a kill, or a batch
   * of users another batch already admitted, is not fresh.
   */
  fresh: boolean;
}

/**
 * Inserts the batch's recipient rows (control-group members as `control`,
 * with their decision);
 * returns the users still pending. Insert-if-absent per (campaign,
 * occurrence, user) is what makes a re-run of the job send nothing twice.
 */
export async function admitRecipients(run: BatchRun, userIds: readonly UserId[]): Promise<Admitted> {
  const { ctx, campaign, occurrence, now, log } = run;
  const rows = [...new Set(userIds)].map((userId): RecipientInsert => {
    const base = { campaignId: campaign.id, occurrence, userId, createdAt: now, updatedAt: now };
    if (!inControlGroup(campaign.id, userId, campaign.setup.controlGroupPercent)) {
      return { ...base, state: 'pending', reason: null };
    }
    // Held back: the row and its decision are written together, only by the job that adds the row.
    const decision = log.decision(userId, 'control', 'control', {
      percent: campaign.setup.controlGroupPercent,
    });
    return { ...base, state: 'control', reason: 'control', decision };
  });
  // One statement on a first run: the insert says which rows it added, so nothing is read before or after.
  const added = new Set((await ctx.storage.insertRecipients(rows)).insertedUserIds);
  // Every row went in: their states are the ones just written, and reading them back would say the same.
  if (added.size === rows.length) {
    return { pending: rows.filter((row) => row.state === 'pending').map((row) => row.userId), fresh: true };
  }
  // Some were there already (another job's, or this one's before a kill): their state is the stored one.
  const pending = (await ctx.storage.getRecipients(campaign.id, occurrence, userIds))
    .filter((recipient) => recipient.state === 'pending')
    .map((recipient) => recipient.userId);
  return { pending, fresh: false };
}
