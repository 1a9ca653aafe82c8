import { z } from 'zod';

/**
 * Option values checked for their kind only, for the strict option schemas of `createHerald`,
 * `heraldHttp`, `heraldAdminHttp`, `webPush` and `safariApns`: a port or a callback is the host's own object, so the schema asks
 * only that it is one, and names what was expected when it is not.
 */

/** A function (a callback, a resolver). */
export const callback = z.custom<(...args: never[]) => unknown>((value) => typeof value === 'function', {
  message: 'must be a function',
});

/** An object: a port, a provider, a nested setting checked where it is used. */
export const objectOf = (what: string) =>
  z.custom<object>((value) => typeof value === 'object' && value !== null, { message: `must be ${what}` });

/** A `clock` option: the engine's, or a provider's wall time. */
export const clockOption = objectOf('a Clock');

/** A `logger` option. */
export const loggerOption = objectOf('a Logger ({ debug, info, warn, error })');

/**
 * What `webPush` and `safariApns` take alike: their clock, how long a push service may take to
 * answer, how requests travel and the circuit breaker.
 */
export const providerOptions = {
  clock: clockOption.optional(),
  timeoutMs: z.number().int().min(1).optional(),
  transport: objectOf('an HttpTransport (pooledHttpTransport(…))').optional(),
  circuitBreaker: z.union([objectOf('circuit breaker options'), z.literal(false)]).optional(),
};
