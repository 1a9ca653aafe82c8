import type { z } from 'zod';
import { CorruptRecordError, formatPath } from '../errors/index.js';
import { deepFreeze } from './deep-freeze.js';
import { flat } from './memory-columns.js';

/**
 * How a memory storage keeps its rows that are not in columns (campaigns,
 * segments, events, interactions, conversions, and any row that does not
 * fit its table's columns): once, compact, parsed once, and without a deep
 * copy per read.
 *
 * - A write stores a packed copy of the caller's value (for a table parsed
 *   on write, of its zod parse, itself a fresh tree): the row's top-level
 *   instants become epoch milliseconds (a Date costs about 100 bytes of heap,
 *   a number 16, and a 100,000-user campaign stores eight instants per user),
 *   everything nested is deep-frozen. The copy is the storage's own: a
 *   caller changing its object afterwards changes nothing stored.
 * - Every row is parsed once with its table's model schema, as a database
 *   adapter parses what it reads back, and kept in its verified form (its
 *   packed parse); later reads parse nothing. When depends on the table:
 *   rows written once and read by every campaign (profiles, subscriptions,
 *   campaigns, segments) are parsed at the write, so a campaign does not
 *   pay for them; the rows a campaign writes by the hundred thousand
 *   (recipients, deliveries, decisions, events) are parsed at their first
 *   read, which keeps zod and its garbage off the many nobody reads back (a
 *   decision log). A row that does not parse is stored anyway and fails
 *   every read with CorruptRecordError naming table and id: a malformed
 *   value written through the storage, or a row the testing inspector wrote
 *   (`corruptCampaign`).
 * - A read unpacks a verified row into a fresh top-level object with fresh
 *   Dates; what is nested (properties, keys, facts, content) is the stored
 *   frozen data itself, shared by every read. So a read costs one small
 *   object, never a deep copy, and a caller can neither change the store
 *   through what it got (nested data throws a TypeError in strict mode) nor
 *   see another reader's changes to its top-level copy. Nested Dates (a
 *   campaign's schedule) are shared and frozen, and freezing does not stop
 *   `setTime`: Herald never changes a Date in place.
 */
export interface RowKind<S extends z.ZodType> {
  schema: S;
  /** The table name a CorruptRecordError gives. */
  table: string;
  /** The row's top-level Instant fields, stored as epoch milliseconds. */
  instants: readonly string[];
  /** Parse at the write (read-mostly tables) rather than at the first read (campaign logs). */
  parseOnWrite: boolean;
}

export const rowKind = <S extends z.ZodType>(
  table: string,
  schema: S,
  instants: readonly string[],
  parse: 'on write' | 'on first read',
): RowKind<S> => ({ schema, table, instants, parseOnWrite: parse === 'on write' });

/** Where a row is stored, so that its first read can replace it by its verified form. */
export type RowTable = Map<string, unknown> | unknown[];

export interface FrozenRows {
  /** The row to store for `value`: a packed, frozen copy (or its verified parse, for a table parsed on write). */
  keep<S extends z.ZodType>(kind: RowKind<S>, value: unknown): unknown;
  /**
   * The row stored at `table[key]`, as its model type. CorruptRecordError
   * naming the table and `id` (default: the key) when it does not parse.
   */
  read<S extends z.ZodType>(
    kind: RowKind<S>,
    table: RowTable,
    key: string | number,
    row: unknown,
    id?: string,
  ): z.infer<S>;
}

