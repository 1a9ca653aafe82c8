export { memoryCounters } from './adapters/memory-counters.js';
export { memoryQueue } from './adapters/memory-queue.js';
export { memoryStorage } from './adapters/memory-storage.js';
export { systemClock } from './adapters/system-clock.js';
export * from './delivery/index.js';
export { defaultRetryPolicy, type RetryPolicy } from './engine/backoff.js';
export { createHerald, type Herald, type HeraldOptions } from './engine/create-herald.js';
export type { Explanation, OccurrenceExplanation } from './engine/explain.js';
export type { CampaignForecast } from './engine/forecast.js';
export type { GlobalLimits } from './engine/gates/caps.js';
export { consoleLogger, silentLogger } from './engine/logger.js';
export { type FittedPayload, fitPayload } from './engine/payload.js';
export type {
  CampaignPreview,
  PreviewNotification,
  TargetPreview,
  TestSendResult,
} from './engine/preview.js';
export type { MissingValue, RenderContext, RenderedMessage } from './engine/render.js';
export { nextDueAt } from './engine/schedule.js';
export type { SegmentService } from './engine/segments-service.js';
export * from './errors/index.js';
export { type ErrorResponse, errorResponse, httpStatusOf } from './http/errors.js';
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
