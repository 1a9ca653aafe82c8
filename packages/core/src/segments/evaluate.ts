import { assertNever } from '../errors/index.js';
import type {
  DateBound,
  EventCount,
  EventFilter,
  EventWindow,
  JsonValue,
  Profile,
  Properties,
  PropertyCondition,
  SegmentDefinition,
  Subscription,
  UserEvent,
} from '../model/index.js';

/**
 * The reference semantics of segments. Every storage that evaluates segments
 * natively (the Postgres segment → SQL compiler) must agree with this module
 * on every input; the storage conformance suite checks it on real rows.
 *
 * Rules, stated once:
 *
 * 1. **Paths.** A condition's `property` names a key of the properties object.
 *    A key present at the top level under exactly that name wins (so a key
 *    "utm.source" is reachable); otherwise a dotted path `address.city` walks
 *    into nested objects, one key per segment. Arrays are not indexed by path.
 * 2. **Missing.** A property that is absent, or whose value is JSON `null`, is
 *    missing. On a missing property every operator is false except
 *    `notExists`. That includes `neq`: "not equal to X" needs a value to
 *    compare, so a user without a country is not in `country neq "FR"`
 *    (write `or(notExists, neq)` to include them).
 * 3. **Types.** No coercion: a condition whose value type differs from the
 *    property's type is false (`age eq "30"` does not match the number 30;
 *    `neq` is false too). The one exception is dates (rule 7).
 * 4. **eq / neq / in** compare scalars (string, number, boolean) with strict
 *    equality, case-sensitive. A property holding an array or an object is
 *    never `eq`, `neq` or `in` anything (use `contains` for arrays).
 * 5. **contains.** On a string: case-sensitive substring (the empty string is
 *    contained in every string). On an array: some element is strictly equal
 *    to the (string) value. Anything else: false. **startsWith**: strings only,
 *    case-sensitive.
 * 6. **gt / gte / lt / lte / between** need a number property; `between` is
 *    inclusive at both ends and false when min > max.
 * 7. **before / after** accept a property holding an ISO 8601 string
 *    (`2024-05-01`, `2024-05-01T10:00`, `2024-05-01T10:00:00.123456Z`,
 *    `…+02:00`, `…+0200`; a date alone is midnight UTC, a time without an
 *    offset is UTC, digits past milliseconds are truncated) or an
 *    epoch-milliseconds number. Anything else is false, including strings
 *    that are not real calendar instants (`2025-02-30`, `T24:00`, `T23:60`). The bound is
 *    `{ at }` or `{ ago: { amount, unit } }` = `now` minus a fixed duration
 *    (a day is 24 hours, a week 7 days; no calendar or time-zone arithmetic).
 *    Both are strict: `before` is value < bound, `after` is value > bound.
 * 8. **Composition.** `all` matches every profile, `and` needs every child,
 *    `or` some child, `not` inverts its child (so `not(country eq "FR")`
 *    includes users without a country). `property` conditions read the
 *    profile's `properties` only.
 *
 * Past behaviour reads the user's events (a subject without `events` has
 * done nothing):
 *
 * 9. **Matching events.** An event matches an EventFilter when its `name` is
 *    exactly the filter's (case-sensitive) and every `where` condition holds
 *    on the event's `properties`, by rules 1-7 (relative dates resolve
 *    against the same `now`). An empty `where` matches every event of that name.
 * 10. **Windows.** `inLast: { amount, unit }` is the closed interval
 *    [now − amount·unit, now]: an event exactly at either end counts, a
 *    future-dated event (time > now) does not. `between: { from, to }` is the
 *    half-open interval [from, to): `from` counts, `to` does not, so adjacent
 *    windows never count an event twice; from ≥ to is an empty window. Units
 *    are fixed durations as in rule 7. No window means any time, future included.
 * 11. **did / didNot.** `did` counts the matching events inside the window and
 *    compares: `atLeast` n is count ≥ n, `atMost` n is count ≤ n, `exactly` n
 *    is count = n; no `count` means atLeast 1. So `atMost` and `exactly 0`
 *    include users who never did it. `didNot` is exactly count = 0.
 * 12. **firstTime / lastTime.** The earliest (latest) matching event at any
 *    time, compared strictly with the bound: `before` is time < bound, `after`
 *    is time > bound. A user with no matching event is in neither.
 *
 * Reachability reads the user's subscriptions:
 *
 * 13. **reachable.** True when the user has at least one live subscription
 *    (on `target`, when given). A stored subscription is live unless its
 *    `expirationTime` (epoch ms, web push only) is ≤ now. Subscriptions the
 *    push service reported gone are deleted, so they never count.
 */
