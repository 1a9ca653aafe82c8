/**
 * The engine, laid out in the order a campaign goes through it
 * (docs/ARCHITECTURE.md tells the same flow in nine steps). Each folder is
 * a floor named after what happens there, with an index.ts saying what it
 * owns and what it may import. A floor imports only the floors below it,
 * and only through their index.ts; within a floor, files import each other
 * directly.
 *
 *   campaigns/  the host's commands: herald.campaigns, herald.segments  (top)
 *   observe/    report tokens, conversions, stats, explain, forecast, preview
 *   triggers/   live campaigns: events arm timers, timers fire
 *   deliver/    one delivery job: admit, gates/, render, payload, send, retry, settle
 *   fanout/     an occurrence's audience, page by page, into delivery jobs
 *   schedule/   when a campaign acts: due instants, zones, lifecycle, the scheduler pass  (bottom)
 *
 * At this top level, api.ts declares the public API (Herald and its
 * services) that create-herald.ts implements, and two kinds of file:
 * - The composition root: create-herald.ts wires the host's ports into one
 *   engine and exposes its API; worker.ts claims due jobs and hands each to
 *   its floor; retention.ts prunes old events, decisions and failed jobs,
 *   keeping what live campaigns read. They import floors; nothing but
 *   create-herald.ts imports them.
 * - What every floor shares and which imports no floor (context.ts only
 *   names, as types, the parts it carries): context.ts (EngineContext),
 *   jobs.ts (queue job payloads, JobResult, the paused-campaign retry),
 *   decisions.ts (the decision log), faults.ts (configuration faults logged
 *   once per campaign and push service), browsers.ts (which browser a
 *   subscription belongs to, kept on each delivery), internals.ts (what the HTTP
 *   handlers read beside the public API), collections.ts and logger.ts.
 *
 * This file is the engine's face to the package: src/index.ts re-exports
 * from here.
 */

export type {
  AddSubscriptionInput,
  CampaignListFilter,
  CampaignService,
  CreateCampaignInput,
  CreateSegmentInput,
  EventService,
  Herald,
  HeraldEvent,
  HeraldEventType,
  ImportEventsOptions,
  ImportRejection,
  ImportResult,
  ProfileService,
  PushServiceName,
  ReportService,
  SegmentService,
  SubscriptionService,
  TrackEventInput,
  UpdateSegmentInput,
  UpsertProfileInput,
} from './api.js';
export { type CampaignCommandOptions, CampaignPatch } from './campaigns/index.js';
export { createHerald, type HeraldOptions } from './create-herald.js';
export type { MissingValue, RenderContext, RenderedMessage } from './deliver/index.js';
export {
  defaultRetryPolicy,
  type FittedPayload,
  fitPayload,
  type GlobalLimits,
  type RetryPolicy,
} from './deliver/index.js';
export type { InFlight } from './in-flight.js';
export { consoleLogger, silentLogger } from './logger.js';
export type {
  BrowserStats,
  CampaignBrowsers,
  CampaignForecast,
  CampaignPreview,
  CampaignRuns,
  CampaignTimeline,
  Explanation,
  LiftEstimate,
  OccurrenceExplanation,
  PreviewNotification,
  ReportClaims,
  ReportSecret,
  RunProgress,
  RunRates,
  RunStats,
  RunUsers,
  TargetPreview,
  TestSendResult,
  TimelineBucket,
  TrackOptions,
} from './observe/index.js';
export {
  type PruneInput,
  type PruneKind,
  type PruneKindResult,
  PruneOptions,
  type PruneResult,
  prune,
  RetentionAge,
} from './retention.js';
export { nextDueAt } from './schedule/index.js';
