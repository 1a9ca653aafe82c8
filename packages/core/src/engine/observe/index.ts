/**
 * observe/ — what a campaign did, would do, and what came of it (flow
 * step 9), all read from what the floors below recorded.
 *
 * Owns: report tokens carried in payloads and checked on reports
 * (report-token.ts), last-touch conversion attribution and its figures
 * (conversions.ts), campaign stats (stats.ts), stats by browser
 * (browsers.ts), per-run stats (runs.ts)
 * with rates and the comparison against control (rates.ts), why a user did or did not
 * get a campaign (explain.ts), how many a next run would reach
 * (forecast.ts), and the notification as a user would see it, with test
 * sends to test profiles (preview.ts).
 *
 * May import: triggers/ (the event-matching rule for goals), deliver/ (the
 * gates, render and payload, so a preview or forecast asks the same
 * questions as a send), fanout/ (the audience), schedule/ and the engine's
 * shared top. Never campaigns/: the campaign service calls observe/.
 */
export { type BrowserStats, browserOfRun, type CampaignBrowsers, campaignBrowsers } from './browsers.js';
export { attributeConversion, conversionStats, type TrackOptions } from './conversions.js';
export { type Explanation, explain, type OccurrenceExplanation } from './explain.js';
export { type CampaignForecast, forecastCampaign } from './forecast.js';
export {
  type CampaignPreview,
  MAX_TEST_RECIPIENTS,
  type PreviewNotification,
  previewCampaign,
  sendTest,
  type TargetPreview,
  type TestSendResult,
} from './preview.js';
export {
  compareToControl,
  type LiftEstimate,
  MIN_CONTROL_MEMBERS,
  MIN_EXPECTED,
  wilsonInterval,
} from './rates.js';
export {
  type ReportClaims,
  type ReportSecret,
  type ReportTokens,
  reportKeyFor,
  reportTokens,
} from './report-token.js';
export {
  type CampaignRuns,
  campaignRuns,
  type RunProgress,
  type RunRates,
  type RunStats,
  type RunUsers,
} from './runs.js';
export { campaignStats } from './stats.js';
export {
  type CampaignTimeline,
  campaignTimeline,
  TIMELINE_HOURLY_FOR,
  type TimelineBucket,
} from './timeline.js';
