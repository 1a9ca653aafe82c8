export {
  FLUSH_MESSAGE,
  type HeraldScope,
  type HeraldServiceWorker,
  type HeraldServiceWorkerOptions,
  installHerald,
  openOrFocus,
  SYNC_TAG,
} from './install.js';
export {
  clickTarget,
  type HeraldNotificationAction,
  type HeraldNotificationData,
  type HeraldNotificationOptions,
  isExpired,
  isHeraldNotificationData,
  toNotification,
} from './notification.js';
export {
  classifyStatus,
  createReporter,
  type FlushResult,
  indexedDbReportStore,
  memoryReportStore,
  type PendingReport,
  type Reporter,
  type ReporterOptions,
  type ReportStore,
  type SendOutcome,
} from './reports.js';
