import { type Campaign, type CampaignId, type ConversionStats, isLive } from '../../model/index.js';
import { emptyOccurrenceTallies } from '../../ports/empty-tallies.js';
import type { StoredOccurrenceTallies } from '../../ports/index.js';
import type { EngineContext } from '../context.js';
import { conversionStats } from './conversions.js';
import { compareToControl, type LiftEstimate, ratio } from './rates.js';

/**
 * How far a run is, from the storage's own rows (docs/CAMPAIGNS.md, "Stats"):
 * users read by fan-out but not admitted yet are `queued`; admitted and
 * still owed a message, `inProgress`; with a final state, `done`.
 */
export interface RunProgress {
  /** Users of the run: the larger of those read by fan-out and those admitted (live runs have no fan-out). */
  audience: number;
  /** In delivery jobs not yet picked up: read by fan-out, no recipient row yet. */
  queued: number;
  /** Admitted, still pending (waiting for a send, a retry, or a DND delay). */
  inProgress: number;
  /** Delivered, undeliverable, skipped or control. */
  done: number;
  /** When the run's last recipient was settled; null while anything is queued or in progress, or the audience is still being read. */
  settledAt: Date | null;
}

/** Distinct users, beside the message counts (a user with two browsers gets two messages). */
export interface RunUsers {
  /** Users with at least one message sent (recipients `delivered`). */
  delivered: number;
  viewed: number;
  clicked: number;
  /** Delivered recipients who converted (one conversion per user per run). */
  converted: number;
}

export interface RunRates {
  /** Click reports / messages sent. */
  clickThrough: number | null;
  /** Users who clicked / users delivered. */
  userClickThrough: number | null;
  /** Viewed reports / messages sent. */
  viewRate: number | null;
  /** Converted users / users delivered. */
  conversionRate: number | null;
  /** Revenue of recipients' conversions / messages sent. */
  revenuePerSent: number | null;
  /** Recipients against control: difference of conversion rates with its interval and test. */
  lift: LiftEstimate;
}

/** One run's figures (`campaigns.runs`); the same shape for the campaign's total. */
export interface RunStats {
  /** The occurrence id (the due instant in ISO form); for live campaigns the day, YYYY-MM-DD in the campaign's zone. */
  occurrence: string;
  /** Recipient rows: users admitted by a delivery job (or skipped before one). */
  recipients: number;
  pending: number;
  /** Messages (one per subscription) with each final outcome. */
  sent: number;
  failed: number;
  gone: number;
  skipped: Record<string, number>;
  control: number;
  /** Service-worker reports (messages, not users). */
  viewed: number;
  clicked: number;
  closed: number;
  clickedByAction: Record<string, number>;
  users: RunUsers;
  conversions: ConversionStats;
  progress: RunProgress;
  rates: RunRates;
}

export interface CampaignRuns {
  campaignId: CampaignId;
  /** `occurrence` for scheduled campaigns, `day` for live ones (one occurrence per trigger). */
  by: 'occurrence' | 'day';
  /** Every run added up; users are counted once per run (a user reached by two runs counts twice). */
  total: RunStats;
  /** Oldest first. */
  runs: RunStats[];
}

/**
 * `campaigns.runs`: every run of a campaign with its own figures, and
 * their total. Live campaigns start one occurrence per trigger, so they are
 * grouped by day in the campaign's zone.
 */
export async function campaignRuns(ctx: EngineContext, campaign: Campaign): Promise<CampaignRuns> {
  const live = isLive(campaign.when.schedule);
  const tallies = await ctx.storage.occurrenceTallies(
    campaign.id,
    live ? { dayIn: campaign.when.timezone } : undefined,
  );
  const runs = tallies.map(runStats);
  return {
    campaignId: campaign.id,
    by: live ? 'day' : 'occurrence',
    total: runStats(sumTallies(tallies)),
    runs,
  };
}

function runStats(tally: StoredOccurrenceTallies): RunStats {
  const { recipients: states, deliveries, interactions } = tally;
  const recipients = Object.values(states).reduce((sum, n) => sum + n, 0);
  const queued = Math.max(0, tally.paged - recipients);
  const readAll = tally.pagedAll || tally.paged === 0;
  const conversions = conversionStats(states.delivered, states.control, tally.conversions);
  return {
    occurrence: tally.occurrence,
    recipients,
    pending: states.pending,
    sent: deliveries.sent,
    failed: deliveries.failed,
    gone: deliveries.gone,
    skipped: { ...tally.skipped },
    control: states.control,
    viewed: interactions.viewed,
    clicked: interactions.clicked,
    closed: interactions.closed,
    clickedByAction: { ...interactions.clickedByAction },
    users: {
      delivered: states.delivered,
      viewed: tally.interactionUsers.viewed,
      clicked: tally.interactionUsers.clicked,
      converted: tally.conversions.recipients.conversions,
    },
    conversions,
    progress: {
      audience: Math.max(tally.paged, recipients),
      queued,
      inProgress: states.pending,
      done: recipients - states.pending,
      settledAt:
        readAll && queued === 0 && states.pending === 0 && recipients > 0 ? tally.lastSettledAt : null,
    },
    rates: {
      clickThrough: ratio(interactions.clicked, deliveries.sent),
      userClickThrough: ratio(tally.interactionUsers.clicked, states.delivered),
      viewRate: ratio(interactions.viewed, deliveries.sent),
      conversionRate: conversions.recipients.rate,
      revenuePerSent: ratio(tally.conversions.recipients.revenue, deliveries.sent),
      lift: compareToControl(
        { conversions: tally.conversions.recipients.conversions, audience: states.delivered },
        { conversions: tally.conversions.control.conversions, audience: states.control },
      ),
    },
  };
}

/** Every run's tallies added up; settled only when every run is. */
function sumTallies(tallies: readonly StoredOccurrenceTallies[]): StoredOccurrenceTallies {
  // Settled (pagedAll) until a run that is not says otherwise.
  const total: StoredOccurrenceTallies = { ...emptyOccurrenceTallies('total'), pagedAll: true };
  const addAll = <K extends string>(into: Record<K, number>, from: Record<K, number>) => {
    for (const key of Object.keys(from) as K[]) into[key] = (into[key] ?? 0) + from[key];
  };
  for (const tally of tallies) {
    addAll(total.recipients, tally.recipients);
    addAll(total.skipped, tally.skipped);
    addAll(total.deliveries, tally.deliveries);
    const { clickedByAction, ...kinds } = tally.interactions;
    const { clickedByAction: totalByAction, ...totalKinds } = total.interactions;
    addAll(totalKinds, kinds);
    addAll(totalByAction, clickedByAction);
    total.interactions = { ...totalKinds, clickedByAction: totalByAction };
    addAll(total.interactionUsers, tally.interactionUsers);
    addAll(total.conversions.recipients, tally.conversions.recipients);
    addAll(total.conversions.control, tally.conversions.control);
    // A run without pages (live, or older data) must not count as read; its own rows decide.
    total.paged += Math.max(tally.paged, tallyRecipients(tally));
    total.pagedAll &&= tally.pagedAll || tally.paged === 0;
    if (
      tally.lastSettledAt !== null &&
      (total.lastSettledAt === null || tally.lastSettledAt > total.lastSettledAt)
    )
      total.lastSettledAt = tally.lastSettledAt;
  }
  return total;
}

const tallyRecipients = (tally: StoredOccurrenceTallies): number =>
  Object.values(tally.recipients).reduce((sum, n) => sum + n, 0);
