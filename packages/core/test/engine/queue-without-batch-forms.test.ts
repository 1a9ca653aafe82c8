import { describe, expect, it } from 'vitest';
import { memoryQueue, type Queue } from '../../src/index.js';
import { campaignRun } from './campaign-runs/harness.js';

/**
 * A host's own queue may lack the optional `enqueueEach`/`cancelEach`: the engine then writes job by
 * job. When one of those single writes fails, the calls that had gone through must keep their
 * answer. Before, the shared write of several calls was redone call by call after a failure, and a
 * job already added answered "not added" the second time: its window opened (the timer waits) with
 * no `delayed` decision, logged instead as `window-already-open`.
 */
describe('a queue without enqueueEach: one refused write among concurrent tracks', () => {
  it('fails only its own track; every opened window has its timer and its decision', async () => {
    let enqueues = 0;
    const base = memoryQueue();
    const { enqueueEach: _enqueueEach, cancelEach: _cancelEach, ...single } = base;
    const queue: Queue = {
      ...single,
      async enqueue(jobs) {
        enqueues += 1;
        // The third single write is refused once (a dropped connection, say).
        if (enqueues === 3) throw new Error('connection lost');
        return base.enqueue(jobs);
      },
    };
    const run = campaignRun({ start: '2026-05-01T10:00:00Z', queue });
    const users = ['ann', 'bob', 'cem', 'dia'];
    for (const userId of users) await run.addUser(userId);
    const campaign = await run.launch({
      when: {
        schedule: {
          type: 'inaction',
          event: { name: 'Added To Cart' },
          notFollowedBy: { name: 'Charged' },
          within: { amount: 10, unit: 'minutes' },
        },
      },
    });
    await run.runUntil('2026-05-01T10:00:00Z');
    enqueues = 0;

    const tracked = await Promise.allSettled(
      users.map((userId) => run.herald.events.track({ userId, name: 'Added To Cart' })),
    );
    const opened: string[] = [];
    for (const userId of users) {
      const why = await run.herald.campaigns.explain(campaign.id, userId);
      const decisions = why.occurrences.flatMap((o) => o.decisions.map((d) => `${d.outcome}/${d.reason}`));
      expect(decisions, userId).not.toContain('filtered/window-already-open');
      if (decisions.includes('delayed/inaction-window')) opened.push(userId);
    }
    // The refused write failed its own track, and that user's window did not open.
    expect(tracked.filter((result) => result.status === 'rejected')).toHaveLength(1);
    expect(opened).toHaveLength(users.length - 1);
    expect((await base.counts()).waiting).toBe(opened.length);
  });
});
