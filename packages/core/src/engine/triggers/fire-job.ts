import type { Campaign, UserEvent } from '../../model/index.js';
import type { JobInput } from '../../ports/index.js';
import { JobName } from '../jobs.js';

/**
 * The queue job that sends a live campaign to one user at `dueAt` (at once
 * when that has passed), carrying the triggering event for personalisation.
 * Each trigger kind names its own dedupe key: one per event occurrence, one
 * pending reminder per key, one open inaction window per user.
 */
export function liveFireJob({
  campaign,
  event,
  occurrence,
  dueAt,
  now,
  dedupeKey,
}: {
  campaign: Campaign;
  event: UserEvent;
  occurrence: string;
  dueAt: Date;
  now: Date;
  dedupeKey: (occurrence: string) => string;
}): JobInput {
  return {
    name: JobName.liveFire,
    payload: {
      campaignId: campaign.id,
      userId: event.userId,
      occurrence,
      dueAt: dueAt.toISOString(),
      event: { name: event.name, properties: event.properties, time: event.time.toISOString() },
    },
    runAt: dueAt > now ? dueAt : now,
    dedupeKey: dedupeKey(occurrence),
  };
}
