import type { CampaignId, UserId } from '../../model/index.js';
import type { JobInput } from '../../ports/index.js';
import { JobName, type TriggerEvent } from '../jobs.js';

/** What every batch of one group shares: the occurrence, when it is due, the triggering event. */
export interface BatchGroup {
  campaignId: CampaignId;
  occurrence: string;
  dueAt: Date;
  event?: TriggerEvent | undefined;
  /** When the jobs may run. */
  runAt: Date;
  /** The dedupe key of the batch that starts with this user: a re-run of what queued it adds nothing. */
  dedupeKey: (firstUserId: UserId) => string;
}

/** Deliver-batch jobs for `userIds`, `batchSize` users each. */
export function deliverBatchJobs(
  userIds: readonly UserId[],
  batchSize: number,
  group: BatchGroup,
): JobInput[] {
  const jobs: JobInput[] = [];
  for (let start = 0; start < userIds.length; start += batchSize) {
    const batch = userIds.slice(start, start + batchSize);
    jobs.push({
      name: JobName.deliverBatch,
      payload: {
        campaignId: group.campaignId,
        occurrence: group.occurrence,
        userIds: batch,
        dueAt: group.dueAt.toISOString(),
        ...(group.event ? { event: group.event } : {}),
      },
      runAt: group.runAt,
      dedupeKey: group.dedupeKey(batch[0] as UserId),
    });
  }
  return jobs;
}
