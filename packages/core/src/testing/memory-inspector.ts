import { clearTables, type MemoryTables, memoryTablesOf, rowKey } from '../adapters/memory-storage.js';
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
  const field = (row: unknown, name: string): unknown =>
    row !== null && typeof row === 'object' ? (row as Record<string, unknown>)[name] : undefined;

  return {
    async countRows(table) {
      const t = tables();
      switch (table) {
        case 'events':
        case 'decisions':
          return t[table].length;
        // Grouped by (campaign, occurrence): count the rows, not the groups.
        case 'recipients':
        case 'deliveries':
          return [...t[table].values()].reduce((sum, group) => sum + group.size, 0);
        default:
          return t[table].size;
      }
    },
    async recipientState(campaignId, occurrence, userId) {
      // In the columns, or kept whole when it did not fit them.
      const group = tables().recipients.get(rowKey(campaignId, occurrence));
      const row = group?.get(userId) ?? group?.odd.get(userId);
      if (row === undefined) return null;
      return { state: String(field(row, 'state')), reason: (field(row, 'reason') as string | null) ?? null };
    },
    async subscriptionAddress(subscriptionId) {
      const subscriptions = tables().subscriptions;
      const row = subscriptions.get(subscriptionId) ?? subscriptions.odd.get(subscriptionId);
      if (row === undefined) return null;
      return String(field(row, 'endpoint') ?? field(row, 'deviceToken'));
    },
    async corruptCampaign(campaignId) {
      const row = tables().campaigns.get(campaignId);
      tables().campaigns.set(campaignId, { ...(row as object), status: 'exploded', when: 'tomorrow' });
    },
    async clear() {
      clearTables(tables());
    },
  };
}
