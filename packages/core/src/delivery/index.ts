export { APNS_TOKEN_REFRESH_SECONDS } from './apns-token.js';
export {
  type Admission,
  type Attempted,
  type BreakerAnswer,
  type BreakerState,
  type CircuitBreakerOptions,
  type CircuitBreakers,
  type CircuitChange,
  createCircuitBreakers,
  defaultCircuitBreakerOptions,
  isServiceFailure,
  sendThroughBreaker,
} from './circuit-breaker.js';
export {
  createDeliveryPool,
  DEFAULT_DELIVERY_WORKER_LIMITS,
  type DeliveryPool,
  type DeliveryPoolOptions,
  EncryptionError,
} from './delivery-pool.js';
export {
  checkEndpoint,
  createEndpointPolicy,
  type EndpointAllowRule,
  type EndpointCheck,
  type EndpointPolicy,
  type EndpointPolicyOptions,
  isNonPublicAddress,
  KNOWN_PUSH_SERVICE_HOSTS,
} from './endpoint-policy.js';
export {
  type HttpTransport,
  type NodeHttpTransportOptions,
  nodeHttpTransport,
  type TransportOptions,
  type TransportRequest,
  type TransportResponse,
} from './http-transport.js';
export type { DeliveryOutcome, DeliveryOutcomeKind } from './outcome.js';
export { pooledHttpTransport } from './pooled-http-transport.js';
export type { NegotiatedProtocol, PooledHttpTransport, PooledTransportOptions } from './pooled-transport.js';
export type { OutboundMessage, PushProvider } from './provider.js';
export {
  adaptForSafari,
  type SafariAdaptable,
  type SafariAdaptation,
  type SafariDroppedField,
  TARGET_REPORTING,
  type TargetReporting,
  urlArgsOf,
} from './safari-adapt.js';
export {
  type ApnsWebsitePayload,
  apnsPayloadOf,
  MAX_APNS_PAYLOAD_BYTES,
  type SafariApnsOptions,
  safariApns,
} from './safari-apns.js';
export { generateVapidKeys, type VapidDetails, type VapidKeys } from './vapid.js';
export { DEFAULT_WEB_PUSH_TIMEOUT_MS, type WebPushOptions, webPush } from './webpush-provider.js';
export { buildWebPushRequest, MAX_PAYLOAD_BYTES, type WebPushRequestInput } from './webpush-request.js';
export { DEFAULT_RATE_LIMIT_RETRY_MS } from './webpush-response.js';
