import { z } from 'zod';
import { parseInput } from '../errors/index.js';
import { describeValue } from '../errors/zod-issues.js';
import type { ClaimOptions, PruneBatch } from './queue.js';

/**
 * What every Queue accepts, in one place: each adapter's `enqueue`,
 * `enqueueEach`, `cancel` and `cancelEach` parse their input with these
 * schemas (`parseJobInputs`, `parseDedupeKey`, `parseDedupeKeys`) before
 * writing anything, so a bad job refuses its whole call on memory, Postgres
 * and Redis alike, with a ValidationError naming the job by its place in the
 * call (`jobs[2].dedupeKey: must not be empty`). Without one rule the
 * adapters disagreed on what nobody checked: Redis stores "no key" as '', so
 * `dedupeKey: ''` meant no key there and a real key elsewhere. `claim`,
 * `retry`, `extendLease` and `pruneFailed` parse theirs too
 * (`parseClaimOptions`, `parseRetryAt`, `parseLease`, `parsePruneBatch`).
 */

/**
 * A dedupe key: any non-empty string (storage must be able to hold it, as
 * every input, see `parseInput`). '' is refused rather than read as "no key",
 * which is what leaving the key out says.
 */
export const DedupeKey = z.string().min(1);

/**
 * A job's payload: a value JSON carries as it is, since that is what the
 * Postgres and Redis queues store (the memory queue keeps the same JSON form):
 * null, a boolean, a string, a finite number, or an array or plain object of
 * such values. A valid Date is taken too and becomes its ISO 8601 string, as
 * JSON.stringify writes it: the engine's jobs carry a triggering event's
 * time as a Date, and workers read instants back with `z.coerce.date()`.
 * An object key whose value is undefined is dropped, as JSON drops it.
 *
 * Refused, at the path of the first bad value: undefined (as the payload, or
 * an array's item, which JSON would turn into null), functions, symbols,
 * bigints (JSON.stringify throws), NaN and ±Infinity (JSON writes null), an
 * invalid Date, any other object (a Map or a class instance would lose its
 * contents in silence), and a cycle.
 *
 * Why a walk and not a zod union per value (`JsonValue` in model/common.ts):
 * a delivery batch's payload carries hundreds of user ids, and the engine
 * enqueues thousands of such jobs per campaign. The walk takes 2.6 µs for a
 * 250-user batch where the union takes 34 µs (node 20, 10k jobs), and the
 * union would refuse the Date. Storable text is not checked here: `parseInput`
 * walks every input for it anyway.
 */
export const JobPayload = z.unknown().superRefine((payload, ctx) => {
  const found = notJson(payload, [], []);
  if (found) ctx.addIssue({ code: 'custom', path: found.path, message: found.message, input: payload });
});

/** An instant a queue is given: only a valid Date, so the adapters are handed no text to interpret. */
const Instant = z.date({
  // A missing instant keeps "required".
  error: (issue) =>
    issue.input === undefined
      ? undefined
      : issue.input instanceof Date
        ? 'must be a valid Date'
        : `expected a Date, received ${describeValue(issue.input)}`,
});

/**
 * One job for `Queue.enqueue` / `enqueueEach`, strict: a misspelt key (`dedupekey`) is refused with
 * the key it meant, not dropped, since a dropped key would silently enqueue a job without its key.
 */
export const JobInput = z.strictObject({
  /** What kind of job; workers dispatch on it. */
  name: z.string().min(1),
  /** Carried as JSON (see JobPayload); parsed by the worker with a zod schema. */
  payload: JobPayload,
  runAt: Instant,
  /**
   * At most one unfinished job per dedupe key: enqueueing a key that is
   * already waiting or running is ignored (or replaces the waiting job with
   * `onDuplicate: 'replace'`). Once the job completes the key is free again.
   * Non-empty when present: leave it out for a job without a key.
   */
  dedupeKey: DedupeKey.optional(),
  onDuplicate: z.enum(['ignore', 'replace']).optional(),
});
export type JobInput = z.infer<typeof JobInput>;

// Wrapped in an object so that the issues' paths name the argument: `jobs[2].runAt`, not `[2].runAt`.
const JobBatch = z.strictObject({ jobs: z.array(JobInput) });
const DedupeKeyBatch = z.strictObject({ dedupeKeys: z.array(DedupeKey) });
const OneDedupeKey = z.strictObject({ dedupeKey: DedupeKey });

/**
 * The jobs of one enqueue call, parsed, or a ValidationError naming every bad
 * field by its place in the call (`jobs[2].dedupeKey: must not be empty`).
 */
export function parseJobInputs(jobs: readonly JobInput[]): JobInput[] {
  return parseInput(JobBatch, { jobs }, 'queue jobs').jobs;
}

