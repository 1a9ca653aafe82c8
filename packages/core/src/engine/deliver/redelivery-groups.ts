import { createHash } from 'node:crypto';
import type { JobInput } from '../../ports/index.js';
import { JobName, type RedeliverGroupJob, type Redelivery } from '../jobs.js';
import type { BatchRun } from './batch-run.js';

/** A retryable outcome's redelivery before it is queued: the message, and when it may go again. */
export interface PendingRedelivery {
  message: Redelivery;
  /** Not before this instant: the service's Retry-After, the backoff, or an open circuit's next try. */
  runAt: Date;
  /** When the retryable outcome came. */
  at: Date;
}

/** A retry may go this much later than it asked, to share a job: a quarter of its delay, at least a second. */
export function groupingSlackMs(retry: PendingRedelivery): number {
  return Math.max(1_000, (retry.runAt.getTime() - retry.at.getTime()) / 4);
}

/**
 * The redelivery jobs of some retries of one run: those due close together
 * share a job, due at the latest of their instants (none goes before it
 * asked). One job a retry cost a queue write, a claim, four reads and a
 * recipient update each, about 10 ms of CPU a retried message in all
 * (bench/delivery `--unavailable`); a group pays them once. The backoff's
 * jitter still spreads the groups of one burst.
 *
 * A group's dedupe key names its members and their attempts, so a job run
 * again after a crash queues the same group once; a group of other members
 * gets another key (keyed by one member only, it could drop the others).
 */
export function redeliveryJobs(run: BatchRun, retries: readonly PendingRedelivery[]): JobInput[] {
  const groups: PendingRedelivery[][] = [];
  let closesAt = Number.NEGATIVE_INFINITY;
  for (const retry of [...retries].sort((a, b) => a.runAt.getTime() - b.runAt.getTime())) {
    const current = groups.at(-1);
    if (current && retry.runAt.getTime() <= closesAt) {
      current.push(retry);
      continue;
    }
    groups.push([retry]);
    closesAt = retry.runAt.getTime() + groupingSlackMs(retry);
  }
  return groups.map((group) =>
    redeliveryJob(
      run,
      group.map((retry) => retry.message),
      lastRunAt(group),
    ),
  );
}

/** One redelivery job for these messages of the run, due at `runAt`; `keyTail` tells apart jobs of the same members. */
export function redeliveryJob(
  run: BatchRun,
  messages: readonly Redelivery[],
  runAt: Date,
  keyTail = '',
): JobInput {
  const payload: Omit<RedeliverGroupJob, 'dueAt'> & { dueAt: string } = {
    campaignId: run.campaign.id,
    occurrence: run.occurrence,
    dueAt: run.dueAt.toISOString(),
    ...(run.event ? { event: run.event } : {}),
    messages: [...messages],
  };
  return {
    name: JobName.redeliverGroup,
    payload,
    runAt,
    dedupeKey: `${run.campaign.id}|${run.occurrence}|rg|${membersDigest(messages)}${keyTail}`,
  };
}

function membersDigest(messages: readonly Redelivery[]): string {
  const members = messages
    .map((message) => `${message.subscriptionId}:${message.attempts}:${message.holds}`)
    .sort()
    .join('\n');
  return createHash('sha256').update(members).digest('base64url').slice(0, 22);
}

function lastRunAt(group: readonly PendingRedelivery[]): Date {
  return new Date(Math.max(...group.map((retry) => retry.runAt.getTime())));
}
