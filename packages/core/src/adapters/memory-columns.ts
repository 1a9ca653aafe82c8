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

/**
 * A growable typed array, in chunks of CHUNK_ROWS rows. Growing by
 * doubling left up to half a column unused and, until a full collection
 * freed the array it replaced, held both copies: at 100,000 rows, some
 * 20 MB of a campaign's peak. The first chunk still starts small and
 * doubles up to a full chunk, since most columns (a test's, a small
 * campaign's) stay a few rows long.
 */
export class NumberColumn<A extends NumberArray> implements ValueColumn<number> {
  readonly #chunks: A[];
  readonly #type: NumberArrayOf<A>;

  constructor(type: NumberArrayOf<A>) {
    this.#type = type;
    this.#chunks = [new type(INITIAL_ROWS)];
  }

  /** The value of `row`; 0 for a row never set. */
  get(row: number): number {
    return this.#chunks[row >>> CHUNK_SHIFT]?.[row & CHUNK_MASK] ?? 0;
  }

  equals(row: number, value: number): boolean {
    return this.get(row) === value;
  }

  set(row: number, value: number): void {
    const index = row >>> CHUNK_SHIFT;
    const at = row & CHUNK_MASK;
    let chunk = this.#chunks[index];
    if (chunk === undefined || at >= chunk.length) {
      chunk = grownChunk(chunk, at + 1, CHUNK_ROWS, (length) => new this.#type(length));
      this.#chunks[index] = chunk;
    }
    chunk[at] = value;
  }
}

/** Rows a column starts with: most groups (a test's, a small campaign's) stay this small. */
const INITIAL_ROWS = 16;
const CHUNK_SHIFT = 13;
/** Rows in a full chunk of a column (64 KB of Float64). */
const CHUNK_ROWS = 1 << CHUNK_SHIFT;
const CHUNK_MASK = CHUNK_ROWS - 1;

/**
 * `chunk` made long enough for `needed` elements: a missing chunk past the
 * first is made full size, the first one doubles up to `full`.
 */
function grownChunk<A extends Uint8Array | NumberArray>(
  chunk: A | undefined,
  needed: number,
  full: number,
  make: (length: number) => A,
): A {
  if (chunk === undefined) return make(full);
  let length = chunk.length;
  while (length < needed) length *= 2;
  const grown = make(Math.min(length, full));
  grown.set(chunk as never);
  return grown;
}

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
      if (slot === this.slots.next) this.slots.add(key);
      this.odd.delete(key);
      return;
    }
    this.slots.delete(key);
    this.odd.set(key, keepWhole());
  }
}

/**
 * Fixed-width byte blocks, one per slot (a subscription's 65-byte P-256
 * key and 16-byte auth secret), outside the JavaScript heap, in chunks of
 * CHUNK_ROWS slots as a NumberColumn grows.
 */
export class ByteColumn {
  readonly #width: number;
  readonly #chunks: Uint8Array[];

  constructor(width: number) {
    this.#width = width;
    this.#chunks = [new Uint8Array(width * INITIAL_ROWS)];
  }

