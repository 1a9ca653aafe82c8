/**
 * Text Postgres can store. `text` and `jsonb` hold neither U+0000 nor a lone
 * UTF-16 surrogate (one half of a pair, which a JavaScript string may carry:
 * a string cut in the middle of an emoji, or `"\ud800"` in JSON). jsonb
 * refuses such a statement, failing a whole batch (an import, a coalesced
 * `track`) with a driver error naming no field; a `text` parameter is re-encoded
 * with U+FFFD in silence, so two different user ids would become one. Refused
 * at the boundary instead, with the field's path, like any other bad value.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is the character looked for.
const UNSTORABLE = /[\u0000\uD800-\uDFFF]/u;

const NUL = 'must not contain a NUL character (U+0000)';
const LONE_SURROGATE = 'must be valid Unicode: a lone surrogate (U+D800 to U+DFFF) cannot be stored';

/** Why storage cannot hold `value`, or undefined when it can. */
export function unstorableReason(value: string): string | undefined {
  // With the u flag a surrogate pair is one code point, so only a lone half matches.
  const found = UNSTORABLE.exec(value);
  if (!found) return undefined;
  return found[0] === '\u0000' ? NUL : LONE_SURROGATE;
}

const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'gu');

/**
 * `value` with each character storage cannot hold replaced by U+FFFD: for
 * text Herald is handed rather than asked to store (a push service's reason
 * for a refusal), which must be kept, not refused.
 */
export function toStorableText(value: string): string {
  return UNSTORABLE.test(value) ? value.replace(UNSTORABLE_ALL, '\uFFFD') : value;
}

/** At most `max` UTF-16 units of `value`, never cutting a surrogate pair in half (which would leave a lone one). */
export function truncateText(value: string, max: number): string {
  if (value.length <= max) return value;
  const last = value.charCodeAt(max - 1);
  return value.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}

/** The refinement of a string field that is stored or looked up in storage: `.refine(STORABLE_TEXT.check, STORABLE_TEXT)`. */
export const STORABLE_TEXT = {
  check: (value: string): boolean => !UNSTORABLE.test(value),
  error: (issue: { input: unknown }): string => unstorableReason(String(issue.input)) ?? NUL,
} as const;

/** A string or key storage cannot hold, found by {@link unstorableText}. */
export interface UnstorableText {
  path: PropertyKey[];
  message: string;
}

/**
 * Every string and object key in a parsed input that storage cannot hold. It
 * walks arrays and plain objects only (a Date or a luxon DateTime is not text),
 * so every field of every input is covered, present and future, not only the
 * fields whose schema remembers to refine.
 */
export function unstorableText(value: unknown): UnstorableText[] {
  // Every input passes through here, nearly all of them clean: a walk that allocates nothing
  // answers for them, and paths are built only for the rare value that has something to report.
  return holdsUnstorable(value) ? collect(value, []) : [];
}

function holdsUnstorable(value: unknown): boolean {
  if (typeof value === 'string') return UNSTORABLE.test(value);
  if (Array.isArray(value)) {
    for (const item of value) if (holdsUnstorable(item)) return true;
    return false;
  }
  if (!isPlainObject(value)) return false;
  for (const key in value) {
    if (UNSTORABLE.test(key) || holdsUnstorable(value[key])) return true;
  }
  return false;
}

function collect(value: unknown, path: PropertyKey[]): UnstorableText[] {
  if (typeof value === 'string') {
    const message = unstorableReason(value);
    return message ? [{ path, message }] : [];
  }
  if (Array.isArray(value)) return value.flatMap((item, index) => collect(item, [...path, index]));
  if (!isPlainObject(value)) return [];
  const found: UnstorableText[] = [];
  for (const [key, inner] of Object.entries(value)) {
    const keyReason = unstorableReason(key);
    // The key itself cannot be shown in the path without the character it is refused for.
    if (keyReason) found.push({ path, message: `a key ${keyReason}` });
    else found.push(...collect(inner, [...path, key]));
  }
  return found;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
