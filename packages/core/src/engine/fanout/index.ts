/**
 * fanout/ — an occurrence's audience, page by page (flow step 4).
 *
 * Owns: which segment a campaign targets (audience.ts), the audience-page
 * job that streams it from storage by keyset and groups a page by due
 * instant (fanout.ts), and the deliver-batch jobs it queues (batch-jobs.ts,
 * also used by deliver/ to re-queue users it delays).
 *
 * May import: schedule/ (occurrence instants, each user's due instant) and
 * the engine's shared top (context.ts, jobs.ts, decisions.ts). Never
 * deliver/, triggers/, observe/ or campaigns/.
 */
export { resolveAudience } from './audience.js';
export { type BatchGroup, deliverBatchJobs } from './batch-jobs.js';
export { fanOutPage } from './fanout.js';
