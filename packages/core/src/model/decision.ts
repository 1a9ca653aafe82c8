import { z } from 'zod';
import { BrowserClass } from './browser.js';
import { Instant, JsonValue } from './common.js';
import { CampaignId, UserId } from './ids.js';

/**
 * What the engine decided for one recipient of one occurrence, at one
 * moment. A recipient can have several (delayed by DND, then sent); the
 * last one is where it stands. `facts` holds what the decision was based
 * on (the user's zone and local time, the DND window, cap counters), so
 * `campaigns.explain` can answer "why" later.
 */
export const DecisionOutcome = z.enum([
  /** At least one subscription took the message. */
  'sent',
  /** Every subscription failed or was gone. */
  'undeliverable',
  /** Not sent, for `reason` (a SkipReason). */
  'skipped',
  /** Held out as the control group. */
  'control',
  /** Postponed (DND, throttle) or waiting (an open inaction window, `inaction-window`); `facts.until` says to when. */
  'delayed',
  /**
   * A live trigger that sends nothing: the user is not in the campaign's filter
   * segment (`not-in-segment`), or an inaction window is already open (`window-already-open`).
   */
  'filtered',
  /** An inaction timer cancelled by the completing event. */
  'cancelled',
]);
export type DecisionOutcome = z.infer<typeof DecisionOutcome>;

export const Decision = z.object({
  campaignId: CampaignId,
  occurrence: z.string().min(1),
  userId: UserId,
  at: Instant,
  outcome: DecisionOutcome,
  reason: z.string().nullable(),
  facts: z.record(z.string(), JsonValue),
});
export type Decision = z.infer<typeof Decision>;

/** A goal event attributed to one campaign occurrence for one user (recipient or control). */
export const Conversion = z.object({
  campaignId: CampaignId,
  occurrence: z.string().min(1),
  userId: UserId,
  /** True for a control-group member (converted without a send). */
  control: z.boolean(),
  /** When the goal event happened. */
  at: Instant,
  eventName: z.string().min(1),
  revenue: z.number().nullable(),
  /**
   * The browser of the run's latest message sent to the user (the one the
   * conversion is counted under in `campaigns.browsers`); null for control,
   * and when no sent message of the run is stored. Absent on rows recorded
   * before conversions kept a browser.
   */
  browser: BrowserClass.nullable().optional(),
});
export type Conversion = z.infer<typeof Conversion>;

/** Conversions of one campaign, split between recipients and the control group. */
export interface ConversionTallies {
  recipients: { conversions: number; revenue: number };
  control: { conversions: number; revenue: number };
}
