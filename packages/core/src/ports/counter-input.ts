import { ValidationError } from '../errors/index.js';
import { describeValue } from '../errors/zod-issues.js';
import type { CounterSpec } from './counters.js';

/**
 * What every Counters adapter accepts, in one place: `memoryCounters`, `postgresCounters` and
 * `redisCounters` check their input with these before counting anything, so a bad spec refuses
 * its whole call on every adapter alike, with a ValidationError naming it by its place in the call
 * (`[3][1].limit: must be an integer >= 0, received -1`). Before, Postgres and Redis each checked with a copy
 * of their own and memory checked nothing: a NaN limit blocked no one there and failed elsewhere.
 *
 * Hand-written rather than a zod schema: a delivery batch under caps checks two or three specs for
 * each of its 250 users, on the delivery path.
 */

/**
 * Checks the specs of one consume: each a non-empty string key, a whole-number limit of 0 or more,
 * and a valid Date `expiresAt`. `at` prefixes the paths (`[3]` for the fourth request of a
 * `consumeEach`). Throws a ValidationError naming the first bad field.
 */
export function checkCounterSpecs(specs: readonly CounterSpec[], at = ''): void {
  if (!Array.isArray(specs))
    throw refused('counter specs', at === '' ? 'specs' : at, 'expected an array', specs);
  for (const [index, spec] of specs.entries()) {
    const path = `${at}[${index}]`;
    if (typeof spec !== 'object' || spec === null)
      throw refused('counter spec', path, 'expected an object with key, limit and expiresAt', spec);
    if (typeof spec.key !== 'string' || spec.key === '')
      throw refused('counter spec', `${path}.key`, 'must be a non-empty string', spec.key);
    if (!Number.isInteger(spec.limit) || spec.limit < 0)
      throw refused('counter spec', `${path}.limit`, 'must be an integer >= 0', spec.limit);
    counterInstant(spec.expiresAt, `${path}.expiresAt`, 'counter spec');
  }
}

/** Checks the requests of one `consumeEach`: an array of spec arrays, each as `checkCounterSpecs`. */
export function checkCounterRequests(requests: readonly (readonly CounterSpec[])[]): void {
  if (!Array.isArray(requests)) throw refused('counter requests', 'requests', 'expected an array', requests);
  for (const [index, specs] of requests.entries()) checkCounterSpecs(specs, `[${index}]`);
}

/** The epoch milliseconds of an instant a counter call was given (`now`, `expiresAt`), or a ValidationError. */
export function counterInstant(date: Date, path: string, what = 'counter call'): number {
  const ms = date instanceof Date ? date.getTime() : Number.NaN;
  if (Number.isNaN(ms)) throw refused(what, path, 'must be a valid Date', date);
  return ms;
}

function refused(what: string, path: string, message: string, value: unknown): ValidationError {
  // A limit shows itself (-1, 2.5, NaN); anything else is described (`a string ("3")`, `an invalid date`).
  const received = typeof value === 'number' ? String(value) : describeValue(value);
  return new ValidationError(what, [{ path, message: `${message}, received ${received}` }]);
}
