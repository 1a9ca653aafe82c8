/**
 * deliver/ — one delivery job, from pick-up to settled recipients (flow
 * steps 5 to 8: gate, render, deliver, retry).
 *
 * deliver.ts orchestrates; every step takes the job's BatchRun
 * (batch-run.ts) and returns to it without calling another step:
 * admit.ts (recipient rows, control group) → gate-batch.ts (the gates in
 * gates/: window, DND, TTL, caps, throttle; and rendering, render.ts) →
 * send.ts (payload.ts, the provider, retries with backoff.ts; each outcome
 * stored as it arrives by record-outcomes.ts) → settle.ts (delivered or
 * undeliverable). A job's retries are queued in groups
 * (redelivery-groups.ts), each sent again by redeliver.ts, through the
 * same send and settle steps.
 *
 * May import: fanout/ (batch jobs, to re-queue delayed users), schedule/
 * (zones, local time, occurrence instants) and the engine's shared top.
 * Never triggers/, observe/ or campaigns/: they call into deliver/, not
 * the other way round.
 */
export { backoffDelay, defaultRetryPolicy, type RetryPolicy } from './backoff.js';
export { deliverBatch } from './deliver.js';
export {
  blockedReason,
  capSpecs,
  checkDnd,
  dndWindowAround,
  GlobalLimits,
  inControlGroup,
  lateReason,
  ttlLapsed,
} from './gates/index.js';
export { type FittedPayload, fitPayload, longestFitting, splitGraphemes } from './payload.js';
export { redeliverGroup } from './redeliver.js';
export {
  createRenderer,
  type MissingValue,
  type RenderContext,
  type RenderedMessage,
  type Renderer,
  renderContext,
} from './render.js';
