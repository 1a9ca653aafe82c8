import fc from 'fast-check';
import type { HttpResponse } from '../../src/index.js';

/**
 * Shared pieces of the HTTP fuzz tests: case counts, hostile values, and the
 * property every answer to a hostile request must have.
 */

/** Cases per property: small in the normal run (the whole fuzz set stays under a minute), more with HERALD_FUZZ_RUNS. */
export function fuzzRuns(normal: number): number {
  const asked = Number(process.env.HERALD_FUZZ_RUNS);
  return Number.isInteger(asked) && asked > 0 ? asked : normal;
}

/** Keys that reach an object's prototype when code copies them naively. */
export const pollutingKeys = ['__proto__', 'constructor', 'prototype'] as const;

/** Values of every JSON type and a few that only JavaScript callers can pass. */
export const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 20 }),
  fc.constantFrom('', ' ', '\u0000', '\ud800', 'x'.repeat(70_000), '{{ 7*7 }}', '../../etc/passwd'),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
  fc.integer({ min: 10, max: 400 }).map(nested),
);

/** An array nested `depth` deep: `[[[…]]]`. */
export function nested(depth: number): unknown {
  let value: unknown = 'deep';
  for (let level = 0; level < depth; level++) value = [value];
  return value;
}

/** JSON text with a prototype-polluting key at the top or inside a value, as a browser could send it. */
export function withPollutingKey(json: string, key: string): string {
  const payload = `"${key}":{"polluted":true,"isAdmin":true}`;
  return json.startsWith('{') && json.length > 2 ? `{${payload},${json.slice(1)}` : `{${payload}}`;
}

/**
 * A valid body changed in one place: a field set to a wrong value, removed, or a key added.
 * Paths go one level into nested objects, so `subscription.keys.auth` gets wrong values too.
 */
export function mutated(valid: Record<string, unknown>): fc.Arbitrary<unknown> {
  const paths = objectPaths(valid);
  const addKey = fc
    .record({
      key: fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom(...pollutingKeys)),
      value: wrongValue,
    })
    .map(({ key, value }) => ({ ...valid, [key]: value }));
  if (paths.length === 0) return addKey;
  return fc.oneof(
    fc
      .record({ path: fc.constantFrom(...paths), value: wrongValue })
      .map(({ path, value }) => setAt(valid, path, value)),
    fc.constantFrom(...paths).map((path) => setAt(valid, path, undefined)),
    addKey,
  );
}

function objectPaths(value: Record<string, unknown>, prefix: string[] = []): string[][] {
  return Object.entries(value).flatMap(([key, inner]) => {
    const path = [...prefix, key];
    return inner && typeof inner === 'object' && !Array.isArray(inner) && prefix.length < 3
      ? [path, ...objectPaths(inner as Record<string, unknown>, path)]
      : [path];
  });
}

function setAt(value: Record<string, unknown>, path: string[], replacement: unknown): unknown {
  const copy = structuredClone(value);
  let cursor: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) cursor = cursor[key] as Record<string, unknown>;
  const last = path[path.length - 1] as string;
  if (replacement === undefined) delete cursor[last];
  else cursor[last] = replacement;
  return copy;
}

/** Words that only a stack trace or an internal error message would put in an answer. */
const INTERNALS =
  /\bat \S+ \(|node_modules|TypeError|RangeError|ReferenceError|Cannot read|is not a function|undefined is|SQL|relation "/;

/**
 * What every answer to a hostile request must be: a 2xx, or a 4xx whose body is
 * Herald's JSON error (code and message) revealing nothing of the server's insides.
 * Returns a description of what is wrong, or null.
 */
export function badAnswer(response: HttpResponse): string | null {
  if (response.status >= 500) return `status ${response.status}: ${JSON.stringify(response.body)}`;
  if (response.status < 200 || (response.status >= 300 && response.status < 400))
    return `unexpected status ${response.status}`;
  if (response.status < 300) return null;
  const error = (response.body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (typeof error?.code !== 'string' || typeof error.message !== 'string')
    return `4xx without the JSON error shape: ${JSON.stringify(response.body)}`;
  const text = JSON.stringify(response.body);
  if (INTERNALS.test(text)) return `4xx reveals internals: ${text.slice(0, 300)}`;
  return null;
}

/** Every row of a memoryStorage's tables as one string, to compare storage before and after a request. */
export function snapshotOf(tables: object): string {
  return JSON.stringify(tables, (key, value: unknown) => {
    // A read-side cache of the user ids in keyset order, rebuilt by reads: not stored state.
    if (key === 'sortedUserIds') return undefined;
    if (value instanceof Map) return { map: [...value.entries()] };
    if (value instanceof Set) return { set: [...value.values()] };
    return value;
  });
}
