/**
 * The secondary indexes of a memory storage: what a database adapter gets
 * from its indexes, so that no read scans a whole table. Each maps a lookup
 * key to the primary keys (or, for the append-only events and decisions,
 * the array positions) of the rows it covers; rows themselves stay in their
 * tables, so a row replaced there (an update, the inspector's corruption)
 * is what the next read finds.
 *
 * Key lists are in write order, which keeps reads in the order a full scan
 * of the table gave before these indexes existed.
 */
export interface MemoryIndexes {
  /** Subscription ids by user id. A Set: a subscription moves between users and is removed. */
  subscriptionsByUser: Map<string, Set<string>>;
  /** Positions in `events` by user id. */
  eventsByUser: Map<string, number[]>;
  /** Positions in `decisions` by user id. */
  decisionsByUser: Map<string, number[]>;
  /** Report ids of `interactions` by user id, and by campaign id (tallies). */
  interactionsByUser: Map<string, string[]>;
  interactionsByCampaign: Map<string, string[]>;
  /** Keys of `recipients` by campaign id (tallies). */
  recipientsByCampaign: Map<string, string[]>;
  /** Keys of `deliveries` by campaign id (tallies), and by rowKey(campaign, occurrence, user). */
  deliveriesByCampaign: Map<string, string[]>;
  deliveriesByRecipient: Map<string, string[]>;
  /** Keys of `conversions` by campaign id (tallies). */
  conversionsByCampaign: Map<string, string[]>;
  /** Every profile's user id, for keyset paging: see `sortedUserIds`. */
  userIds: SortedIds;
}

/**
 * User ids in code-unit order, sorted lazily: a new profile id is only
 * noted in `added`, and the next page merges what was added (Array#sort is a
 * TimSort: a sorted run plus a short tail costs about one pass), so loading
 * N profiles costs one sort, not N inserts into an array.
 */
export interface SortedIds {
  sorted: string[];
  added: string[];
}

export function emptyIndexes(): MemoryIndexes {
  return {
    subscriptionsByUser: new Map(),
    eventsByUser: new Map(),
    decisionsByUser: new Map(),
    interactionsByUser: new Map(),
    interactionsByCampaign: new Map(),
    recipientsByCampaign: new Map(),
    deliveriesByCampaign: new Map(),
    deliveriesByRecipient: new Map(),
    conversionsByCampaign: new Map(),
    userIds: { sorted: [], added: [] },
  };
}

export function clearIndexes(indexes: MemoryIndexes): void {
  indexes.subscriptionsByUser.clear();
  indexes.eventsByUser.clear();
  indexes.decisionsByUser.clear();
  indexes.interactionsByUser.clear();
  indexes.interactionsByCampaign.clear();
  indexes.recipientsByCampaign.clear();
  indexes.deliveriesByCampaign.clear();
  indexes.deliveriesByRecipient.clear();
  indexes.conversionsByCampaign.clear();
  indexes.userIds.sorted.length = 0;
  indexes.userIds.added.length = 0;
}

/** Appends `value` to the list under `key`. */
export function append<V>(index: Map<string, V[]>, key: string, value: V): void {
  const list = index.get(key);
  if (list) list.push(value);
  else index.set(key, [value]);
}

/** Adds `value` to the set under `key`. */
export function addTo(index: Map<string, Set<string>>, key: string, value: string): void {
  const set = index.get(key);
  if (set) set.add(value);
  else index.set(key, new Set([value]));
}

/** Removes `value` from the set under `key`, dropping the set once empty. */
export function removeFrom(index: Map<string, Set<string>>, key: string, value: string): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) index.delete(key);
}

/** The ids, sorted by UTF-16 code unit (PostgreSQL's COLLATE "C" for ASCII ids). */
export function sortedUserIds(ids: SortedIds): readonly string[] {
  if (ids.added.length > 0) {
    for (const id of ids.added) ids.sorted.push(id);
    ids.added.length = 0;
    // No comparator: the default sort compares strings by code unit, with V8's fast path.
    ids.sorted.sort();
  }
  return ids.sorted;
}

/** The position of the first id strictly greater than `after` (0 when null): a binary search. */
export function firstAfter(sorted: readonly string[], after: string | null): number {
  if (after === null) return 0;
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((sorted[middle] as string) <= after) low = middle + 1;
    else high = middle;
  }
  return low;
}
