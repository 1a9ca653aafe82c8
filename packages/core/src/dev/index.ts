// `@herald/core/dev`: what a developer runs beside Herald on their own machine. Nothing here may
// import a test runner (vitest, fast-check): the example app and hosts load this entry at run time,
// and packages/core/test/dev-entry.test.ts fails if the built dist/dev.js or dev.cjs reaches for one.

export {
  type ChaosAnswer,
  type ChaosRecord,
  DevPushChaosOptions,
  type DevPushChaosReport,
} from './chaos.js';
export {
  createDevPushService,
  type DevPushService,
  type DevPushServiceOptions,
  type PushResponseRule,
  type ReceivedPushMessage,
  type RejectedPushRequest,
} from './push-service.js';
export type { VerifiedVapid } from './vapid-check.js';
