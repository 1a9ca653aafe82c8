/**
 * schedule/ — when a campaign acts (flow steps 2 and 3: schedule, start an
 * occurrence).
 *
 * Owns: wall-clock arithmetic in IANA zones (local-time.ts), a schedule's
 * due instants (next-due.ts), the lifecycle's statuses and first moment
 * (lifecycle.ts), occurrence ids (occurrence.ts), each user's due instant in
 * a wave across zones (wave.ts) and the scheduler pass that starts
 * occurrences (scheduler.ts).
 *
 * May import: the model, ports and errors, and the engine's shared top
 * (context.ts, jobs.ts). It is the lowest floor: it imports no other floor,
 * and every floor above may import it.
 */
export {
  assertTransition,
  canTransition,
  firstMoment,
  firstRun,
  resumeTarget,
  seriesAnchor,
} from './lifecycle.js';
export {
  atWallTime,
  dayKey,
  localDay,
  minuteOfDay,
  nextDayStart,
  nextWeekStart,
  parseTimeOfDay,
  sameWallTimeIn,
  validZone,
  weekKey,
} from './local-time.js';
export { actAtFor, EARLIEST_ZONE, nextDueAt, nominalFor } from './next-due.js';
export { occurrenceId, occurrenceInstant } from './occurrence.js';
export { runScheduler } from './scheduler.js';
export { capZoneOf, PASSED_GRACE_MS, type UserDue, userDue, zoneOf } from './wave.js';
