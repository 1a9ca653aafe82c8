import type { Campaign, CampaignStats } from '../../model/index.js';
import type { EngineContext } from '../context.js';
import { conversionStats } from './conversions.js';

/**
 * `campaigns.stats`: the storage's tallies of recipients, deliveries,
 * skips and reports, with conversions and lift against the control group.
 * Counted by the storage (one grouped read each), never by listing rows.
 */
export async function campaignStats(ctx: EngineContext, campaign: Campaign): Promise<CampaignStats> {
  const tallies = await ctx.storage.campaignTallies(campaign.id);
  const recipients = Object.values(tallies.recipients).reduce((sum, count) => sum + count, 0);
  return {
    campaignId: campaign.id,
    recipients,
    pending: tallies.recipients.pending ?? 0,
    sent: tallies.deliveries.sent ?? 0,
    failed: tallies.deliveries.failed ?? 0,
    gone: tallies.deliveries.gone ?? 0,
    skipped: tallies.skipped,
    control: tallies.recipients.control ?? 0,
    viewed: tallies.interactions.viewed,
    clicked: tallies.interactions.clicked,
    closed: tallies.interactions.closed,
    clickedByAction: tallies.interactions.clickedByAction,
    conversions: conversionStats(
      tallies.recipients.delivered ?? 0,
      tallies.recipients.control ?? 0,
      await ctx.storage.conversionTallies(campaign.id),
    ),
  };
}
