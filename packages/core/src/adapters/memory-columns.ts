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

  get(row: number): number {
    return this.#values[row] as number;
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