export function frozenRows(): FrozenRows {
  /**
   * The class of verified rows. A prototype rather than a WeakSet: it costs
   * nothing per row, where a WeakSet entry was about 40 bytes a row. Per
   * storage, so no other object can pass for a verified row; a copy of a
   * row (the inspector's spread) is a plain object again, and is parsed.
   */
  class VerifiedRow {}
  Object.setPrototypeOf(VerifiedRow.prototype, null);
  const verified: object = Object.freeze(VerifiedRow.prototype);
  const newVerified = () => new VerifiedRow() as Record<string, unknown>;

  return {
    keep(kind, value) {
      if (kind.parseOnWrite) {
        const parsed = kind.schema.safeParse(value);
        // The parse is a fresh tree: frozen as it is, not copied again.
        if (parsed.success)
          return pack(parsed.data as Record<string, unknown>, kind.instants, newVerified, frozenInPlace);
      }
      return isObject(value)
        ? pack(value as Record<string, unknown>, kind.instants, newUnverified, frozenCopy)
        : value;
    },
    read<S extends z.ZodType>(
      kind: RowKind<S>,
      table: RowTable,
      key: string | number,
      row: unknown,
      id?: string,
    ): z.infer<S> {
      if (isObject(row) && Object.getPrototypeOf(row) === verified) {
        return unpack(row as Packed, kind.instants) as z.infer<S>;
      }
      const parsed = kind.schema.safeParse(row);
      if (!parsed.success) {
        throw new CorruptRecordError(
          kind.table,
          id ?? String(key),
          parsed.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })),
        );
      }
      const checked = pack(parsed.data as Record<string, unknown>, kind.instants, newVerified, frozenInPlace);
      if (Array.isArray(table)) table[key as number] = checked;
      else table.set(key as string, checked);
      return unpack(checked, kind.instants) as z.infer<S>;
    },
  };
}

/** A stored row: frozen, its instants as epoch milliseconds. */
type Packed = Readonly<Record<string, unknown>>;

function pack(
  value: Record<string, unknown>,
  instants: readonly string[],
  create: () => Record<string, unknown>,
  nested: (value: unknown) => unknown,
): Packed {
  // Built key by key into a new instance of a class, then frozen: V8 keeps
  // such an object compact, its fields inside it (an Object.create object
  // spills past four fields into a separate property array, about 30 bytes
  // more a row), where freezing a zod parse (or a spread whose fields
  // changed type) leaves it in a larger, slower form.
  const row = create();
  for (const key of Object.keys(value)) {
    const field = value[key];
    row[key] = field instanceof Date && instants.includes(key) ? field.getTime() : nested(field);
  }
  return Object.freeze(row);
}

/** Unverified rows: plain objects to zod, in-object fields to V8 (see `pack`). */
class UnverifiedRow {}
const newUnverified = () => new UnverifiedRow() as Record<string, unknown>;

function unpack(row: Packed, instants: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...row };
  for (const key of instants) {
    const value = out[key];
    if (typeof value === 'number') out[key] = new Date(value);
  }
  return out;
}

/**
 * A deep-frozen copy of plain data (objects, arrays, Dates), empty objects
 * and arrays shared (most properties bags are empty). Anything else is
 * copied by structuredClone, for its schema to judge at the first read.
 */
function frozenCopy(value: unknown): unknown {
  if (typeof value === 'string') return flat(value);
  if (!isObject(value)) return value;
  if (value instanceof Date) return Object.freeze(new Date(value.getTime()));
  if (Array.isArray(value)) return value.length === 0 ? EMPTY_ARRAY : Object.freeze(value.map(frozenCopy));
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return deepFreeze(structuredClone(value));
  const keys = Object.keys(value);
  if (keys.length === 0) return EMPTY_OBJECT;
  const copy: Record<string, unknown> = {};
  for (const key of keys) copy[key] = frozenCopy((value as Record<string, unknown>)[key]);
  return Object.freeze(copy);
}

/** A fresh tree (a zod parse) deep-frozen in place, empty objects and arrays shared. */
export function frozenInPlace(value: unknown): unknown {
  if (typeof value === 'string') return flat(value);
  if (Array.isArray(value) && value.length === 0) return EMPTY_ARRAY;
  // A zod record's parse has a null prototype: empty, it is an empty object all the same.
  if (isObject(value) && isPlainPrototype(Object.getPrototypeOf(value)) && Object.keys(value).length === 0)
    return EMPTY_OBJECT;
  return deepFreeze(value);
}

const EMPTY_ARRAY: readonly never[] = Object.freeze([]);
const EMPTY_OBJECT: Readonly<Record<string, never>> = Object.freeze({});

const isPlainPrototype = (prototype: unknown): boolean =>
  prototype === Object.prototype || prototype === null;
const isObject = (value: unknown): value is object => typeof value === 'object' && value !== null;