  get(slot: number): Uint8Array {
    const start = (slot & CHUNK_MASK) * this.#width;
    const chunk = this.#chunks[slot >>> CHUNK_SHIFT];
    return chunk ? chunk.subarray(start, start + this.#width) : new Uint8Array(this.#width);
  }

  set(slot: number, value: Uint8Array): void {
    const index = slot >>> CHUNK_SHIFT;
    const end = ((slot & CHUNK_MASK) + 1) * this.#width;
    let chunk = this.#chunks[index];
    if (chunk === undefined || end > chunk.length) {
      chunk = grownChunk(chunk, end, CHUNK_ROWS * this.#width, (length) => new Uint8Array(length));
      this.#chunks[index] = chunk;
    }
    chunk.set(value, end - this.#width);
  }
}

/** Values by slot: what a MultiMap keeps its values in (TextColumn, NumberColumn). */
export interface ValueColumn<V> {
  /** The value at `slot`, as `set`; a slot never set reads undefined (text) or 0 (numbers). */
  get(slot: number): V | undefined;
  set(slot: number, value: V): void;
  equals(slot: number, value: V): boolean;
}

/**
 * Strings by slot, kept as bytes outside the JavaScript heap. A string per
 * row (a subscription id, a user id, an endpoint) costs 24 to 250 bytes of
 * heap plus its reference, and V8 lets its heap grow to about four times
 * what is live before it collects (Node's default on a machine with a few
 * GB): at 100,000 subscriptions those strings were some 20 MB live and
 * 80 MB of resident memory. Here a string costs its characters outside the
 * heap, one byte each when all are Latin-1, else two (UTF-16, so any string
 * — lone surrogates included — reads back identical), and 8 bytes of
 * offset and length.
 *
 * `get` makes a new string at each read; `equals` compares without making
 * one. Setting a slot again appends the new text: the old bytes stay until
 * the column goes, which for these rows (written once, rarely rewritten)
 * is little.
 */
export class TextColumn implements ValueColumn<string> {
  /** Text, in chunks of TEXT_CHUNK_BYTES (a longer string has a chunk of its own). */
  readonly #chunks: Buffer[] = [Buffer.allocUnsafeSlow(INITIAL_TEXT_BYTES)];
  /** The chunk being filled, and the bytes used in it. */
  #filling = 0;
  #used = 0;
  /** Where each slot's text starts: chunk * TEXT_CHUNK_BYTES + offset in it. */
  readonly #start = new NumberColumn(Int32Array);
  /** Code units + 1 of each slot's text, negative when stored as UTF-16; 0: no text. */
  readonly #units = new NumberColumn(Int32Array);

  has(slot: number): boolean {
    return this.#units.get(slot) !== 0;
  }

  get(slot: number): string | undefined {
    const text = this.#text(slot);
    if (text === undefined) return undefined;
    const { bytes, offset, length, wide } = text;
    return wide
      ? bytes.toString('utf16le', offset, offset + 2 * length)
      : bytes.toString('latin1', offset, offset + length);
  }

  set(slot: number, value: string): void {
    const wide = !isLatin1(value);
    const bytes = wide ? 2 * value.length : value.length;
    const start = this.#place(bytes);
    this.#chunkOf(start).write(value, start % TEXT_CHUNK_BYTES, bytes, wide ? 'utf16le' : 'latin1');
    this.#start.set(slot, start);
    this.#units.set(slot, wide ? -(value.length + 1) : value.length + 1);
  }

  /** Forgets the text of `slot` (its bytes stay unused). */
  clear(slot: number): void {
    this.#units.set(slot, 0);
  }

  /** Whether `slot` holds exactly `value`, compared code unit by code unit. */
  equals(slot: number, value: string): boolean {
    const text = this.#text(slot);
    if (text === undefined || text.length !== value.length) return false;
    for (let i = 0; i < text.length; i += 1) if (unitAt(text, i) !== value.charCodeAt(i)) return false;
    return true;
  }

  /**
   * How the text of `slot` orders against `value`, code unit by code unit
   * (as `<` orders strings): negative before, 0 equal, positive after. A
   * slot without text orders as the empty string.
   */
  compareTo(slot: number, value: string): number {
    const text = this.#text(slot) ?? NO_TEXT;
    const common = Math.min(text.length, value.length);
    for (let i = 0; i < common; i += 1) {
      const difference = unitAt(text, i) - value.charCodeAt(i);
      if (difference !== 0) return difference;
    }
    return text.length - value.length;
  }

  /** How the texts of slots `a` and `b` order, as `compareTo`. */
  compare(a: number, b: number): number {
    const one = this.#text(a) ?? NO_TEXT;
    const other = this.#text(b) ?? NO_TEXT;
    const common = Math.min(one.length, other.length);
    for (let i = 0; i < common; i += 1) {
      const difference = unitAt(one, i) - unitAt(other, i);
      if (difference !== 0) return difference;
    }
    return one.length - other.length;
  }

  /** Where the text of `slot` is, or undefined for a slot without text. */
  #text(slot: number): StoredText | undefined {
    const units = this.#units.get(slot);
    if (units === 0) return undefined;
    const start = this.#start.get(slot);
    return {
      bytes: this.#chunkOf(start),
      offset: start % TEXT_CHUNK_BYTES,
      length: Math.abs(units) - 1,
      wide: units < 0,
    };
  }

  #chunkOf(start: number): Buffer {
    return this.#chunks[Math.floor(start / TEXT_CHUNK_BYTES)] as Buffer;
  }

  /** Room for `bytes` more: where they start (see `#start`). */
  #place(bytes: number): number {
    if (bytes > TEXT_CHUNK_BYTES) return this.#newChunk(bytes) * TEXT_CHUNK_BYTES;
    let chunk = this.#chunks[this.#filling] as Buffer;
    if (this.#used + bytes > chunk.length) {
      if (this.#filling === 0 && chunk.length < TEXT_CHUNK_BYTES) {
        chunk = grownChunk(chunk, this.#used + bytes, TEXT_CHUNK_BYTES, (length) =>
          Buffer.allocUnsafeSlow(length),
        );
        this.#chunks[0] = chunk;
      } else {
        this.#filling = this.#newChunk(TEXT_CHUNK_BYTES);
        this.#used = 0;
      }
    }
    const start = this.#filling * TEXT_CHUNK_BYTES + this.#used;
    this.#used += bytes;
    return start;
  }

