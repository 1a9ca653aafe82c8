import { DateTime } from 'luxon';
import type { Campaign, CampaignId } from '../../model/index.js';
import type { EngineContext } from '../context.js';
import { ratio } from './rates.js';

/** Hours after the local hour of the first send that are shown hour by hour; day buckets follow. */
export const TIMELINE_HOURLY_FOR = 48;

/** One time bucket of a campaign's timeline. */
export interface TimelineBucket {
  /** The bucket's first instant (a local hour or day start; the first day bucket starts at the hourly cutoff). */
  start: Date;
  /** The next bucket's start of the same unit: where this one ends (exclusive). */
  end: Date;
  unit: 'hour' | 'day';
  /** Messages sent in the bucket (by send time). */
  sent: number;
  /** Service-worker reports received in the bucket (by report time), whatever run's message they are about. */
  viewed: number;
  clicked: number;
  /** Recipients' conversions in the bucket (control left out) and their revenue. */
  conversions: number;
  revenue: number;
}

export interface CampaignTimeline {
  campaignId: CampaignId;
  /** The zone the buckets are cut in: the campaign's `when.timezone` (UTC when absent). */
  timezone: string;
  /** Hours, from the local hour of the first send, shown hour by hour before day buckets. */
  hourlyFor: number;
  /** Oldest first; buckets with nothing in them are left out. */
  buckets: TimelineBucket[];
  totals: { sent: number; viewed: number; clicked: number; conversions: number; revenue: number };
  rates: { clickThrough: number | null; viewRate: number | null };
}

/**
 * `campaigns.timeline`: sent, viewed, clicked, conversions and revenue over
 * time (docs/CAMPAIGNS.md, "Stats over time"), grouped by the storage.
 */
export async function campaignTimeline(ctx: EngineContext, campaign: Campaign): Promise<CampaignTimeline> {
  const timezone = campaign.when.timezone;
  const stored = await ctx.storage.campaignTimeline(campaign.id, {
    zone: timezone,
    hourlyFor: TIMELINE_HOURLY_FOR,
  });
  const totals = { sent: 0, viewed: 0, clicked: 0, conversions: 0, revenue: 0 };
  const buckets = stored.map((bucket): TimelineBucket => {
    for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += bucket[key];
    return { ...bucket, end: bucketEnd(bucket.start, bucket.unit, timezone) };
  });
  return {
    campaignId: campaign.id,
    timezone,
    hourlyFor: TIMELINE_HOURLY_FOR,
    buckets,
    totals,
    rates: { clickThrough: ratio(totals.clicked, totals.sent), viewRate: ratio(totals.viewed, totals.sent) },
  };
}

/** The next local hour or day start after `start`, with luxon in the zone (a DST day is 23 or 25 hours). */
function bucketEnd(start: Date, unit: 'hour' | 'day', zone: string): Date {
  return DateTime.fromJSDate(start, { zone })
    .startOf(unit)
    .plus(unit === 'hour' ? { hours: 1 } : { days: 1 })
    .toJSDate();
}
