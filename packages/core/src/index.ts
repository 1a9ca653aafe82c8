export { memoryCounters } from './adapters/memory-counters.js';
export { memoryQueue } from './adapters/memory-queue.js';
export { memoryStorage } from './adapters/memory-storage.js';
export { systemClock } from './adapters/system-clock.js';
export * from './delivery/index.js';
export {
  type AddSubscriptionInput,
  type BrowserStats,
  type CampaignBrowsers,
  type CampaignCommandOptions,
  type CampaignForecast,
  type CampaignListFilter,
  CampaignPatch,
  type CampaignPreview,
  type CampaignRuns,
  type CampaignService,
  type CampaignTimeline,
  type CreateCampaignInput,
  type CreateSegmentInput,
  consoleLogger,
  createHerald,
  defaultRetryPolicy,
  type EventService,
  type Explanation,
  type FittedPayload,
  fitPayload,
  type GlobalLimits,
  type Herald,
  type HeraldEvent,
  type HeraldEventType,
  type HeraldOptions,
  type ImportEventsOptions,
  type ImportRejection,
  type ImportResult,
  type InFlight,
  type LiftEstimate,
  type MissingValue,
  nextDueAt,
  type OccurrenceExplanation,
  type PreviewNotification,
  type ProfileService,
  type PruneInput,
  type PruneKind,
  type PruneKindResult,
  PruneOptions,
  type PruneResult,
  type PushServiceName,
  prune,
  type RenderContext,
  type RenderedMessage,
  type ReportClaims,
  type ReportSecret,
  type ReportService,
  RetentionAge,
  type RetryPolicy,
  type RunProgress,
  type RunRates,
  type RunStats,
  type RunUsers,
  type SegmentService,
  type SubscriptionService,
  silentLogger,
  type TargetPreview,
  type TestSendResult,
  type TimelineBucket,
  type TrackEventInput,
  type TrackOptions,
  type UpdateSegmentInput,
  type UpsertProfileInput,
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
export { type ErrorResponse, errorResponse, httpStatusOf } from './http/errors.js';
export {
  type HeraldHttpHandler,
  type HttpOptions,
  type HttpRequest,
  type HttpResponse,
  heraldHttp,
} from './http/handlers.js';
export { type NodeListenerOptions, toNodeListener } from './http/node.js';
export { addressKey, DEFAULT_RATE_LIMITS, type RateLimits } from './http/rate-limit.js';
export * from './model/index.js';
export * from './payload/index.js';
export { checkCounterRequests, checkCounterSpecs, counterInstant } from './ports/counter-input.js';
export type * from './ports/index.js';
export {
  DedupeKey,
  JobInput,
  JobPayload,
  parseClaimOptions,
  parseDedupeKey,
  parseDedupeKeys,
  parseJobInputs,
  parseLease,
  parsePruneBatch,
  parseRetryAt,
} from './ports/job-input.js';
export {
  evaluateSegment,
  isLiveSubscription,
  matchesCondition,
  resolveBound,
  type SegmentSubject,
  segmentReads,
  windowRange,
} from './segments/index.js';
