import { ConfigError } from '../errors/index.js';
import type { Clock, Counters, Logger } from '../ports/index.js';
import type { Herald } from './api.js';

/**
 * What Herald's own HTTP handlers need from an engine beyond its public API:
 * the host's logger and clock, and the counters the admin API keeps
 * idempotency keys in. Kept in a module-private WeakMap keyed by the herald
 * object rather than on it, so the public `Herald` type carries no engine
 * internals and a host cannot come to depend on them; the map lets an engine
 * be collected like any object. Not exported from the package.
 */
export interface HeraldInternals {
  logger: Logger;
  clock: Clock;
  counters: Counters;
}

const registry = new WeakMap<Herald, HeraldInternals>();

export function registerInternals(herald: Herald, internals: HeraldInternals): void {
  registry.set(herald, internals);
}

/** The internals of an engine made by `createHerald`; throws for any other object. */
export function internals(herald: Herald): HeraldInternals {
  const found = registry.get(herald);
  if (!found) throw new ConfigError('expected a Herald made by createHerald()');
  return found;
}
