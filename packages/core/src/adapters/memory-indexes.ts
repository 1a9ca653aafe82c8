import { NumberColumn, StringIndex } from './memory-columns.js';

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
  /** Subscription ids by user id (a subscription moves between users and is removed). */
  subscriptionsByUser: MultiMap<string>;
  /** Positions in `events` by user id. */
  eventsByUser: MultiMap<number>;
  /** Positions in `decisions` by user id. */
  decisionsByUser: MultiMap<number>;
  /** Report ids of `interactions` by user id, and by campaign id (tallies). */
  interactionsByUser: MultiMap<string>;
  interactionsByCampaign: Map<string, string[]>;
  /** The rowKey(campaign, occurrence) groups of `recipients` and `deliveries` by campaign id (tallies). */
  occurrencesByCampaign: Map<string, Set<string>>;
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
    subscriptionsByUser: new MultiMap(),
    eventsByUser: new MultiMap(),
    decisionsByUser: new MultiMap(),
    interactionsByUser: new MultiMap(),
    interactionsByCampaign: new Map(),
    occurrencesByCampaign: new Map(),
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
  indexes.occurrencesByCampaign.clear();
  indexes.conversionsByCampaign.clear();
  indexes.userIds.sorted.length = 0;
  indexes.userIds.added.length = 0;
}

/** Appends `value` to the list under `key` (per-campaign lists: a few keys, many values). */
export function append<V>(index: Map<string, V[]>, key: string, value: V): void {
  const list = index.get(key);
  if (list) list.push(value);
  else index.set(key, [value]);
}

/** Adds `value` to the set under `key` (occurrences of a campaign: a few of each). */
export function addOnce(index: Map<string, Set<string>>, key: string, value: string): void {
  const set = index.get(key);
  if (set) set.add(value);
  else index.set(key, new Set([value]));
}

/**
 * Values by key, in the order they were added. At 100,000 users a Map
 * entry per key (about 35 bytes of heap) was more than the rows these
 * indexes point to; here keys are numbered by a StringIndex and each key's
 * values are a chain through typed arrays (first and last entry of each
 * key, next entry of each entry), so a key costs about 16 bytes of heap
 * (its reference, and its value's) and a few bytes outside it.
 */
export class MultiMap<V extends string | number> {
  #keys = new StringIndex();
  /** Entry + 1 of each key's first and last value; 0: none. */
  #first = new NumberColumn(Int32Array);
  #last = new NumberColumn(Int32Array);
  /** Entry + 1 of the next value of the same key; 0: the last one. */
  #next = new NumberColumn(Int32Array);
  #values: V[] = [];

  get(key: string): readonly V[] {
    const number = this.#keys.numberOf(key);
    const found: V[] = [];
    if (number === undefined) return found;
    for (let entry = this.#first.get(number); entry !== 0; entry = this.#next.get(entry - 1)) {
      found.push(this.#values[entry - 1] as V);
    }
    return found;
  }

  add(key: string, value: V): void {
    const number = this.#keys.add(key);
    const entry = this.#values.push(value);
    const last = this.#last.get(number);
    if (last === 0) this.#first.set(number, entry);
    else this.#next.set(last - 1, entry);
    this.#last.set(number, entry);
  }

  /** Removes one value from a key (every time it was added); the key goes with its last value. */
  remove(key: string, value: V): void {
    const number = this.#keys.numberOf(key);
    if (number === undefined) return;
    let previous = 0;
    for (let entry = this.#first.get(number); entry !== 0; ) {
      const next = this.#next.get(entry - 1);
      if (this.#values[entry - 1] === value) {
        if (previous === 0) this.#first.set(number, next);
        else this.#next.set(previous - 1, next);
        if (next === 0) this.#last.set(number, previous);
      } else {
        previous = entry;
      }
      entry = next;
    }
    if (this.#first.get(number) === 0) this.#keys.delete(key);
  }

  clear(): void {
    this.#keys = new StringIndex();
    this.#first = new NumberColumn(Int32Array);
    this.#last = new NumberColumn(Int32Array);
    this.#next = new NumberColumn(Int32Array);
    this.#values = [];
  }
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
