// Nothing in this entry's module graph imports fast-check (an optional peer dependency): the
// property-based suites that need it (`runSegmentEquivalenceSuite`, `segmentArbitraries`) are
// under `@herald/core/testing/fuzz`.

// The loopback push service moved to `@herald/core/dev` (it needs no test runner); these names stay
// so suites written against the testing entry keep working.
export {
  createDevPushService as createTestPushService,
  type DevPushService as TestPushService,
  type DevPushServiceOptions as TestPushServiceOptions,
  type PushResponseRule,
  type ReceivedPushMessage,
  type RejectedPushRequest,
} from '../dev/index.js';
export { MAX_PUSH_BODY_BYTES, readPushBody } from '../dev/read-body.js';
export { type VapidCheck, VapidVerifier, type VerifiedVapid } from '../dev/vapid-check.js';
export { type CampaignEditingSuiteOptions, runCampaignEditingSuite } from './campaign-editing-suite.js';
export { type CountersSuiteOptions, runCountersSuite } from './counters-suite.js';
export { type FakeClock, fakeClock } from './fake-clock.js';
export * as fixtures from './fixtures.js';
export type * from './harness.js';
export { type ImportSuiteOptions, runImportSuite } from './import-suite.js';
export { type MemoryStorageInspector, memoryStorageInspector } from './memory-inspector.js';
export {
  type ApnsResponseRule,
  createTestApnsService,
  type ReceivedApnsNotification,
  type TestApnsService,
  type TestApnsServiceOptions,
} from './push-service/apns-stand-in.js';
export { runQueueSuite } from './queue-suite.js';
export { type RetentionSuiteOptions, runRetentionSuite } from './retention-suite.js';
export { MATRIX_NOW, matrixProfiles, matrixSegments } from './segment-matrix.js';
export { runShutdownSuite, type ShutdownSuiteOptions } from './shutdown-suite.js';
export { runStorageSuite } from './storage-suite.js';
export { listenForWakes, untilListening, type WakeListener } from './wake-listener.js';
