import { describe, expect, it } from 'vitest';
import {
  type HeraldEvent,
  memoryCounters,
  memoryQueue,
  memoryStorage,
  type Queue,
  type Storage,
} from '../../src/index.js';
import { fakeClock } from '../../src/testing/index.js';
import { campaignRun, type SentMessage } from './campaign-runs/harness.js';

const USERS = ['u1', 'u2', 'u3'];
const DAILY = {
  schedule: { type: 'recurring', time: '10:00', every: { unit: 'day', interval: 1 } },
} as const;

/** A promise the test resolves by hand, and one that says the code under test reached it. */
function gate() {
  let release = () => {};
  let arrive = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const reached = new Promise<void>((resolve) => {
    arrive = resolve;
  });
  return { released, reached, release, arrive, armed: false };
}
type Gate = ReturnType<typeof gate>;

/** Storage whose next campaign write, once the gate is armed, waits for the test. */
function pausingCampaignWrites(storage: Storage, at: Gate): Storage {
  return {
    ...storage,
    async updateCampaign(campaign, expectedVersion) {
      if (at.armed) {
        at.armed = false;
        at.arrive();
        await at.released;
      }
      return storage.updateCampaign(campaign, expectedVersion);
    },
  };
}

/** A queue whose next enqueue, once the gate is armed, waits for the test. */
function pausingEnqueues(queue: Queue, at: Gate): Queue {
  return {
    ...queue,
    async enqueue(jobs) {
      if (at.armed) {
        at.armed = false;
        at.arrive();
        await at.released;
      }
      return queue.enqueue(jobs);
    },
  };
}

/** Storage that counts audience reads (one per audience page fan-out reads). */
function countingAudienceReads(storage: Storage, reads: { count: number }): Storage {
  return {
    ...storage,
    selectAudience(segment, options) {
      reads.count += 1;
      return storage.selectAudience(segment, options);
    },
  };
}

/** A queue that hands out no job unless `working.on` (the engine on it then only runs the scheduler), and notes every page-0 fan-out it hands out. */
function claimsWhile(queue: Queue, working: { on: boolean }, firstPages: string[]): Queue {
  return {
    ...queue,
    async claim(options) {
      if (!working.on) return [];
      const jobs = await queue.claim(options);
      for (const job of jobs) {
        const payload = job.payload as { occurrence?: string; page?: number };
        if (job.name === 'herald.audience-page' && payload.page === 0)
          firstPages.push(payload.occurrence ?? '');
      }
      return jobs;
    },
  };
}

/**
 * Two engines (two processes) on one storage and queue run the scheduler at the same instant; the
 * campaign's version lets one of them start the occurrence. The loser's page-0 job may be the very
 * job the winner's enqueue was deduped against: withdrawing it would lose the occurrence (seen as
 * test/processes/scheduler.test.ts timing out one run in three). It may also be a real second start,
 * added after the winner's page 0 had already run: that one must go, and should a worker take it
 * first, it must read and queue nothing.
 */
