import type {
  Campaign,
  CampaignId,
  Conversion,
  ConversionStats,
  Decision,
  UserEvent,
} from '../../model/index.js';
import type { EngineContext } from '../context.js';
import { matchesEvent } from '../triggers/index.js';
import { browserOfRun } from './browsers.js';

const HOUR = 3_600_000;
/** The longest conversion window the model allows (90 days): how far back touches are looked up. */
const MAX_WINDOW_MS = 24 * 90 * HOUR;

interface Touch {
  campaign: Campaign;
  occurrence: string;
  control: boolean;
  /** When the window opened: the send (or the click), or for control the hold-out decision. */
  at: Date;
}

/**
 * Attributes a tracked event to the campaign that reached the user most
 * recently (last touch). Rules, stated once:
 *
 * - A touch is a campaign occurrence that was sent to the user (decision
 *   `sent`) or held them out as control (decision `control`), whose
 *   campaign has a conversion goal matching the event (name and property
 *   filters), with the event inside the goal's window: `windowHours` after
 *   the send, or after the user's first click on that message when
 *   `after: 'click'` (no click, no window). Control members have no send or
 *   click: their window opens at the hold-out decision.
 * - Of all touches, the latest one gets the conversion; ties go to the
 *   later-recorded decision. The event converts nothing else.
 * - A recipient (campaign, occurrence, user) converts at most once: its
 *   first goal event in the window, with that event's revenue (the goal's
 *   `revenueProperty`, when it holds a finite number).
 * - A recipient's conversion keeps the browser of that run's latest message
 *   sent to the user (`browserOfRun`), which `campaigns.browsers` counts it
 *   under; a control member's has none.
 *
 * The user's decisions are read only when some campaign's goal names the event, from the engine's
 * copy of the campaigns: a goal set or changed by another process counts here within
 * `tuning.campaignRefreshMs`.
 */
export async function attributeConversion(
  ctx: EngineContext,
  event: UserEvent,
  options: TrackOptions = {},
): Promise<Conversion | null> {
  // No campaign's goal names this event (the engine's copy of the campaigns, any status): nothing to read.
  if (!(await ctx.campaignCache.snapshot()).goalNames.has(event.name)) return null;
  const decisions = await ctx.storage.listDecisions({
    userId: event.userId,
    since: new Date(event.time.getTime() - MAX_WINDOW_MS),
  });
  const touched = decisions.filter(
    (d) => (d.outcome === 'sent' || d.outcome === 'control') && d.at <= event.time,
  );
  if (touched.length === 0) return null;
  const campaigns = new Map<CampaignId, Campaign | null>();
  for (const id of new Set(touched.map((d) => d.campaignId))) {
    campaigns.set(id, await ctx.storage.getCampaign(id));
  }
  const now = ctx.clock.now();
  const clicks = touched.some((d) => campaigns.get(d.campaignId)?.setup.conversion?.after === 'click')
    ? await ctx.storage.listInteractions({
        userId: event.userId,
        since: new Date(event.time.getTime() - MAX_WINDOW_MS),
      })
    : [];

  let best: Touch | null = null;
  for (const decision of touched) {
    const campaign = campaigns.get(decision.campaignId);
    const goal = campaign?.setup.conversion;
    if (!campaign || !goal || !matchesEvent(goal.event, event, now)) continue;
    const opened = windowStart(decision, goal.after, clicks);
    if (!opened || opened > event.time) continue;
    if (event.time.getTime() > opened.getTime() + goal.windowHours * HOUR) continue;
    if (!best || opened >= best.at) {
      best = {
        campaign,
        occurrence: decision.occurrence,
        control: decision.outcome === 'control',
        at: opened,
      };
    }
  }
  if (!best) return null;
  const goal = best.campaign.setup.conversion;
  const revenueValue = goal?.revenueProperty ? event.properties[goal.revenueProperty] : undefined;
  const conversion: Conversion = {
    campaignId: best.campaign.id,
    occurrence: best.occurrence,
    userId: event.userId,
    control: best.control,
    at: event.time,
    eventName: event.name,
    revenue: revenueOf(revenueValue, options.maxRevenue),
    // Control members were sent nothing; a recipient's conversion counts under the run's latest message.
    browser: best.control
      ? null
      : await browserOfRun(ctx, {
          campaignId: best.campaign.id,
          occurrence: best.occurrence,
          userId: event.userId,
        }),
  };
  return (await ctx.storage.recordConversion(conversion)) ? conversion : null;
}

/** How a caller limits what an event may count (the HTTP handler, for events posted by browsers). */
export interface TrackOptions {
  /**
   * The most revenue the event may count: an amount is clamped to [0, maxRevenue], and 0 counts
   * the conversion with no revenue. Undefined: the amount as given (the host's own server).
   */
  maxRevenue?: number;
}

function revenueOf(value: unknown, maxRevenue: number | undefined): number | null {
  if (typeof value !== 'number' || !Number.isFinite(value)) return null;
  if (maxRevenue === undefined) return value;
  if (maxRevenue === 0) return null;
  return Math.min(Math.max(value, 0), maxRevenue);
}

function windowStart(
  decision: Decision,
  after: 'send' | 'click',
  clicks: readonly { campaignId: string; occurrence: string; kind: string; at: Date }[],
): Date | null {
  if (decision.outcome === 'control' || after === 'send') return decision.at;
  const click = clicks.find(
    (c) =>
      c.kind === 'clicked' && c.campaignId === decision.campaignId && c.occurrence === decision.occurrence,
  );
  return click?.at ?? null;
}

/** Conversion figures for `campaigns.stats`: rates over delivered recipients and control members, and the lift. */
export function conversionStats(
  delivered: number,
  control: number,
  tallies: {
    recipients: { conversions: number; revenue: number };
    control: { conversions: number; revenue: number };
  },
): ConversionStats {
  const rate = (n: number, of: number) => (of > 0 ? n / of : null);
  const recipientRate = rate(tallies.recipients.conversions, delivered);
  const controlRate = rate(tallies.control.conversions, control);
  return {
    recipients: { audience: delivered, ...tallies.recipients, rate: recipientRate },
    control: { audience: control, ...tallies.control, rate: controlRate },
    lift:
      recipientRate !== null && controlRate !== null && controlRate > 0
        ? (recipientRate - controlRate) / controlRate
        : null,
  };
}
