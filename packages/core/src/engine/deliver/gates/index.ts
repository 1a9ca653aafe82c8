/**
 * deliver/gates/ — the rules one recipient passes before a send, each a
 * pure function of the campaign, the user's zone and an instant, so
 * delivery, explain and forecast ask the very same questions.
 *
 * Owns: the control-group draw (control-group.ts), stop / end / cut-off and
 * TTL (window.ts), Do-Not-Disturb (dnd.ts), the global per-user caps
 * (caps.ts), the campaign's throttle (throttle.ts), and a batch's per-zone
 * facts (zone-facts.ts).
 *
 * May import: schedule/ (local time) and the engine's shared top. Never the
 * rest of deliver/: the steps use the gates, not the other way round.
 * Other floors reach the gates through deliver/index.ts.
 */
export { type CapPeriod, capPeriods, capSpec, capSpecs, GlobalLimits } from './caps.js';
export { inControlGroup } from './control-group.js';
export { checkDnd, type DndCheck, dndWindowAround } from './dnd.js';
export { isThrottleKey, nextMinute, throttleSpec } from './throttle.js';
export { blockedReason, lateReason, ttlLapsed } from './window.js';
export { type ZoneFacts, zoneFactsAt } from './zone-facts.js';
