import { type Campaign, isLive } from '../model/index.js';
import type { Clock, Storage } from '../ports/index.js';

/**
 * What a tracked event needs to know of the campaigns, read from this
 * process's memory instead of listing and parsing every campaign per event.
 */
export interface CampaignSnapshot {
  /** Live campaigns that may react to an event: scheduled, running or paused (oldest first). */
  live: readonly Campaign[];
  /**
   * The event names of every campaign's conversion goal, whatever its status: a finished campaign
   * still converts within its window. An event with another name converts nothing.
   */
  goalNames: ReadonlySet<string>;
}

export interface CampaignCache {
  snapshot(): Promise<CampaignSnapshot>;
  /** This process wrote a campaign: the next snapshot reads them again. */
  invalidate(): void;
}

/**
 * The campaigns, re-read when this process changed one (`invalidate`, which
 * createHerald calls after every campaign write through its storage) or
 * when the copy is older than `refreshMs` on the engine's clock. So a change
 * made by another process (the dashboard's web process, another worker) is
 * seen here at most `refreshMs` later; a change made here, at once.
 *
 * One read at a time: callers arriving while it runs share it. A read that
 * began before an invalidation is handed to the callers that were waiting
 * for it but not kept, so a caller after the write always sees it.
 */
export function campaignCache({
  storage,
  clock,
  refreshMs,
}: {
  storage: Pick<Storage, 'listCampaigns'>;
  clock: Clock;
  refreshMs: number;
}): CampaignCache {
  let generation = 0;
  let kept: { snapshot: CampaignSnapshot; readAt: number; generation: number } | null = null;
  let reading: { promise: Promise<CampaignSnapshot>; generation: number } | null = null;

  function read(): Promise<CampaignSnapshot> {
    const started = generation;
    const readAt = clock.now().getTime();
    const promise = storage.listCampaigns().then((campaigns) => {
      const snapshot = snapshotOf(campaigns);
      if (started === generation) kept = { snapshot, readAt, generation: started };
      return snapshot;
    });
    reading = { promise, generation: started };
    // A failed read is not remembered: the next caller tries again.
    const forget = () => {
      if (reading?.promise === promise) reading = null;
    };
    promise.then(forget, forget);
    return promise;
  }

  return {
    snapshot() {
      if (kept && kept.generation === generation && clock.now().getTime() - kept.readAt < refreshMs) {
        return Promise.resolve(kept.snapshot);
      }
      if (reading && reading.generation === generation) return reading.promise;
      return read();
    },
    invalidate() {
      generation++;
      kept = null;
    },
  };
}

function snapshotOf(campaigns: readonly Campaign[]): CampaignSnapshot {
  const goalNames = new Set<string>();
  for (const campaign of campaigns) {
    const goal = campaign.setup.conversion;
    if (goal) goalNames.add(goal.event.name);
  }
  return {
    live: campaigns.filter(
      (campaign) =>
        (campaign.status === 'scheduled' || campaign.status === 'running' || campaign.status === 'paused') &&
        isLive(campaign.when.schedule),
    ),
    goalNames,
  };
}

/**
 * The storage as the engine uses it: every campaign write (insert, update,
 * delete) through it is followed by `written()`, whether it succeeded or not
 * (a failed optimistic update may mean another process wrote the row).
 */
export function noticingCampaignWrites(storage: Storage, written: () => void): Storage {
  const after =
    <Args extends unknown[], Answer>(write: (...args: Args) => Promise<Answer>) =>
    async (...args: Args): Promise<Answer> => {
      try {
        return await write(...args);
      } finally {
        written();
      }
    };
  const overrides: Partial<Record<PropertyKey, unknown>> = {
    insertCampaign: after(storage.insertCampaign.bind(storage)),
    updateCampaign: after(storage.updateCampaign.bind(storage)),
    deleteCampaign: after(storage.deleteCampaign.bind(storage)),
  };
  const bound = new Map<PropertyKey, unknown>();
  // A Proxy, not a spread: a host's storage may be a class instance whose methods live on its prototype.
  return new Proxy(storage, {
    get(target, key) {
      if (key in overrides) return overrides[key];
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      let method = bound.get(key);
      if (!method) {
        method = value.bind(target);
        bound.set(key, method);
      }
      return method;
    },
  });
}