/** The keys of one cancelEach call, parsed (`dedupeKeys[1]: must not be empty`). */
export function parseDedupeKeys(dedupeKeys: readonly string[]): string[] {
  return parseInput(DedupeKeyBatch, { dedupeKeys }, 'queue dedupe keys').dedupeKeys;
}

/** The key of one cancel call, parsed (`dedupeKey: must not be empty`). */
export function parseDedupeKey(dedupeKey: string): string {
  return parseInput(OneDedupeKey, { dedupeKey }, 'queue dedupe key').dedupeKey;
}

/** A lease's length in milliseconds: a finite number above zero (NaN would hold a job forever). */
const LeaseMs = z.number({ error: 'must be a number > 0' }).positive({ error: 'must be a number > 0' });
/** How many rows a call may take or remove: a whole number, 0 or more. */
const Limit = z.int({ error: 'must be an integer >= 0' }).min(0, { error: 'must be an integer >= 0' });

const ClaimInput = z.strictObject({
  limit: Limit,
  leaseMs: LeaseMs,
  now: Instant,
  names: z.array(z.string().min(1)).optional(),
});
const RetryInput = z.strictObject({ runAt: Instant });
const LeaseInput = z.strictObject({ leaseMs: LeaseMs, now: Instant });
const PruneInput = z.strictObject({ before: Instant, limit: Limit });

/*
 * The calls on a claimed job and the queue's upkeep follow the same rule as enqueue: parsed before
 * anything is written. Without it the adapters disagreed again: Redis refused a NaN lease or an
 * invalid Date, Postgres failed inside its SQL, and memoryQueue took them, leaving a job active for
 * ever or waiting for a moment that never comes. Each is one parse per call, not per message (a
 * claim per poll, a retry or a lease per job).
 */

/** A claim's options, parsed (`limit: must be an integer >= 0`, `names[0]: …`). */
export function parseClaimOptions(options: ClaimOptions): ClaimOptions {
  return parseInput(ClaimInput, options, 'queue claim');
}

/** The instant a retried job runs again, parsed (`runAt: must be a valid Date`). */
export function parseRetryAt(runAt: Date): Date {
  return parseInput(RetryInput, { runAt }, 'queue retry').runAt;
}

/** An extended lease's length and instant, parsed (`leaseMs: must be a number > 0`). */
export function parseLease(leaseMs: number, now: Date): { leaseMs: number; now: Date } {
  return parseInput(LeaseInput, { leaseMs, now }, 'queue lease');
}

/** One batch of `pruneFailed`, parsed (`before: must be a valid Date`). */
export function parsePruneBatch(batch: PruneBatch): PruneBatch {
  return parseInput(PruneInput, batch, 'queue prune');
}

interface NotJson {
  path: PropertyKey[];
  message: string;
}

const JSON_VALUE =
  'expected a JSON value (a string, finite number, boolean, null, array, plain object or Date)';

/**
 * The first value in `value` that JSON does not carry as it is, with its path, or undefined. `path`
 * and `ancestors` are stacks the walk pushes to and pops from, copied only for the value it reports,
 * so a clean payload (nearly every one) allocates nothing.
 */
function notJson(value: unknown, path: PropertyKey[], ancestors: object[]): NotJson | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value)
        ? undefined
        : { path: [...path], message: `expected a finite number, received ${value}` };
    case 'undefined':
      return {
        path: [...path],
        message: path.length === 0 ? 'required' : `${JSON_VALUE}, received undefined`,
      };
    case 'object':
      break;
    default:
      return { path: [...path], message: `${JSON_VALUE}, received a ${typeof value}` };
  }
  if (value === null) return undefined;
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? { path: [...path], message: 'must be a valid Date' } : undefined;
  }
  if (ancestors.includes(value)) return { path: [...path], message: 'a cycle, which JSON cannot carry' };
  const isArray = Array.isArray(value);
  if (!isArray) {
    const prototype: unknown = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) {
      const kind = (value as { constructor?: { name?: unknown } }).constructor?.name;
      return {
        path: [...path],
        message: `${JSON_VALUE}, received ${typeof kind === 'string' && kind !== '' ? `a ${kind}` : 'an object'}`,
      };
    }
  }
  ancestors.push(value);
  let found: NotJson | undefined;
  if (isArray) {
    for (let index = 0; index < value.length && !found; index++) {
      path.push(index);
      found = notJson(value[index], path, ancestors);
      path.pop();
    }
  } else {
    for (const key in value) {
      const inner = (value as Record<string, unknown>)[key];
      if (inner === undefined) continue;
      path.push(key);
      found = notJson(inner, path, ancestors);
      path.pop();
      if (found) break;
    }
  }
  ancestors.pop();
  return found;
}
