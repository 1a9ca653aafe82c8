/**
 * The admin API's answers as the browser receives them (JSON: instants are ISO strings). The
 * engine's types are the source of these shapes (docs/ADMIN_API.md): imported as types only, so
 * nothing of the engine reaches the bundle, and read through `Wire`. Campaigns, segments and
 * profiles keep shapes of their own: the form and the JSON editors read them as plain JSON.
 */
import type {
  BrowserStats,
  CampaignForecast,
  CampaignPreview,
  CampaignBrowsers as EngineCampaignBrowsers,
  CampaignRuns as EngineCampaignRuns,
  CampaignStats as EngineCampaignStats,
  CampaignStatus as EngineCampaignStatus,
  CampaignTimeline as EngineCampaignTimeline,
  Explanation as EngineExplanation,
  PreviewNotification as EnginePreviewNotification,
  TestSendResult as EngineTestSendResult,
  TimelineBucket as EngineTimelineBucket,
  ReachEstimate,
} from '@herald/core';

/**
 * A value as the admin API's JSON carries it: instants arrive as ISO strings, the rest as it is.
 * Primitives come first so a branded id (a string with a brand) stays a string.
 */
export type Wire<T> = T extends Date
  ? string
  : T extends string | number | boolean | null | undefined
    ? T
    : { [K in keyof T]: Wire<T[K]> };

export type CampaignStatus = EngineCampaignStatus;
export const STATUSES: CampaignStatus[] = ['draft', 'scheduled', 'running', 'paused', 'completed', 'stopped'];

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Campaign {
  id: string;
  name: string;
  labels: string[];
  status: CampaignStatus;
  when: JsonObject & { schedule: JsonObject & { type: string }; timezone: string };
  who: JsonObject;
  what: JsonObject & { title: string; body: string; deeplink: string };
  setup: JsonObject & { controlGroupPercent: number };
  createdAt: string;
  updatedAt: string;
  nextRunAt: string | null;
  version: number;
  archivedAt?: string;
}

export type CampaignStats = Wire<EngineCampaignStats>;
export type CampaignRuns = Wire<EngineCampaignRuns>;
export type CampaignTimeline = Wire<EngineCampaignTimeline>;
export type TimelineBucket = Wire<EngineTimelineBucket>;
export type CampaignBrowsers = Wire<EngineCampaignBrowsers>;
export type BrowserRow = Wire<BrowserStats>;
export type Forecast = Wire<CampaignForecast>;
export type Reach = Wire<ReachEstimate>;
export type Explanation = Wire<EngineExplanation>;
export type Preview = Wire<CampaignPreview>;
export type PreviewNotification = Wire<EnginePreviewNotification>;
export type TestSendResult = Wire<EngineTestSendResult>;

export interface SavedSegment {
  id: string;
  name: string;
  description?: string;
  definition: JsonObject;
  createdAt: string;
}

export interface Profile {
  userId: string;
  properties: JsonObject;
  timezone?: string;
  test?: boolean;
}
