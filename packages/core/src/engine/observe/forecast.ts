import { ConflictError } from '../../errors/index.js';
import { type Campaign, isLive, type UserId } from '../../model/index.js';
import { isLiveSubscription } from '../../segments/index.js';
import type { EngineContext } from '../context.js';
import { capSpecs, checkDnd, inControlGroup, lateReason } from '../deliver/index.js';
import { resolveAudience } from '../fanout/index.js';
import { capZoneOf, firstMoment, nominalFor, userDue, zoneOf } from '../schedule/index.js';

/**
 * How many users a scheduled campaign's next run would reach, step by step.
 * Each count is of users still in after that step.
 */
export interface CampaignForecast {
  campaignId: string;
  /** The occurrence forecast (its nominal instant); null when nothing is left to run. */
  occurrence: Date | null;
  /** Users matching the audience now. */
  qualified: number;
  /** …with at least one live subscription on a target that has a provider. */
  reachable: number;
  /** …not held out in the control group. */
  afterControlGroup: number;
  /** …not over a global cap, counted with today's counters (0 lost when the campaign ignores global limits). */
  afterCaps: number;
  /** …not lost to DND at their local due time (discarded, or delayed past the TTL, cut-off or end). */
  afterDnd: number;
  /** Of `afterDnd`, those DND would delay rather than drop. */
  delayedByDnd: number;
  /** Users skipped because their local time had passed (userTimezone with ifPassed: skip). */
  passed: number;
  /** What this forecast assumes. */
  notes: string[];
}

/**
 * The forecast reads the audience now (behaviour after now is unknown),
 * today's cap counters (sends between now and the run are unknown) and
 * evaluates DND at each user's due time for the next occurrence in their
 * zone, using the same gate functions as delivery. Nothing is written.
 */
export async function forecastCampaign(ctx: EngineContext, campaign: Campaign): Promise<CampaignForecast> {
  if (isLive(campaign.when.schedule)) {
    throw new ConflictError(
      `Campaign ${campaign.id} is a live (${campaign.when.schedule.type}) campaign: its audience depends on events to come; use segments.estimateReach for its filter`,
    );
  }
  const now = ctx.clock.now();
  const actAt =
    campaign.status === 'draft'
      ? firstMoment(campaign, now)
      : campaign.status === 'completed' || campaign.status === 'stopped'
        ? null
        : campaign.nextRunAt;
  const occurrence = actAt ? nominalFor(campaign.when, actAt) : null;
  const forecast: CampaignForecast = {
    campaignId: campaign.id,
    occurrence,
    qualified: 0,
    reachable: 0,
    afterControlGroup: 0,
    afterCaps: 0,
    afterDnd: 0,
    delayedByDnd: 0,
    passed: 0,
    notes: [
      'The audience is evaluated now; events and subscriptions until the run are not known.',
      'Caps are counted with today’s counters.',
    ],
  };
  if (!occurrence) {
    forecast.notes.push('Nothing is left to run: no occurrence to forecast.');
    return forecast;
  }
  const segment = await resolveAudience(ctx.storage, campaign);
  const dndWindow = campaign.when.dnd ?? ctx.dnd ?? null;
  let after: UserId | null = null;
  for (;;) {
    const page = await ctx.storage.selectAudience(segment, { after, limit: ctx.pageSize, now });
    if (page.length === 0) break;
    after = page[page.length - 1] ?? null;
    forecast.qualified += page.length;
    const [profiles, subscriptions] = await Promise.all([
      ctx.storage.getProfiles(page),
      ctx.storage.listSubscriptions(page),
    ]);
    const timezoneOf = new Map(profiles.map((profile) => [profile.userId as string, profile.timezone]));
    const zoneOfUser = new Map(
      profiles.map((profile) => [profile.userId as string, zoneOf(campaign, profile.timezone)]),
    );
    const reachable = new Set(
      subscriptions
        .filter((subscription) => ctx.providers[subscription.target] && isLiveSubscription(subscription, now))
        .map((subscription) => subscription.userId as string),
    );
    const candidates = page.filter((userId) => reachable.has(userId));
    forecast.reachable += candidates.length;
    const sending = candidates.filter(
      (userId) => !inControlGroup(campaign.id, userId, campaign.setup.controlGroupPercent),
    );
    forecast.afterControlGroup += sending.length;

    const specsOfUser = sending.map((userId) =>
      campaign.setup.ignoreGlobalLimits
        ? []
        : capSpecs(ctx.limits, userId, capZoneOf(ctx.defaultTimezone, timezoneOf.get(userId)), now),
    );
    const counts = await ctx.counters.get(
      specsOfUser.flatMap((specs) => specs.map((spec) => spec.key)),
      now,
    );
    // `counts` is every user's counters in one flat list: `offset` is where this user's start.
    let offset = 0;
    for (const [place, userId] of sending.entries()) {
      const own = specsOfUser[place] ?? [];
      const capped = own.some((spec, nth) => (counts[offset + nth] ?? 0) >= spec.limit);
      offset += own.length;
      if (capped) continue;
      forecast.afterCaps += 1;

      const zone = zoneOfUser.get(userId) ?? campaign.when.timezone;
      const due = userDue(campaign, occurrence, zone, actAt ?? occurrence);
      if (due.kind === 'passed' && campaign.when.userTimezone?.ifPassed === 'skip') {
        forecast.passed += 1;
        continue;
      }
      const dnd = dndWindow ? checkDnd(dndWindow, zone, due.at) : null;
      if (dnd?.inside) {
        if (dnd.action === 'discard' || lateReason(campaign, dnd.endsAt, due.at) !== null) continue;
        forecast.delayedByDnd += 1;
      }
      forecast.afterDnd += 1;
    }
    if (page.length < ctx.pageSize) break;
  }
  return forecast;
}