export interface SegmentSubject {
  profile: Profile;
  /** The user's events, in any order; absent = none. */
  events?: readonly UserEvent[];
  /** The user's stored subscriptions; absent = none. */
  subscriptions?: readonly Subscription[];
}

export function evaluateSegment(def: SegmentDefinition, subject: SegmentSubject, now: Date): boolean {
  switch (def.type) {
    case 'all':
      return true;
    case 'property':
      return matchesCondition(def.condition, subject.profile.properties, now);
    case 'did': {
      const count = matchingEvents(def.event, subject, now, def.window).length;
      return compareCount(count, def.count ?? { op: 'atLeast', value: 1 });
    }
    case 'didNot':
      return matchingEvents(def.event, subject, now, def.window).length === 0;
    case 'firstTime':
    case 'lastTime': {
      const times = matchingEvents(def.event, subject, now, undefined).map((e) => e.time.getTime());
      if (times.length === 0) return false;
      const pick = def.type === 'firstTime' ? Math.min : Math.max;
      const at = times.reduce((a, b) => pick(a, b));
      const bound = resolveBound(def.date, now);
      return def.op === 'before' ? at < bound : at > bound;
    }
    case 'reachable':
      return (subject.subscriptions ?? []).some(
        (s) => isLiveSubscription(s, now) && (def.target === undefined || s.target === def.target),
      );
    case 'and':
      return def.of.every((child) => evaluateSegment(child, subject, now));
    case 'or':
      return def.of.some((child) => evaluateSegment(child, subject, now));
    case 'not':
      return !evaluateSegment(def.of, subject, now);
    default:
      return assertNever(def, 'segment type');
  }
}

/** The subject's events matching the filter (rule 9) inside the window (rule 10). */
function matchingEvents(
  filter: EventFilter,
  subject: SegmentSubject,
  now: Date,
  window: EventWindow | undefined,
): UserEvent[] {
  const range = window === undefined ? null : windowRange(window, now);
  return (subject.events ?? []).filter((event) => {
    if (event.name !== filter.name) return false;
    const time = event.time.getTime();
    if (range && !(time >= range.from && (range.closed ? time <= range.to : time < range.to))) return false;
    return filter.where.every((condition) => matchesCondition(condition, event.properties, now));
  });
}

/** A window's bounds in epoch ms; `closed` says whether `to` itself is inside (rule 10). */
export function windowRange(window: EventWindow, now: Date): { from: number; to: number; closed: boolean } {
  if ('inLast' in window) {
    return {
      from: now.getTime() - window.inLast.amount * UNIT_MS[window.inLast.unit],
      to: now.getTime(),
      closed: true,
    };
  }
  return {
    from: resolveBound(window.between.from, now),
    to: resolveBound(window.between.to, now),
    closed: false,
  };
}

function compareCount(count: number, rule: EventCount): boolean {
  switch (rule.op) {
    case 'atLeast':
      return count >= rule.value;
    case 'atMost':
      return count <= rule.value;
    case 'exactly':
      return count === rule.value;
    default:
      return assertNever(rule.op, 'count operator');
  }
}

/** Rule 13: stored and not past its expiration time. */
export function isLiveSubscription(subscription: Subscription, now: Date): boolean {
  if (subscription.target !== 'webpush') return true;
  const expires = subscription.expirationTime;
  return expires === null || expires === undefined || expires > now.getTime();
}

