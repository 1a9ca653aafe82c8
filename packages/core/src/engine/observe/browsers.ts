import type {
  Browser,
  BrowserClass,
  BrowserTarget,
  Campaign,
  CampaignId,
  UserId,
} from '../../model/index.js';
import type { EngineContext } from '../context.js';
import { ratio } from './rates.js';

/** One (browser, target) of a campaign's messages (`campaigns.browsers`). */
export interface BrowserStats {
  /** From the push service's host, refined by the user agent the SDK sent at subscribe (docs/CAMPAIGNS.md, "By browser"). */
  browser: Browser;
  /** `web-push` (standard Web Push, Safari 16+ included) or `safari-legacy` (APNs website push). */
  target: BrowserTarget;
  /** Users sent a message there, once per run (a user reached by two runs counts twice). */
  users: number;
  /** Messages sent. */
  sent: number;
  /** Messages that did not reach the browser: `failed` and `gone` outcomes. */
  failed: number;
  /** Viewed and clicked reports made there (the report token names the browser its message was sent to). */
  viewed: number;
  clicked: number;
  /** Recipients' conversions (control left out) and their revenue, under the browser of the run's latest message sent to the user. */
  conversions: number;
  revenue: number;
  /** clicked / sent; null when nothing was sent. */
  clickThroughRate: number | null;
}

export interface CampaignBrowsers {
  campaignId: string;
  /** One entry per (browser, target) with any message, most sent first. */
  browsers: BrowserStats[];
}

/**
 * `campaigns.browsers`: a campaign's messages, reports and conversions by
 * browser and target, from the browser stored on each delivery, report and
 * conversion when it was recorded; summed by the storage (Postgres: from
 * tallies, migration 013).
 */
export async function campaignBrowsers(ctx: EngineContext, campaign: Campaign): Promise<CampaignBrowsers> {
  const stored = await ctx.storage.campaignBrowsers(campaign.id);
  const browsers = stored.map(
    ({ name, target, ...figures }): BrowserStats => ({
      browser: name,
      target,
      ...figures,
      clickThroughRate: ratio(figures.clicked, figures.sent),
    }),
  );
  // Most sent first; ties in a fixed order so the list reads the same on every storage.
  browsers.sort((a, b) => b.sent - a.sent || compare(a.browser, b.browser) || compare(a.target, b.target));
  return { campaignId: campaign.id, browsers };
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The browser a run's report or conversion counts under when nothing names
 * it: the browser of the run's latest message sent to the user (ties: the
 * last by subscription id, the order deliveries are listed in); null when no
 * sent message of the run with a known browser is stored. Used for reports
 * whose token was signed before tokens claimed a browser, and for every
 * conversion (attribution picks a run, not a message).
 */
export async function browserOfRun(
  ctx: EngineContext,
  run: { campaignId: CampaignId; occurrence: string; userId: UserId },
): Promise<BrowserClass | null> {
  const deliveries = await ctx.storage.listDeliveries(run.campaignId, run.occurrence, [run.userId]);
  let latest: { at: Date; browser: BrowserClass } | null = null;
  for (const delivery of deliveries) {
    if (delivery.status !== 'sent' || delivery.browser === null) continue;
    if (!latest || delivery.at >= latest.at) latest = { at: delivery.at, browser: delivery.browser };
  }
  return latest?.browser ?? null;
}
