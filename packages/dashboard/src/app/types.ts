/**
 * The admin API's answers as the browser receives them (JSON: instants are ISO strings). The
 * server's zod schemas are the source of these shapes (docs/ADMIN_API.md); only the fields the
 * dashboard reads are named here.
 */
export type CampaignStatus = 'draft' | 'scheduled' | 'running' | 'paused' | 'completed' | 'stopped';
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

export interface ConversionGroup {
  audience: number;
  conversions: number;
  revenue: number;
  rate: number | null;
}

export interface CampaignStats {
  recipients: number;
  pending: number;
  sent: number;
  failed: number;
  gone: number;
  skipped: Record<string, number>;
  control: number;
  viewed: number;
  clicked: number;
  closed: number;
  conversions: { recipients: ConversionGroup; control: ConversionGroup; lift: number | null };
}

export interface Rates {
  clickThrough: number | null;
  userClickThrough: number | null;
  viewRate: number | null;
  conversionRate: number | null;
  revenuePerSent: number | null;
  lift: {
    difference: number | null;
    low: number | null;
    high: number | null;
    pValue: number | null;
    controlTooSmall: boolean;
    note: string | null;
  };
}

export interface RunStats extends CampaignStats {
  occurrence: string;
  users: { delivered: number; viewed: number; clicked: number; converted: number };
  progress: { audience: number; queued: number; inProgress: number; done: number; settledAt: string | null };
  rates: Rates;
}

export interface CampaignRuns {
  by: 'occurrence' | 'day';
  total: RunStats;
  runs: RunStats[];
}

export interface TimelineBucket {
  start: string;
  end: string;
  unit: 'hour' | 'day';
  sent: number;
  viewed: number;
  clicked: number;
  conversions: number;
  revenue: number;
}

export interface CampaignTimeline {
  timezone: string;
  buckets: TimelineBucket[];
}

export interface BrowserRow {
  browser: 'chrome' | 'firefox' | 'edge' | 'safari' | 'other';
  target: 'web-push' | 'safari-legacy';
  users: number;
  sent: number;
  failed: number;
  viewed: number;
  clicked: number;
  conversions: number;
  revenue: number;
  clickThroughRate: number | null;
}

export interface Forecast {
  occurrence: string | null;
  qualified: number;
  reachable: number;
  afterControlGroup: number;
  afterCaps: number;
  afterDnd: number;
  delayedByDnd: number;
  passed: number;
  notes: string[];
}

export interface Reach {
  qualified: number;
  reachable: { total: number; webpush: number; safari: number };
}

export interface Decision {
  at: string;
  outcome: string;
  reason: string | null;
  facts: JsonObject;
}

export interface Explanation {
  userId: string;
  campaignStatus: CampaignStatus;
  summary: string[];
  occurrences: {
    occurrence: string;
    reached: boolean;
    state: string | null;
    reason: string | null;
    decisions: Decision[];
    deliveries: {
      subscriptionId: string;
      status: string;
      statusCode: number | null;
      reason: string | null;
      at: string;
    }[];
  }[];
}

export interface PreviewNotification {
  title: string;
  body: string;
  deeplink: string;
  icon?: string;
  image?: string;
  actions: { id: string; title: string; url: string }[];
}

export interface Preview {
  inAudience: boolean;
  controlGroup: boolean;
  skipped: string | null;
  issues: { path: string; message: string }[];
  missing: { field: string; variable: string }[];
  targets: {
    subscriptionId: string;
    target: 'webpush' | 'safari';
    notification: PreviewNotification;
    truncated: string[];
    warnings: string[];
  }[];
  warnings: string[];
}

export interface TestSendResult {
  userId: string;
  skipped: string | null;
  deliveries: { subscriptionId: string; target: string; outcome: string; detail: string | null }[];
}

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
