import { emptyTables, type MemoryTables, memoryTablesOf } from '../adapters/memory-storage.js';
import type { Storage } from '../ports/storage.js';
import type { StorageInspector } from './harness.js';

export interface MemoryStorageInspector extends StorageInspector {
  /** Empties the storage's tables (the suite's `reset`). */
  clear(): Promise<void>;
}

/**
 * Reads the raw rows of a `memoryStorage()`, bypassing its methods. Takes the
 * storage or a function returning it, so options can be built before the
 * suite creates the storage.
 */
export function memoryStorageInspector(target: Storage | (() => Storage)): MemoryStorageInspector {
  const tables = (): MemoryTables => {
    const storage = typeof target === 'function' ? target() : target;
    const found = memoryTablesOf(storage);
    if (!found) throw new TypeError('memoryStorageInspector needs a storage made by memoryStorage()');
    return found;
  };
  /** How many rows the maps one level down hold together. */
  const sizes = (groups: Iterable<{ size: number }>): number =>
    [...groups].reduce((sum, group) => sum + group.size, 0);

  return {
    async countRows(table) {
      const t = tables();
      switch (table) {
        case 'events':
        case 'decisions':
          return t[table].length;
        case 'recipients':
          return sizes([...t.recipients.values()].flatMap((byOccurrence) => [...byOccurrence.values()]));
        case 'deliveries':
          return sizes(
            [...t.deliveries.values()].flatMap((byOccurrence) =>
              [...byOccurrence.values()].map((occurrence) => occurrence.subscriptionIds),
            ),
          );
        case 'conversions':
          return sizes(t.conversions.values());
        case 'audience_pages':
          return sizes(t.audiencePages.values());
        case 'campaign_history':
          return [...t.campaignHistory.values()].reduce((sum, entries) => sum + entries.length, 0);
        default:
          return t[table].size;
      }
    },
    async recipientState(campaignId, occurrence, userId) {
      const row = tables().recipients.get(campaignId)?.get(occurrence)?.get(userId);
      return row === undefined ? null : { state: row.state, reason: row.reason };
    },
    async subscriptionAddress(subscriptionId) {
      const row = tables().subscriptions.get(subscriptionId);
      if (row === undefined) return null;
      return row.target === 'webpush' ? row.endpoint : row.deviceToken;
    },
    async corruptCampaign(campaignId) {
      const campaigns = tables().campaigns;
      const row = campaigns.get(campaignId);
      campaigns.set(campaignId, { ...row, status: 'exploded', when: 'tomorrow' } as never);
    },
    async campaignHistoryRows(campaignId) {
      return (tables().campaignHistory.get(campaignId) ?? []).map(({ actor, action, version }) => ({
        actor,
        action,
        version,
      }));
    },
    async clear() {
      Object.assign(tables(), emptyTables());
    },
  };
}
