import { z } from 'zod';
import { CampaignId, Properties, SubscriptionId, UserId } from '../model/index.js';

/**
 * The jobs the engine puts on the queue. Payloads are parsed on the way out
 * of the queue like any other input crossing a boundary.
 */
export const JobName = {
  /** Fan-out of one page of a campaign occurrence's audience (keyset cursor `after`). */
  audiencePage: 'herald.audience-page',
  /** Gate, render and send to a batch of users. */
  deliverBatch: 'herald.deliver-batch',
  /**
   * Send again to one subscription after a retryable outcome: what earlier versions queued, one job a
   * retry. Still run, as a group of one, so the jobs queued before an upgrade are not lost.
   */
  redeliver: 'herald.redeliver',
  /** Send again to a group of subscriptions of one run after retryable outcomes (record-outcomes.ts). */
  redeliverGroup: 'herald.redeliver-group',
  /** A live campaign's trigger for one user comes due (now, after an inaction window, or at a reminder time). */
  liveFire: 'herald.live-fire',
} as const;

/** What a job asks of the worker: finished, or run again at `runAt` (the queue keeps it meanwhile). */
export type JobResult = { kind: 'done' } | { kind: 'later'; runAt: Date };

/**
 * How long a paused campaign's job waits before it looks again. Resuming
 * wakes nothing up, so this is how late a resumed campaign's queued work
 * may start; a minute keeps that short without spinning the queue.
 */
export const PAUSED_RETRY_MS = 60_000;

/** The answer of any job of a paused campaign: the same job, a minute later. */
export function retryWhilePaused(now: Date): JobResult {
  return { kind: 'later', runAt: new Date(now.getTime() + PAUSED_RETRY_MS) };
}

/** The event that triggered a live campaign, carried for personalisation and for the inaction check. */
export const TriggerEvent = z.object({
  name: z.string(),
  properties: Properties,
  time: z.coerce.date(),
});
export type TriggerEvent = z.infer<typeof TriggerEvent>;

export const AudiencePageJob = z.object({
  campaignId: CampaignId,
  occurrence: z.string(),
  after: UserId.nullable(),
  page: z.number().int().min(0),
  /** When the occurrence started (the scheduler pass): the reference for "local time already passed". */
  startedAt: z.coerce.date().optional(),
});
export type AudiencePageJob = z.infer<typeof AudiencePageJob>;

/** The run a delivery job works in: every delivery job (a batch, a group of retries) names it alike. */
export const RunOfJob = z.object({
  campaignId: CampaignId,
  occurrence: z.string(),
  /** When these messages are due: nothing goes before it, and the TTL counts from it. Defaults to the occurrence instant. */
  dueAt: z.coerce.date().optional(),
  event: TriggerEvent.optional(),
});
export type RunOfJob = z.infer<typeof RunOfJob>;

export const DeliverBatchJob = RunOfJob.extend({
  userIds: z.array(UserId).min(1),
});
export type DeliverBatchJob = z.infer<typeof DeliverBatchJob>;

/** One message to send again: to one subscription of one user, with what its earlier tries left. */
export const Redelivery = z.object({
  userId: UserId,
  subscriptionId: SubscriptionId,
  /** Send attempts so far for this subscription (0 when the first send was held back by an open circuit). */
  attempts: z.number().int().min(0),
  /**
   * Times an open circuit breaker held this message back without a request
   * since its last attempt: not attempts, they never reached the service.
   */
  holds: z.number().int().min(0).default(0),
  /** Cap and throttle counters taken for this message, given back if it ends up not sent. */
  counterKeys: z.array(z.string()).default([]),
});
export type Redelivery = z.infer<typeof Redelivery>;

/** The retries of one run that came due together: one job, one read of their users, one settle. */
export const RedeliverGroupJob = RunOfJob.extend({
  messages: z.array(Redelivery).min(1),
});
export type RedeliverGroupJob = z.infer<typeof RedeliverGroupJob>;

/** The single-message job earlier versions queued (`herald.redeliver`). */
export const RedeliverJob = Redelivery.extend(RunOfJob.shape);
export type RedeliverJob = z.infer<typeof RedeliverJob>;

/** A `herald.redeliver` job is a group of one. */
export function redeliveryGroupOf(job: RedeliverJob): RedeliverGroupJob {
  const { campaignId, occurrence, dueAt, event, ...message } = job;
  return {
    campaignId,
    occurrence,
    ...(dueAt ? { dueAt } : {}),
    ...(event ? { event } : {}),
    messages: [message],
  };
}

export const LiveFireJob = z.object({
  campaignId: CampaignId,
  userId: UserId,
  occurrence: z.string(),
  dueAt: z.coerce.date(),
  event: TriggerEvent,
});
export type LiveFireJob = z.infer<typeof LiveFireJob>;