/** One condition against a properties object (a profile's, or an event's in behaviour filters). See the rules above. */
export function matchesCondition(cond: PropertyCondition, properties: Properties, now: Date): boolean {
  const value = readPath(properties, cond.property);
  if (cond.op === 'notExists') return value === undefined;
  if (value === undefined) return false;

  switch (cond.op) {
    case 'exists':
      return true;
    case 'eq':
      return isScalar(value) && value === cond.value;
    case 'neq':
      return isScalar(value) && typeof value === typeof cond.value && value !== cond.value;
    case 'in':
      return isScalar(value) && cond.values.includes(value);
    case 'contains':
      if (typeof value === 'string') return value.includes(cond.value);
      if (Array.isArray(value)) return value.includes(cond.value);
      return false;
    case 'startsWith':
      return typeof value === 'string' && value.startsWith(cond.value);
    case 'gt':
      return typeof value === 'number' && value > cond.value;
    case 'gte':
      return typeof value === 'number' && value >= cond.value;
    case 'lt':
      return typeof value === 'number' && value < cond.value;
    case 'lte':
      return typeof value === 'number' && value <= cond.value;
    case 'between':
      return typeof value === 'number' && value >= cond.min && value <= cond.max;
    case 'before':
    case 'after': {
      const at = toEpochMillis(value);
      if (at === null) return false;
      const bound = resolveBound(cond.date, now);
      return cond.op === 'before' ? at < bound : at > bound;
    }
    default:
      return assertNever(cond, 'condition operator');
  }
}

type Present = Exclude<JsonValue, null>;

/** The value at `path`, or undefined when missing (absent or null; rules 1 and 2). */
export function readPath(properties: Properties, path: string): Present | undefined {
  if (Object.hasOwn(properties, path)) return present(properties[path]);
  if (!path.includes('.')) return undefined;
  let current: JsonValue | undefined = properties;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    if (!Object.hasOwn(current, key)) return undefined;
    current = current[key];
  }
  return present(current);
}

const present = (value: JsonValue | undefined): Present | undefined => (value === null ? undefined : value);

const isScalar = (value: Present): value is string | number | boolean =>
  typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';

/**
 * Date-only, or date-time with optional seconds, fraction and offset (rule 7):
 * groups are year, month, day, hour, minute, second, fraction, offset sign, offset hours, offset minutes.
 */
const ISO_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:Z|([+-])(\d{2}):?(\d{2}))?)?$/;

/**
 * Parsed by hand rather than with Date.parse, whose leniency (Feb 30 rolls
 * into March, 24:00 is accepted, offset-less times are local) is not a rule
 * a SQL store should have to copy.
 */
function toEpochMillis(value: Present): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'string') return null;
  const m = ISO_DATE.exec(value);
  if (!m) return null;
  const part = (i: number): number => Number(m[i] ?? 0);
  const [year, month, day, hour, minute, second] = [part(1), part(2), part(3), part(4), part(5), part(6)];
  const [offsetHours, offsetMinutes] = [part(9), part(10)];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) return null;
  // Fractions beyond milliseconds are truncated.
  const millis = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  const offset = (m[8] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  return utc(year, month - 1, day).setUTCHours(hour, minute, second, millis) - offset;
}

/** Midnight UTC of a date; setUTCFullYear, unlike Date.UTC, keeps years 0-99 as they are. */
function utc(year: number, monthIndex: number, day: number): Date {
  const date = new Date(0);
  date.setUTCFullYear(year, monthIndex, day);
  return date;
}

function daysInMonth(year: number, month: number): number {
  return utc(year, month, 0).getUTCDate();
}

const UNIT_MS = { minutes: 60_000, hours: 3_600_000, days: 86_400_000, weeks: 604_800_000 } as const;

/** The instant a DateBound stands for at `now`. */
export function resolveBound(bound: DateBound, now: Date): number {
  if ('at' in bound) return bound.at.getTime();
  return now.getTime() - bound.ago.amount * UNIT_MS[bound.ago.unit];
}
