import { describe, expect, it } from 'vitest';
import { type HeraldEvent, memoryStorage, type Storage } from '../../src/index.js';
import { campaignRun } from './campaign-runs/harness.js';

const USERS = ['u1', 'u2', 'u3'];

/**
 * An audience page job run again after its page was recorded (its jobs queued) must not read the
 * audience again, yet must finish what its first run may not have: here the last page's campaign
 * write, refused once as a dropped connection would.
 */
describe('an audience page run again after its record', () => {
  it('finishes a one-time campaign whose write failed after the last page was recorded, reading nothing', async () => {
    let reads = 0;
    let refuseCompletion = true;
    const base = memoryStorage();
    const storage: Storage = {
      ...base,
      selectAudience(segment, options) {
        reads += 1;
        return base.selectAudience(segment, options);
      },
      async updateCampaign(campaign, expectedVersion) {
        if (campaign.status === 'completed' && refuseCompletion) {
          refuseCompletion = false;
          throw new Error('connection terminated unexpectedly');
        }
        return base.updateCampaign(campaign, expectedVersion);
      },
    };
    const finished: string[] = [];
    const run = campaignRun({
      start: '2026-03-01T09:00:00Z',
      storage,
      onEvent: (event: HeraldEvent) => {
        if (event.type === 'occurrence-finished') finished.push(event.occurrence);
      },
    });
    for (const userId of USERS) await run.addUser(userId);
    const campaign = await run.launch({ when: { schedule: { type: 'once', at: '2026-03-01T10:00:00Z' } } });

    await run.runUntil('2026-03-01T10:00:00Z');
    // The page was read and recorded, then the write that completes the campaign failed: a retry waits.
    expect(reads).toBe(1);
    expect(finished).toHaveLength(1);
    expect((await run.herald.campaigns.get(campaign.id))?.status).toBe('running');
    expect(await run.queue.counts()).toMatchObject({ waiting: 1 });

    await run.runUntil('2026-03-01T11:00:00Z');
    expect((await run.herald.campaigns.get(campaign.id))?.status).toBe('completed');
    expect(reads).toBe(1);
    expect(finished).toHaveLength(1);
    expect(run.sent.map((message) => message.userId).sort()).toEqual(USERS);
    expect(await run.queue.counts()).toMatchObject({ waiting: 0, active: 0 });
  });
});
