import type { z } from 'zod';
import { CorruptRecordError, formatPath } from '../errors/index.js';

/**
 * How a memory storage keeps its rows: once, compact, and without a deep
 * copy per read or write.
 *
 * - A write parses the caller's value with the table's model schema. A zod
 *   parse builds a fresh tree (objects, arrays and records rebuilt, `Instant`s
 *   coerced to new Dates), so the parse is already the storage's own copy: a
 *   caller changing its object afterwards changes nothing stored.
 * - The parse is packed: the row's top-level instants become epoch
 *   milliseconds (a Date costs about 100 bytes of heap, a number 16, and a
 *   100,000-user campaign stores eight instants per user), everything nested
 *   is deep-frozen, and the row is remembered as verified.
 * - A read unpacks a verified row into a fresh top-level object with fresh
 *   Dates; what is nested (properties, keys, facts, content) is the stored
 *   frozen data itself, shared by every read. So a read costs one small
 *   object, never a deep copy, and a caller can neither change the store
 *   through what it got (nested data throws a TypeError in strict mode) nor
 *   be surprised by another reader's changes to its top-level copy. Nested
 *   Dates (a campaign's schedule) are shared and frozen, and freezing does
 *   not stop `setTime`: Herald never changes a Date in place.
 * - A value that does not parse is still stored (a frozen deep copy) but not
 *   remembered: reading it back parses it again and fails with
 *   CorruptRecordError naming table and id, exactly as a database adapter
 *   fails on a malformed row. So do rows the testing inspector writes
 *   (`corruptCampaign`).
 */
export interface RowKind<S extends z.ZodType> {
  schema: S;
  /** The table name a CorruptRecordError gives. */
  table: string;
  /** The row's top-level Instant fields, stored as epoch milliseconds. */
  instants: readonly string[];
}

export const rowKind = <S extends z.ZodType>(
  table: string,
  schema: S,
  instants: readonly string[],
): RowKind<S> => ({
  schema,
  table,
  instants,
});

export interface FrozenRows {
  /** The row to store for `value`: its packed parse (verified) or, when it does not parse, a frozen copy of it. */
  keep<S extends z.ZodType>(kind: RowKind<S>, value: unknown): unknown;
  /** A stored row as its model type; CorruptRecordError naming table and id when it does not parse. */
  read<S extends z.ZodType>(kind: RowKind<S>, id: string, row: unknown): z.infer<S>;
}

export function frozenRows(): FrozenRows {
  /**
   * The prototype of the rows `keep` packed after a successful parse, which
   * are unpacked without parsing again. A prototype rather than a WeakSet:
   * it costs nothing per row, where a WeakSet entry per row was about 40
   * bytes at 100,000 users. Per storage, so no other code's object can pass
   * for a verified row; a copy of a row (the inspector's spread) is a plain
   * object again, and is parsed.
   */
  const verified: object = Object.freeze(Object.create(null));
  const isVerified = (row: unknown): row is Packed =>
    isObject(row) && Object.getPrototypeOf(row) === verified;
  /**
   * Rows stored from elsewhere (the inspector) that did parse: their packed
   * parse, kept while that row object is stored (a row is replaced, never
   * changed in place), so such a row is parsed once, not on every read.
   */
  const parsedElsewhere = new WeakMap<object, Packed>();

  return {
    keep(kind, value) {
      const parsed = kind.schema.safeParse(value);
      if (!parsed.success) return deepFreeze(structuredClone(value));
      return pack(parsed.data as Record<string, unknown>, kind.instants, verified);
    },
    read<S extends z.ZodType>(kind: RowKind<S>, id: string, row: unknown): z.infer<S> {
      if (isVerified(row)) return unpack(row, kind.instants) as z.infer<S>;
      const known = isObject(row) ? parsedElsewhere.get(row) : undefined;
      if (known) return unpack(known, kind.instants) as z.infer<S>;
      const parsed = kind.schema.safeParse(row);
      if (!parsed.success) {
        throw new CorruptRecordError(
          kind.table,
          id,
          parsed.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })),
        );
      }
      const packed = pack(parsed.data as Record<string, unknown>, kind.instants, Object.prototype);
      if (isObject(row)) parsedElsewhere.set(row, packed);
      return unpack(packed, kind.instants) as z.infer<S>;
    },
  };
}

/** A stored row: frozen, its instants as epoch milliseconds. */
type Packed = Readonly<Record<string, unknown>>;

function pack(parsed: Record<string, unknown>, instants: readonly string[], prototype: object): Packed {
  // Built key by key into a new object, then frozen: V8 keeps such an object
  // compact, where freezing the parse itself (or a spread of it whose fields
  // changed type) leaves it in a larger, slower form.
  const row = Object.create(prototype) as Record<string, unknown>;
  for (const key of Object.keys(parsed)) {
    const value = parsed[key];
    row[key] = value instanceof Date && instants.includes(key) ? value.getTime() : shared(value);
  }
  return Object.freeze(row);
}

function unpack(row: Packed, instants: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...row };
  for (const key of instants) {
    const value = out[key];
    if (typeof value === 'number') out[key] = new Date(value);
  }
  return out;
}

/** A nested value as stored: deep-frozen, with empty objects and arrays shared (most properties bags are empty). */
function shared(value: unknown): unknown {
  if (Array.isArray(value) && value.length === 0) return EMPTY_ARRAY;
  if (isPlainObject(value) && Object.keys(value).length === 0) return EMPTY_OBJECT;
  return deepFreeze(value);
}

const EMPTY_ARRAY: readonly never[] = Object.freeze([]);
const EMPTY_OBJECT: Readonly<Record<string, never>> = Object.freeze({});

/**
 * Freezes a value and everything it holds (plain data and Dates), in place;
 * returns it. Only for fresh trees (a parse, a clone): a frozen object is
 * taken as already done.
 */
export function deepFreeze<T>(value: T): T {
  if (!isObject(value) || Object.isFrozen(value)) return value;
  Object.freeze(value);
  if (value instanceof Date) return value;
  for (const inner of Object.values(value)) deepFreeze(inner);
  return value;
}

const isObject = (value: unknown): value is object => typeof value === 'object' && value !== null;

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  isObject(value) && Object.getPrototypeOf(value) === Object.prototype;
