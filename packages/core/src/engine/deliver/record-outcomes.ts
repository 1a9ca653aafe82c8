import type { Delivery } from '../../model/index.js';
import type { Storage, SubscriptionRemoval } from '../../ports/index.js';
import type { BatchRun } from './batch-run.js';
import { type PendingRedelivery, redeliveryJobs } from './redelivery-groups.js';
import type { SendResult } from './send.js';

/**
 * Runs a job's sends and stores each final outcome as it arrives, in small
 * groups, so a worker killed mid-batch sends again only what was in flight
 * (request sent, outcome not yet stored), not the whole batch. The
 * subscriptions a group's outcomes found gone are removed with it, in one
 * write beside the group's (removed one at a time, each took a statement
 * and a reach refresh: about 0.7 ms of Postgres CPU per subscription).
 *
 * Retries are kept until the job's sends are done (`queueRetries`), then
 * queued together, those due close to each other in one redelivery job
 * (redelivery-groups.ts): a job's retries share its fate until then, since
 * a job that fails before queueing them is run again and sends again what
 * has no final outcome, as it does for an outcome not yet stored.
 *
 * A send keeps its caller waiting (and so its `sendConcurrency` slot taken)
 * until its outcome is stored: requests in flight plus outcomes waiting to
 * be stored never exceed the job's `sendConcurrency`. Outcomes are written
 * one group at a time: a group goes as soon as `groupSize` outcomes wait,
 * or when no send is still waiting for its answer (the rest of the job's
 * slots are all waiting on the write, or the batch is at its end). No
 * timer, so the clock the engine runs on never decides when a row is stored.
 */
export interface OutcomeRecorder {
  /** Runs one send; resolves once its final outcome is stored (at once for a retry, kept for `queueRetries`). */
  send(work: () => Promise<SendResult>): Promise<SendResult>;
  /** Queues the retries of every send so far; call it once the sends are done, before the job ends. */
  queueRetries(): Promise<void>;
}

interface Waiting {
  row: Delivery;
  removal: SubscriptionRemoval | undefined;
  stored: () => void;
  failed: (error: unknown) => void;
}

/**
 * The default group: half the slots. A 250-user batch at 100 sends at once
 * makes about five writes, and the other half of the slots keeps sending
 * while a group is written. Half of a statement's cost in Postgres is fixed
 * (its trigger, its transition table, its plan), so groups of 50 cost the
 * server less a message than groups of 25 (bench/delivery: 8-15 % less
 * server CPU and 4-9 % less CPU in all); all the slots (100) stalled the
 * sends behind each write and were slower than either.
 */
export function outcomeGroupSize(sendConcurrency: number): number {
  return Math.max(1, Math.ceil(sendConcurrency / 2));
}

export function outcomeRecorder(run: BatchRun, groupSize: number): OutcomeRecorder {
  const { ctx } = run;
  let awaitingAnswer = 0;
  let waiting: Waiting[] = [];
  let writing = false;
  let retries: PendingRedelivery[] = [];

  const writeIfDue = (): void => {
    if (writing || waiting.length === 0) return;
    if (waiting.length < groupSize && awaitingAnswer > 0) return;
    const group = waiting;
    waiting = [];
    writing = true;
    const removals = group.flatMap((entry) => (entry.removal ? [entry.removal] : []));
    void Promise.all([
      ctx.storage.recordDeliveries(group.map((entry) => entry.row)),
      removeSubscriptions(ctx.storage, removals),
    ])
      .then(
        () => {
          for (const entry of group) entry.stored();
        },
        (error: unknown) => {
          // The job fails and is retried: these sends go out again (at-least-once, as on a kill).
          for (const entry of group) entry.failed(error);
        },
      )
      .finally(() => {
        ctx.sends.settled(group.length);
        writing = false;
        writeIfDue();
      });
  };

  return {
    async send(work) {
      awaitingAnswer += 1;
      ctx.sends.requestStarted();
      let result: SendResult;
      try {
        result = await work();
      } catch (error) {
        awaitingAnswer -= 1;
        ctx.sends.answered();
        ctx.sends.settled(1);
        writeIfDue();
        throw error;
      }
      awaitingAnswer -= 1;
      ctx.sends.answered();
      const { delivery: row, removal, retry } = result;
      if (!row) {
        if (retry) retries.push(retry);
        ctx.sends.settled(1);
        writeIfDue();
        return result;
      }
      await new Promise<void>((stored, failed) => {
        waiting.push({ row, removal, stored, failed });
        writeIfDue();
      });
      return result;
    },
    async queueRetries() {
      const due = retries;
      retries = [];
      if (due.length > 0) await ctx.queue.enqueue(redeliveryJobs(run, due));
    },
  };
}

/** In one write when the storage has `removeSubscriptions`, else one `removeSubscription` each. */
async function removeSubscriptions(
  storage: Storage,
  removals: readonly SubscriptionRemoval[],
): Promise<void> {
  if (removals.length === 0) return;
  if (storage.removeSubscriptions) {
    await storage.removeSubscriptions(removals);
    return;
  }
  await Promise.all(
    removals.map(({ id, ifEndpoint }) =>
      storage.removeSubscription(id, ifEndpoint === undefined ? {} : { ifEndpoint }),
    ),
  );
}