describe('two schedulers at one moment', () => {
  function twoEngines() {
    const clock = fakeClock('2026-03-02T09:00:00Z');
    const reads = { count: 0 };
    const storage = countingAudienceReads(memoryStorage(), reads);
    const baseQueue = memoryQueue();
    const counters = memoryCounters();
    const sent: SentMessage[] = [];
    const firstPages: string[] = [];
    const writeGate = gate();
    const enqueueGate = gate();
    const aWorking = { on: true };
    const bWorking = { on: true };
    const finished: string[] = [];
    const onEvent = (event: HeraldEvent) => {
      if (event.type === 'occurrence-finished') finished.push(event.occurrence);
    };
    // Two users a page: the occurrence is two pages, so a second start could walk on to the next.
    const tuning = { pageSize: 2, batchSize: 1 };
    const a = campaignRun({
      start: '',
      clock,
      storage: pausingCampaignWrites(storage, writeGate),
      queue: claimsWhile(pausingEnqueues(baseQueue, enqueueGate), aWorking, firstPages),
      counters,
      sent,
      onEvent,
      tuning,
    });
    const b = campaignRun({
      start: '',
      clock,
      storage,
      queue: claimsWhile(baseQueue, bWorking, firstPages),
      counters,
      sent,
      onEvent,
      tuning,
    });
    return { clock, a, b, sent, firstPages, finished, reads, writeGate, enqueueGate, aWorking, bWorking };
  }

  it("keeps the loser's job when the winner's enqueue was deduped against it", async () => {
    const { clock, a, b, sent, firstPages, writeGate, aWorking, bWorking } = twoEngines();
    for (const userId of USERS) await a.addUser(userId);
    await a.launch({ when: DAILY });
    await clock.set(new Date('2026-03-02T10:00:00Z'));

    // A queues page 0, then waits before its campaign write.
    writeGate.armed = true;
    aWorking.on = false;
    bWorking.on = false;
    const aPass = a.herald.tick();
    await writeGate.reached;
    // B's enqueue finds A's job (deduped), and B's write wins: B started the occurrence.
    expect((await b.herald.tick()).started).toBe(1);
    // A's write loses the version check: it must not withdraw the job both passes share.
    writeGate.release();
    expect((await aPass).started).toBe(0);

    aWorking.on = true;
    bWorking.on = true;
    await a.herald.tick();
    await b.herald.tick();
    expect(sent.map((message) => message.userId).sort()).toEqual(USERS);
    expect(firstPages).toEqual(['2026-03-02T10:00:00.000Z']);
  });

  it("withdraws the loser's job when the winner's page 0 had already run", async () => {
    const { clock, a, b, sent, firstPages, enqueueGate, aWorking } = twoEngines();
    for (const userId of USERS) await a.addUser(userId);
    await a.launch({ when: DAILY });
    await clock.set(new Date('2026-03-02T10:00:00Z'));

    // A read the campaign as due, then waits before queueing page 0.
    enqueueGate.armed = true;
    aWorking.on = false;
    const aPass = a.herald.tick();
    await enqueueGate.reached;
    // B starts the occurrence and runs all of it, page 0 included: the dedupe key is free again.
    expect((await b.herald.tick()).started).toBe(1);
    expect(sent).toHaveLength(USERS.length);
    // A's page 0 is added (nothing holds the key), then its write loses: a second start, withdrawn.
    enqueueGate.release();
    expect((await aPass).started).toBe(0);

    aWorking.on = true;
    await a.herald.tick();
    await b.herald.tick();
    expect(firstPages).toEqual(['2026-03-02T10:00:00.000Z']);
    expect(sent.map((message) => message.userId).sort()).toEqual(USERS);
    expect(await b.queue.counts()).toMatchObject({ waiting: 0, active: 0 });
  });

  it('reads and queues nothing for a second start a worker takes before it is withdrawn', async () => {
    const { clock, a, b, sent, firstPages, finished, reads, writeGate, enqueueGate, aWorking } = twoEngines();
    for (const userId of USERS) await a.addUser(userId);
    await a.launch({ when: DAILY });
    await clock.set(new Date('2026-03-02T10:00:00Z'));
    const occurrence = '2026-03-02T10:00:00.000Z';

    // A read the campaign as due, then waits before queueing page 0; B runs the whole occurrence.
    enqueueGate.armed = true;
    writeGate.armed = true;
    aWorking.on = false;
    const aPass = a.herald.tick();
    await enqueueGate.reached;
    expect((await b.herald.tick()).started).toBe(1);
    expect(sent).toHaveLength(USERS.length);
    expect(finished).toEqual([occurrence]);
    const readsOfTheRun = reads.count;
    expect(readsOfTheRun).toBe(2);

    // A's page 0 goes in (nothing holds the key) and A waits before its losing write: B takes the job.
    enqueueGate.release();
    await writeGate.reached;
    await b.herald.tick();
    expect(firstPages).toEqual([occurrence, occurrence]);
    // The page was recorded: nothing read, so no next page walked again and no second finish.
    expect(reads.count).toBe(readsOfTheRun);
    expect(finished).toEqual([occurrence]);

    writeGate.release();
    expect((await aPass).started).toBe(0);
    aWorking.on = true;
    await a.herald.tick();
    await b.herald.tick();
    expect(reads.count).toBe(readsOfTheRun);
    expect(sent.map((message) => message.userId).sort()).toEqual(USERS);
    expect(await b.queue.counts()).toMatchObject({ waiting: 0, active: 0 });
  });
});
