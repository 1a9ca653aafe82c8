export { memoryCounters } from './adapters/memory-counters.js';
export { memoryQueue } from './adapters/memory-queue.js';
export { memoryStorage } from './adapters/memory-storage.js';
export { systemClock } from './adapters/system-clock.js';
export * from './delivery/index.js';
export {
  type CampaignForecast,
  type CampaignPreview,
  type CampaignRuns,
  consoleLogger,
  createHerald,
  defaultRetryPolicy,
  type Explanation,
  type FittedPayload,
  fitPayload,
  type GlobalLimits,
  type Herald,
  type HeraldOptions,
  type LiftEstimate,
  type MissingValue,
  nextDueAt,
  type OccurrenceExplanation,
  type PreviewNotification,
  type RenderContext,
  type RenderedMessage,
  type RetryPolicy,
  type RunProgress,
  type RunRates,
  type RunStats,
  type RunUsers,
  type SegmentService,
  silentLogger,
  type TargetPreview,
  type TestSendResult,
} from './engine/index.js';
export * from './errors/index.js';
export {
  ADMIN_HTTP_ERRORS,
  type AdminHttpErrorCode,
  type AdminHttpOptions,
  type AdminOperation,
  type AuditEntry,
  type AuthDecision,
  type Authorize,
  type AuthorizeInput,
  bearerToken,
  type HeraldAdminHandler,
  heraldAdminHttp,
} from './http/admin/index.js';
export {
  errorResponse,
  type HeraldHttpHandler,
  type HttpOptions,
  type HttpRequest,
  type HttpResponse,
  heraldHttp,
} from './http/handlers.js';
export { type NodeListenerOptions, toNodeListener } from './http/node.js';
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
