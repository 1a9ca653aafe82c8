import { CorruptRecordError, parseWithIssues } from '@herald/core';
import type { z } from 'zod';

/** Parses a row read back with its model schema; a malformed row is a CorruptRecordError naming table and id. */
export function parseRow<S extends z.ZodType>(
  schema: S,
  table: string,
  id: string,
  value: unknown,
): z.infer<S> {
  const parsed = parseWithIssues(schema, value);
  if (!parsed.success) throw new CorruptRecordError(table, id, parsed.issues);
  return parsed.data;
}

/** Instants cross into SQL as ISO strings (`$n::timestamptz`), identical on pg and PGlite. */
export const iso = (date: Date): string => date.toISOString();

/** Optional columns: SQL NULL reads back as an absent key, not as null. */
export const optional = <K extends string, V>(key: K, value: V | null): { [P in K]?: V } =>
  (value === null ? {} : { [key]: value }) as { [P in K]?: V };

export const unique = <T>(values: readonly T[]): T[] => [...new Set(values)];

/** One value per key, the last given winning, in the order of each key's last appearance. */
export function lastById<T>(values: readonly T[], key: (value: T) => string): Iterable<T> {
  const byKey = new Map<string, T>();
  for (const value of values) {
    const id = key(value);
    byKey.delete(id);
    byKey.set(id, value);
  }
  return byKey.values();
}
