import { z } from 'zod';

/** One bad field: where it is (a path into the input) and what is wrong with it. */
export interface FieldIssue {
  path: string;
  message: string;
}

/**
 * The one place where zod's issues become Herald's field issues: every entry
 * point, HTTP body and storage row goes through `parseWithIssues` (or
 * `ValidationError.fromZod` for an error parsed elsewhere).
 *
 * Three things happen here that zod does not do by itself:
 * - messages say what was expected in the caller's terms ("at most 256
 *   characters", "one of once, dates, recurring") instead of zod's defaults;
 * - an unknown key becomes one issue per key, at the key's own path, with a
 *   suggestion when a known key is close (`when.timeZone: unknown key; did
 *   you mean "timezone"?`);
 * - a failed union reports the branch the input was meant for, with its full
 *   path, rather than "Invalid input" at the union.
 */

/**
 * Names a caller may reach for that no edit distance finds (an action's
 * `deeplink` is its `url`): register a strict object with the keys it should
 * point to.
 */
export const keyAliases = z.registry<Record<string, string>>();

/**
 * The known keys of each strict object that refused keys. zod hands the error
 * map the object schema (`inst`) but leaves it out of the final issue; the
 * refused keys' array is the one thing both share, so it is the lookup key.
 * One map per parse, gone with it.
 */
type KnownKeys = WeakMap<readonly string[], { known: readonly string[]; aliases: Record<string, string> }>;

export type ParseOutcome<T> = { success: true; data: T } | { success: false; issues: FieldIssue[] };

export function parseWithIssues<S extends z.ZodType>(schema: S, value: unknown): ParseOutcome<z.output<S>> {
  // Valid input first, without the error map: zod parses several times slower when a call passes
  // one (measured on EventInput: 2 against 6-7 µs), and the map only shapes the messages of a
  // failure. Input that fails is parsed again with it; a parse has no effect but its answer.
  const valid = schema.safeParse(value);
  if (valid.success) return { success: true, data: valid.data };
  const knownKeys: KnownKeys = new WeakMap();
  const result = schema.safeParse(value, { error: (issue) => humanMessage(issue, knownKeys) });
  if (result.success) return { success: true, data: result.data };
  return { success: false, issues: flatten(result.error.issues, [], knownKeys) };
}

/** Field issues of an error zod raised elsewhere (without the error map: zod's messages, no key suggestions). */
export function fieldIssues(error: z.ZodError): FieldIssue[] {
  return flatten(error.issues, [], undefined);
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path
    .map((part, index) =>
      typeof part === 'number' || part === ''
        ? `[${JSON.stringify(part)}]`
        : `${index === 0 ? '' : '.'}${String(part)}`,
    )
    .join('');
}

function flatten(
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PropertyKey[],
  knownKeys: KnownKeys | undefined,
): FieldIssue[] {
  return issues.flatMap((issue): FieldIssue[] => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      const hints = knownKeys?.get(issue.keys);
      return issue.keys.map((key) => ({
        path: formatPath([...path, key]),
        message: unknownKeyMessage(key, hints?.known ?? [], hints?.aliases ?? {}),
      }));
    }
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const branch = intendedBranch(issue.errors);
      if (branch) return flatten(branch, path, knownKeys);
      const misspelt = misspeltUnionKeys(issue.errors, path, knownKeys);
      if (misspelt.length > 0) return misspelt;
      // No branch took the value's shape: the union's own message if it has one, else every form it may take.
      if (issue.message !== NO_FORM_MATCHED) return [{ path: formatPath(path), message: issue.message }];
      const expected = [...new Set(issue.errors.flatMap((errors) => errors.map((inner) => inner.message)))];
      return [{ path: formatPath(path), message: expected.join(', or ') }];
    }
    return [{ path: formatPath(path), message: issue.message }];
  });
}

/**
 * The branch of a failed union the input was meant for: among branches that
 * took the value's shape (no issue at the branch's root such as a wrong type
 * or an unknown key, and not only keys missing), the one with the fewest
 * issues. None when every branch refused the value itself. An unknown key
 * deeper down (`segment.condition.prop`) is the branch's to name: the value
 * took its shape.
 */
function intendedBranch(branches: readonly z.core.$ZodIssue[][]): z.core.$ZodIssue[] | undefined {
  const shaped = branches.filter(
    (issues) =>
      issues.every((issue) => issue.path.length > 0) &&
      !issues.every((issue) => issue.path.length === 1 && issue.message === REQUIRED),
  );
  return shaped.sort((a, b) => a.length - b.length)[0];
}

/**
 * A union of strict objects that every branch refused for a key it does not
 * know (`who: { segmentID }`): the keys some branch knows under another
 * spelling, each at its own path with the one meant. Empty when no such key
 * is close to a known one, and the union's own message says what it takes.
 */
function misspeltUnionKeys(
  branches: readonly z.core.$ZodIssue[][],
  path: readonly PropertyKey[],
  knownKeys: KnownKeys | undefined,
): FieldIssue[] {
  const refused: z.core.$ZodIssueUnrecognizedKeys[] = [];
  for (const issues of branches) {
    const atRoot = issues.find(
      (issue): issue is z.core.$ZodIssueUnrecognizedKeys =>
        issue.code === 'unrecognized_keys' && issue.path.length === 0,
    );
    if (!atRoot) return [];
    refused.push(atRoot);
  }
  const known = [...new Set(refused.flatMap((issue) => knownKeys?.get(issue.keys)?.known ?? []))];
  const keys = [...new Set(refused.flatMap((issue) => issue.keys))];
  return keys
    .filter((key) => closestKey(key, known) !== undefined)
    .map((key) => ({ path: formatPath([...path, key]), message: unknownKeyMessage(key, known) }));
}

