import { ValidationError } from '../errors/index.js';
import { describeValue } from '../errors/zod-issues.js';
import type { CounterSpec } from './counters.js';

/**
 * What every Counters adapter accepts, in one place: `memoryCounters`, `postgresCounters` and
 * `redisCounters` check their input with these before counting anything, so a bad spec refuses
 * its whole call on every adapter alike, with a ValidationError naming it by its place in the
 * call (`[3][1].limit: must be an integer >= 0, received -1`). Without one rule the adapters
 * disagreed on what only some checked: a NaN limit let everyone through on memory and failed on
 * Postgres and Redis, so a test passed where production failed.
 *
 * Hand-written rather than a zod schema: a delivery batch under caps checks two or three specs for
 * each of its 250 users, on the delivery path.
 */

/**
 * Checks the specs of one consume: each a non-empty string key, a whole-number limit of 0 or more,
 * and a valid Date `expiresAt`. Throws a ValidationError naming the first bad field (`[1].limit`).
 */
export function checkCounterSpecs(specs: readonly CounterSpec[]): void {
  checkSpecs(specs, undefined);
}

/**
 * Checks the requests of one `consumeEach`: an array of spec arrays, each as `checkCounterSpecs`,
 * the path naming the request too (`[3][1].limit`).
 */
export function checkCounterRequests(requests: readonly (readonly CounterSpec[])[]): void {
  if (!Array.isArray(requests)) throw refused('counter requests', 'requests', 'expected an array', requests);
  for (let request = 0; request < requests.length; request++)
    checkSpecs(requests[request] as readonly CounterSpec[], request);
}

/** `request`: the spec list's place in a consumeEach, for the path. Paths are built only for a spec refused. */
function checkSpecs(specs: readonly CounterSpec[], request: number | undefined): void {
  const at = (index: number, field = '') =>
    `${request === undefined ? '' : `[${request}]`}[${index}]${field === '' ? '' : `.${field}`}`;
  if (!Array.isArray(specs))
    throw refused(
      'counter specs',
      request === undefined ? 'specs' : `[${request}]`,
      'expected an array',
      specs,
    );
  for (let index = 0; index < specs.length; index++) {
    const spec = specs[index];
    if (typeof spec !== 'object' || spec === null)
      throw refused('counter spec', at(index), 'expected an object with key, limit and expiresAt', spec);
    if (typeof spec.key !== 'string' || spec.key === '')
      throw refused('counter spec', at(index, 'key'), 'must be a non-empty string', spec.key);
    if (!Number.isInteger(spec.limit) || spec.limit < 0)
      throw refused('counter spec', at(index, 'limit'), 'must be an integer >= 0', spec.limit);
    if (!validDate(spec.expiresAt))
      throw refused('counter spec', at(index, 'expiresAt'), 'must be a valid Date', spec.expiresAt);
  }
}

/** The epoch milliseconds of the instant a counter call was given (its `now`), or a ValidationError. */
export function counterInstant(date: Date, path: string): number {
  if (!validDate(date)) throw refused('counter call', path, 'must be a valid Date', date);
  return date.getTime();
}

function validDate(date: unknown): date is Date {
  return date instanceof Date && !Number.isNaN(date.getTime());
}

function refused(what: string, path: string, message: string, value: unknown): ValidationError {
  // A limit shows itself (-1, 2.5, NaN); anything else is described (`a string ("3")`, `an invalid date`).
  const received = typeof value === 'number' ? String(value) : describeValue(value);
  return new ValidationError(what, [{ path, message: `${message}, received ${received}` }]);
}
