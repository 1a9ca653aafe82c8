/**
 * triggers/ — live campaigns: what a tracked event arms (arm.ts: at once,
 * after an inaction window, at a date the event names), the timers as queue
 * jobs (fire-job.ts, inaction.ts, keys.ts), and what a timer does when it
 * comes due (fire.ts: the inaction and filter checks, then deliver/).
 *
 * May import: deliver/ (a fired trigger is delivered like any batch),
 * fanout/ (the campaign's filter segment), schedule/ (zones) and the
 * engine's shared top. Never observe/ or campaigns/. observe/ imports
 * matchesEvent (match.ts), the one event-matching rule, for conversion goals.
 */
export { type ArmOutcome, armEach, armLiveTriggers } from './arm.js';
export { fireLive } from './fire.js';
export { matchesEvent } from './match.js';