export function unknownKeyMessage(
  key: string,
  known: readonly string[],
  aliases: Record<string, string> = {},
): string {
  const suggestion = Object.hasOwn(aliases, key) ? aliases[key] : closestKey(key, known);
  return suggestion ? `unknown key; did you mean "${suggestion}"?` : 'unknown key';
}

/**
 * The known key a caller most likely meant: the same letters in another case
 * (timeZone → timezone), a key it abbreviates (ttl → ttlSeconds), or one a
 * typo or two away (nmae → name).
 */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const sameLetters = known.find((candidate) => candidate.toLowerCase() === lower);
  if (sameLetters) return sameLetters;
  if (lower.length >= 3) {
    const extended = known.find((candidate) => candidate.toLowerCase().startsWith(lower));
    if (extended) return extended;
  }
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    const allowed = Math.max(1, Math.floor(candidate.length / 3));
    if (distance <= allowed && (!best || distance < best.distance)) best = { key: candidate, distance };
  }
  return best?.key;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours each cost 1. */
export function editDistance(from: string, to: string): number {
  const rows = from.length + 1;
  const cols = to.length + 1;
  const cost: number[] = Array.from({ length: rows * cols }, (_, index) =>
    index < cols ? index : index % cols === 0 ? index / cols : 0,
  );
  const at = (row: number, col: number): number => cost[row * cols + col] ?? 0;
  for (let row = 1; row < rows; row++) {
    for (let col = 1; col < cols; col++) {
      const same = from[row - 1] === to[col - 1] ? 0 : 1;
      let value = Math.min(at(row - 1, col) + 1, at(row, col - 1) + 1, at(row - 1, col - 1) + same);
      if (row > 1 && col > 1 && from[row - 1] === to[col - 2] && from[row - 2] === to[col - 1]) {
        value = Math.min(value, at(row - 2, col - 2) + 1);
      }
      cost[row * cols + col] = value;
    }
  }
  return at(rows - 1, cols - 1);
}

/** zod's per-parse error map: what was expected, in the caller's terms. Messages a schema sets itself win. */
function humanMessage(issue: z.core.$ZodRawIssue, knownKeys: KnownKeys): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return REQUIRED;
      if (issue.expected === 'date') return INSTANT_EXPECTED;
      if (issue.expected === 'int' && typeof issue.input === 'number')
        return `must be a whole number, not ${issue.input}`;
      return `expected ${describeType(issue.expected)}, received ${describeValue(issue.input)}`;
    case 'too_big':
      return `${issue.inclusive === false ? 'less than' : 'at most'} ${amount(issue.maximum, issue.origin)}`;
    case 'too_small':
      if (issue.origin === 'string' && Number(issue.minimum) === 1) return 'must not be empty';
      return `${issue.inclusive === false ? 'more than' : 'at least'} ${amount(issue.minimum, issue.origin)}`;
    case 'invalid_value':
      return issue.values.length === 1
        ? `must be ${JSON.stringify(issue.values[0])}`
        : `one of ${issue.values.map((value) => String(value)).join(', ')}`;
    case 'invalid_union':
      if (issue.discriminator && 'options' in issue && Array.isArray(issue.options)) {
        return `one of ${issue.options.map((value) => String(value)).join(', ')}`;
      }
      return NO_FORM_MATCHED;
    case 'invalid_format':
      return issue.format === 'url'
        ? 'expected a URL such as https://example.com/page'
        : `expected ${issue.format === 'regex' ? 'a value of the documented format' : `a valid ${issue.format}`}`;
    case 'invalid_key':
      return `invalid name: ${issue.issues.map((inner) => inner.message).join('; ')}`;
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}`;
    case 'unrecognized_keys': {
      const shape = (issue.inst as { shape?: Record<string, unknown> } | undefined)?.shape;
      if (shape) {
        knownKeys.set(issue.keys, {
          known: Object.keys(shape),
          aliases: keyAliases.get(issue.inst as z.ZodType) ?? {},
        });
      }
      return issue.keys.length === 1 ? 'unknown key' : 'unknown keys';
    }
    default:
      return undefined;
  }
}

const REQUIRED = 'required';
/** A union without a message of its own, none of whose forms matched; `flatten` says which forms were expected. */
const NO_FORM_MATCHED = 'matches none of the accepted forms';

export const INSTANT_EXPECTED = 'expected an ISO 8601 instant such as 2026-03-01T10:00:00Z';

function amount(limit: number | bigint, origin: string): string {
  const bound = String(limit);
  switch (origin) {
    case 'string':
      return `${bound} character${Number(limit) === 1 ? '' : 's'}`;
    case 'array':
    case 'set':
      return `${bound} item${Number(limit) === 1 ? '' : 's'}`;
    case 'file':
      return `${bound} bytes`;
    default:
      return bound;
  }
}

function describeType(expected: string): string {
  switch (expected) {
    case 'int':
      return 'a whole number';
    case 'object':
    case 'record':
      return 'an object';
    case 'array':
    case 'tuple':
      return 'an array (list)';
    case 'null':
    case 'undefined':
    case 'never':
      return 'nothing here';
    default:
      return `a ${expected}`;
  }
}

export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid date' : 'a date';
  if (typeof value === 'number' && Number.isNaN(value)) return 'NaN';
  switch (typeof value) {
    case 'object':
      return 'an object';
    case 'string':
      return `a string (${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)})`;
    default:
      return `a ${typeof value}`;
  }
}
