import type { z } from 'zod';
import { CorruptRecordError, formatPath } from '../errors/index.js';

/**
 * How a memory storage keeps its rows: once, deep-frozen, and handed out
 * as they are stored — no copy per read.
 *
 * - A write parses the caller's value with its model schema. A zod parse
 *   builds a fresh tree (objects, arrays and records rebuilt, `Instant`s
 *   coerced to new Dates), so the parse is the storage's own copy: a caller
 *   changing its object afterwards changes nothing stored. The parse is
 *   frozen and remembered as verified.
 * - A value that does not parse is still stored (as a frozen deep copy) and
 *   not remembered: reading it back parses it again and fails with
 *   CorruptRecordError, exactly as a database adapter fails on a malformed
 *   row. So do rows the testing inspector writes (`corruptCampaign`).
 * - Reads return a verified row itself. Being frozen, a caller cannot
 *   change the store through it (a strict-mode TypeError instead). Dates are
 *   the one hole: `Object.freeze` does not stop `setTime`, and copying every
 *   Date on every read is what this design avoids; Herald never mutates a
 *   Date in place.
 */
export interface FrozenRows {
  /** The row to store for `value`: its parse (verified) or, when it does not parse, a copy of it. */
  keep<S extends z.ZodType>(schema: S, value: unknown): unknown;
  /** A stored row as its model type; CorruptRecordError naming table and id when it does not parse. */
  read<S extends z.ZodType>(schema: S, table: string, id: string, row: unknown): z.infer<S>;
}

export function frozenRows(): FrozenRows {
  /** Rows stored by `keep` after a successful parse: read without parsing again. */
  const verified = new WeakSet<object>();
  /**
   * Rows stored from elsewhere (the inspector) that did parse: their frozen
   * parse, kept while that row object is stored (a row is replaced, never
   * changed in place), so such a row is parsed once, not on every read.
   */
  const parsedElsewhere = new WeakMap<object, unknown>();

  return {
    keep(schema, value) {
      const parsed = schema.safeParse(value);
      if (!parsed.success) return deepFreeze(structuredClone(value));
      const row = deepFreeze(parsed.data);
      if (isObject(row)) verified.add(row);
      return row;
    },
    read<S extends z.ZodType>(schema: S, table: string, id: string, row: unknown): z.infer<S> {
      if (isObject(row)) {
        if (verified.has(row)) return row as z.infer<S>;
        if (parsedElsewhere.has(row)) return parsedElsewhere.get(row) as z.infer<S>;
      }
      const parsed = schema.safeParse(row);
      if (!parsed.success) {
        throw new CorruptRecordError(
          table,
          id,
          parsed.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })),
        );
      }
      const frozen = deepFreeze(parsed.data);
      if (isObject(row)) parsedElsewhere.set(row, frozen);
      return frozen;
    },
  };
}

/** Freezes a value and everything it holds (plain data and Dates), in place; returns it. */
export function deepFreeze<T>(value: T): T {
  if (!isObject(value) || Object.isFrozen(value)) return value;
  Object.freeze(value);
  if (value instanceof Date) return value;
  for (const inner of Object.values(value)) deepFreeze(inner);
  return value;
}

const isObject = (value: unknown): value is object => typeof value === 'object' && value !== null;
