import { z } from 'zod';

/**
 * Option values checked for their kind only, for the strict option schemas of `createHerald`,
 * `heraldHttp` and `webPush`: a port or a callback is the host's own object, so the schema asks
 * only that it is one, and names what was expected when it is not.
 */

/** A function (a callback, a resolver). */
export const callback = z.custom<(...args: never[]) => unknown>((value) => typeof value === 'function', {
  message: 'must be a function',
});

/** An object: a port, a provider, a nested setting checked where it is used. */
export const objectOf = (what: string) =>
  z.custom<object>((value) => typeof value === 'object' && value !== null, { message: `must be ${what}` });
