/**
 * Column storage for the rows a campaign writes by the hundred thousand
 * (recipients, deliveries, decisions): one typed array per field instead
 * of one object per row. At 100,000 users an object row with its boxed
 * instants, its property array and its map entry cost 165 to 300 bytes of
 * heap; the same row in columns costs 20 to 30, and the garbage collector
 * has a handful of arrays to mark instead of hundreds of thousands of
 * objects (which also keeps V8 from growing the heap as far before it
 * collects).
 */

type NumberArray = Float64Array | Int32Array | Uint8Array;
type NumberArrayOf<A extends NumberArray> = { new (length: number): A };

/** A growable typed array: doubles when full, as an Array would. */
export class NumberColumn<A extends NumberArray> {
  #values: A;
  readonly #type: NumberArrayOf<A>;

  constructor(type: NumberArrayOf<A>) {
    this.#type = type;
    this.#values = new type(INITIAL_ROWS);
  }

  /** The value of `row`; 0 for a row never set. */
  get(row: number): number {
    return this.#values[row] ?? 0;
  }

  set(row: number, value: number): void {
    if (row >= this.#values.length) {
      const grown = new this.#type(Math.max(row + 1, this.#values.length * 2));
      grown.set(this.#values as never);
      this.#values = grown;
    }
    this.#values[row] = value;
  }
}

/** Rows a column starts with: most groups (a test's, a small campaign's) stay this small. */
const INITIAL_ROWS = 16;

/**
 * Rows of one table by key, in columns a subclass defines: each row is a
 * slot number under its key. A value that does not fit the columns — one
 * its schema would refuse, or a rare shape the columns do not encode — is
 * kept whole in `odd`, by key, for the storage's frozen rows
 * (memory-rows.ts) to parse at its read and report with CorruptRecordError
 * as a database adapter would; every read looks there too.
 */
export abstract class KeyedRows {
  /**
   * Slot of each row stored in the columns, by key. Slots are never reused:
   * a row moved out of the columns, or removed, leaves its slot unused.
   */
  protected readonly slots = new StringIndex();
  /** Rows kept whole (see above), by key: the table frozenRows reads and verifies them in. */
  readonly odd = new Map<string, unknown>();

  get size(): number {
    return this.slots.size + this.odd.size;
  }

  has(key: string): boolean {
    return this.slots.numberOf(key) !== undefined || this.odd.has(key);
  }

  /** Every key, rows in the columns first, each part in write order. */
  *keys(): IterableIterator<string> {
    yield* this.slots.keys();
    yield* this.odd.keys();
  }

  delete(key: string): boolean {
    return this.slots.delete(key) || this.odd.delete(key);
  }

  /**
   * Stores `value` under `key`, replacing what was there: in the columns
   * when `write` (given the row's slot) takes it, else whole, as `keepWhole`
   * keeps it.
   */
  protected put(key: string, write: (slot: number) => boolean, keepWhole: () => unknown): void {
    const slot = this.slots.numberOf(key) ?? this.slots.next;
    if (write(slot)) {
      if (slot === this.slots.next) this.slots.add(flat(key));
      this.odd.delete(key);
      return;
    }
    this.slots.delete(key);
    this.odd.set(key, keepWhole());
  }
}

/**
 * Fixed-width byte blocks, one per slot (a subscription's 65-byte P-256
 * key and 16-byte auth secret), outside the JavaScript heap.
 */
export class ByteColumn {
  readonly #width: number;
  #bytes: Uint8Array;

  constructor(width: number) {
    this.#width = width;
    this.#bytes = new Uint8Array(width * INITIAL_ROWS);
  }

  get(slot: number): Uint8Array {
    return this.#bytes.subarray(slot * this.#width, (slot + 1) * this.#width);
  }

