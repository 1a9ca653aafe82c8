import { NumberColumn, StringIndex, TextColumn, type ValueColumn } from './memory-columns.js';

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

export function emptyIndexes(): MemoryIndexes {
  return {
    subscriptionsByUser: MultiMap.ofText(),
    eventsByUser: MultiMap.ofPositions(),
    decisionsByUser: MultiMap.ofPositions(),
    interactionsByUser: MultiMap.ofText(),
    interactionsByCampaign: new Map(),
    occurrencesByCampaign: new Map(),
    conversionsByCampaign: new Map(),
    userIds: new SortedIds(),
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
  indexes.userIds.clear();
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
 * key, next entry of each entry), with the values themselves in a column:
 * all of it outside the heap.
 */
export class MultiMap<V extends string | number> {
  /** Values that are strings (ids), kept as text. */
  static ofText(): MultiMap<string> {
    return new MultiMap(() => new TextColumn());
  }

  /** Values that are array positions (whole numbers below 2^31). */
  static ofPositions(): MultiMap<number> {
    return new MultiMap(() => new NumberColumn(Int32Array));
  }

  #keys = new StringIndex();
  /** Entry + 1 of each key's first and last value; 0: none. */
  #first = new NumberColumn(Int32Array);
  #last = new NumberColumn(Int32Array);
  /** Entry + 1 of the next value of the same key; 0: the last one. */
  #next = new NumberColumn(Int32Array);
  #values: ValueColumn<V>;
  #entries = 0;

  private constructor(private readonly makeValues: () => ValueColumn<V>) {
    this.#values = makeValues();
  }

  get(key: string): readonly V[] {
    const number = this.#keys.numberOf(key);
    const found: V[] = [];
    if (number === undefined) return found;
    for (let entry = this.#first.get(number); entry !== 0; entry = this.#next.get(entry - 1)) {
      found.push(this.#values.get(entry - 1) as V);
    }
    return found;
  }

  add(key: string, value: V): void {
    const number = this.#keys.add(key);
    this.#values.set(this.#entries, value);
    const entry = ++this.#entries;
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
      if (this.#values.equals(entry - 1, value)) {
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
    this.#values = this.makeValues();
    this.#entries = 0;
  }
}

/**
 * Ids in code-unit order (PostgreSQL's COLLATE "C" for ASCII ids), kept
 * outside the heap: the ids in a TextColumn, numbered as added, and their
 * order in an Int32Array. Sorted lazily: a new id is only appended, and
 * the next read sorts what was added and merges it in one pass, so
 * loading N profiles costs one sort, not N inserts. (As an array of
 * strings, 100,000 user ids were some 5 MB of heap: 20 MB of resident
 * memory once V8 grows its heap fourfold.)
 */
export class SortedIds {
  #text = new TextColumn();
  #count = 0;
  /** Id numbers in order: the first `#sorted` ids added, merged. */
  #order = new Int32Array(0);
  #sorted = 0;

  get size(): number {
    return this.#count;
  }

  add(id: string): void {
    this.#text.set(this.#count, id);
    this.#count += 1;
  }

  clear(): void {
    this.#text = new TextColumn();
    this.#count = 0;
    this.#order = new Int32Array(0);
    this.#sorted = 0;
  }

  /** The ids strictly after `after` (every id for null), in order: a binary search, then a walk. */
  *after(after: string | null): Generator<string> {
    this.#merge();
    const order = this.#order;
    let low = 0;
    let high = order.length;
    if (after !== null) {
      while (low < high) {
        const middle = (low + high) >>> 1;
        if (this.#text.compareTo(order[middle] as number, after) <= 0) low = middle + 1;
        else high = middle;
      }
    }
    for (let i = low; i < order.length; i += 1) yield this.#text.get(order[i] as number) as string;
  }

  #merge(): void {
    if (this.#sorted === this.#count) return;
    const text = this.#text;
    const fresh = Int32Array.from({ length: this.#count - this.#sorted }, (_, i) => this.#sorted + i);
    fresh.sort((a, b) => text.compare(a, b));
    const merged = new Int32Array(this.#count);
    const old = this.#order;
    let i = 0;
    let j = 0;
    for (let k = 0; k < merged.length; k += 1) {
      const takeOld =
        j >= fresh.length || (i < old.length && text.compare(old[i] as number, fresh[j] as number) <= 0);
      merged[k] = takeOld ? (old[i++] as number) : (fresh[j++] as number);
    }
    this.#order = merged;
    this.#sorted = this.#count;
  }
}