  /** A new chunk of `bytes`, and its index. */
  #newChunk(bytes: number): number {
    if (this.#chunks.length >= MAX_TEXT_CHUNKS) {
      throw new RangeError('a memory storage column holds at most 2 GB of text');
    }
    return this.#chunks.push(Buffer.allocUnsafeSlow(bytes)) - 1;
  }
}

/** Bytes a TextColumn starts with: a few short strings. */
const INITIAL_TEXT_BYTES = 256;
/** Bytes in a full chunk of text. */
const TEXT_CHUNK_BYTES = 1 << 16;
/** Chunks a TextColumn may have: its starts are Int32 (chunk * TEXT_CHUNK_BYTES + offset). */
const MAX_TEXT_CHUNKS = 2 ** 31 / TEXT_CHUNK_BYTES;

/** A TextColumn's text in place: its chunk, where it starts there, its code units, its encoding. */
interface StoredText {
  bytes: Buffer;
  offset: number;
  length: number;
  /** UTF-16 (two bytes a code unit), else Latin-1 (one). */
  wide: boolean;
}

const NO_TEXT: StoredText = { bytes: Buffer.alloc(0), offset: 0, length: 0, wide: false };

/** The `i`-th code unit of `text`. */
function unitAt(text: StoredText, i: number): number {
  const { bytes, offset } = text;
  if (!text.wide) return bytes[offset + i] as number;
  return (bytes[offset + 2 * i] as number) | ((bytes[offset + 2 * i + 1] as number) << 8);
}

function isLatin1(value: string): boolean {
  for (let i = 0; i < value.length; i += 1) if (value.charCodeAt(i) > 0xff) return false;
  return true;
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
 * users to their subscriptions, deliveries, decisions); here the keys are
 * a TextColumn and the hash table a typed array, both outside the heap
 * (open addressing, linear probing, FNV-1a hashes).
 *
 * Numbers are dense and never reused: the n-th key added gets n, and a
 * deleted key's number stays unused.
 */
export class StringIndex {
  /** The key of each number; none once deleted. */
  readonly #keys = new TextColumn();
  /** Numbers given so far (deleted ones included). */
  #count = 0;
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
    return this.#count;
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
    const number = this.#count++;
    this.#keys.set(number, key);
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
    this.#keys.clear(entry - 1);
    this.#table[bucket] = TOMBSTONE;
    this.#size -= 1;
    return true;
  }

  /** The key of a number, undefined when it was deleted (or never given). */
  keyOf(number: number): string | undefined {
    return this.#keys.get(number);
  }

  /** Every key, in the order added. */
  *keys(): IterableIterator<string> {
    for (let number = 0; number < this.#count; number += 1) {
      const key = this.#keys.get(number);
      if (key !== undefined) yield key;
    }
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
      } else if (this.#keys.equals(entry - 1, key)) {
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
    for (let number = 0; number < this.#count; number += 1) {
      if (!this.#keys.has(number)) continue;
      let bucket = this.#hashes.get(number) & mask;
      while (table[bucket] !== 0) bucket = (bucket + 1) & mask;
      table[bucket] = number + 1;
    }
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
