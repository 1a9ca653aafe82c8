export { memoryCounters } from './adapters/memory-counters.js';
export { memoryQueue } from './adapters/memory-queue.js';
export { memoryStorage } from './adapters/memory-storage.js';
export { systemClock } from './adapters/system-clock.js';
export * from './delivery/index.js';
export type { SegmentService } from './engine/campaigns/segments-service.js';
export { createHerald, type Herald, type HeraldOptions } from './engine/create-herald.js';
export { defaultRetryPolicy, type RetryPolicy } from './engine/deliver/backoff.js';
export type { GlobalLimits } from './engine/deliver/gates/caps.js';
export { type FittedPayload, fitPayload } from './engine/deliver/payload.js';
export type { MissingValue, RenderContext, RenderedMessage } from './engine/deliver/render.js';
export { consoleLogger, silentLogger } from './engine/logger.js';
export type { Explanation, OccurrenceExplanation } from './engine/observe/explain.js';
export type { CampaignForecast } from './engine/observe/forecast.js';
export type {
  CampaignPreview,
  PreviewNotification,
  TargetPreview,
  TestSendResult,
} from './engine/observe/preview.js';
export { nextDueAt } from './engine/schedule/next-due.js';
export * from './errors/index.js';
export {
  type HeraldHttpHandler,
  type HttpOptions,
  type HttpRequest,
  type HttpResponse,
  heraldHttp,
} from './http/handlers.js';
export { toNodeListener } from './http/node.js';
export * from './model/index.js';
export * from './payload/index.js';
export type * from './ports/index.js';
export {
  evaluateSegment,
  isLiveSubscription,
  matchesCondition,
  resolveBound,
  type SegmentSubject,
  segmentReads,
  windowRange,
} from './segments/index.js';