  set(slot: number, value: Uint8Array): void {
    const end = (slot + 1) * this.#width;
    if (end > this.#bytes.length) {
      const grown = new Uint8Array(Math.max(end, this.#bytes.length * 2));
      grown.set(this.#bytes);
      this.#bytes = grown;
    }
    this.#bytes.set(value, slot * this.#width);
  }
}

/**
 * Strings stored once, each row holding its number: outcomes, reasons,
 * zones and (campaign, occurrence) keys repeat across a whole campaign,
 * where a string per row would repeat them N times. Number 0 stands for
 * null. Values are never removed: a pool holds what its table ever held,
 * which for these fields is a few dozen strings.
 */
export class StringPool {
  readonly #numbers = new Map<string, number>();
  readonly #strings: Array<string | null> = [null];

  numberOf(value: string | null): number {
    if (value === null) return 0;
    let number = this.#numbers.get(value);
    if (number === undefined) {
      number = this.#strings.length;
      this.#strings.push(flat(value));
      this.#numbers.set(value, number);
    }
    return number;
  }

  valueOf(number: number): string | null {
    return this.#strings[number] ?? null;
  }
}

/**
 * The same string, flattened in place: a string built by concatenation (an
 * id made of a prefix and a hash slice, an endpoint from a template) is a
 * tree of pieces in V8 until something reads its characters, and keeps
 * what it was cut from alive; reading one character makes it one flat
 * string, about half the heap at 100,000 subscriptions.
 */
export function flat(value: string): string {
  value.charCodeAt(0);
  return value;
}

/** Epoch milliseconds of a valid Date, or null for anything else. */
export function instantOf(value: unknown): number | null {
  if (!(value instanceof Date)) return null;
  const ms = value.getTime();
  return Number.isNaN(ms) ? null : ms;
}

/**
 * Strings to numbers, in the order they were added: what a
 * `Map<string, number>` does, at about a quarter of its heap. A Map entry
 * costs some 35 bytes of heap at 100,000 keys, and a campaign's tables
 * need several maps of that size (users to rows, subscriptions to rows,
 * users to their subscriptions, deliveries, decisions); here a key costs
 * its reference in one array, and the hash table is a typed array outside
 * the heap (open addressing, linear probing, FNV-1a hashes).
 *
 * Numbers are dense and never reused: the n-th key added gets n, and a
 * deleted key's number stays unused.
 */
export class StringIndex {
  /** The key of each number; undefined once deleted. */
  readonly #keys: Array<string | undefined> = [];
  readonly #hashes = new NumberColumn(Int32Array);
  /** Open addressing: number + 1, 0 for an empty bucket, TOMBSTONE for a deleted one. */
  #table = new Int32Array(INITIAL_BUCKETS);
  /** Buckets taken, tombstones included (they lengthen probes until the next resize). */
  #taken = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** The number the next new key gets. */
  get next(): number {
    return this.#keys.length;
  }

  numberOf(key: string): number | undefined {
    const bucket = this.#find(key, hash(key));
    const entry = this.#table[bucket] as number;
    return entry > 0 ? entry - 1 : undefined;
  }

  /** The number of `key`, added (with the next number) when it was not there. */
  add(key: string): number {
    const h = hash(key);
    const bucket = this.#find(key, h);
    const entry = this.#table[bucket] as number;
    if (entry > 0) return entry - 1;
    const number = this.#keys.length;
    this.#keys.push(key);
    this.#hashes.set(number, h);
    // A tombstone reused was counted as taken already.
    if (entry === 0) this.#taken += 1;
    this.#table[bucket] = number + 1;
    this.#size += 1;
    if (this.#taken * 4 > this.#table.length * 3) this.#rehash();
    return number;
  }

  delete(key: string): boolean {
    const bucket = this.#find(key, hash(key));
    const entry = this.#table[bucket] as number;
    if (entry <= 0) return false;
    this.#keys[entry - 1] = undefined;
    this.#table[bucket] = TOMBSTONE;
    this.#size -= 1;
    return true;
  }

  /** The key of a number, undefined when it was deleted (or never given). */
  keyOf(number: number): string | undefined {
    return this.#keys[number];
  }

  /** Every key, in the order added. */
  *keys(): IterableIterator<string> {
    for (const key of this.#keys) if (key !== undefined) yield key;
  }

  /** The bucket holding `key`, or the first free one on its probe path (empty, or the first tombstone). */
  #find(key: string, h: number): number {
    const mask = this.#table.length - 1;
    let free = -1;
    for (let bucket = h & mask; ; bucket = (bucket + 1) & mask) {
      const entry = this.#table[bucket] as number;
      if (entry === 0) return free >= 0 ? free : bucket;
      if (entry === TOMBSTONE) {
        if (free < 0) free = bucket;
      } else if (this.#keys[entry - 1] === key) {
        return bucket;
      }
    }
  }

  /** A table twice the size of what is live (at least), tombstones dropped. */
  #rehash(): void {
    let capacity = INITIAL_BUCKETS;
    while (capacity * 3 <= this.#size * 8) capacity *= 2;
    const table = new Int32Array(capacity);
    const mask = capacity - 1;
    this.#keys.forEach((key, number) => {
      if (key === undefined) return;
      let bucket = this.#hashes.get(number) & mask;
      while (table[bucket] !== 0) bucket = (bucket + 1) & mask;
      table[bucket] = number + 1;
    });
    this.#table = table;
    this.#taken = this.#size;
  }
}

const INITIAL_BUCKETS = 16;
const TOMBSTONE = -1;

/** FNV-1a over UTF-16 code units. */
function hash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i += 1) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h | 0;
}
