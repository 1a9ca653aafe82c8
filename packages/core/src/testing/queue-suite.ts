import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FieldIssue } from '../errors/index.js';
import type { ClaimedJob, JobInput, Queue } from '../ports/queue.js';
import { at, MINUTE, T0 } from './fixtures.js';
import type { QueueSuiteOptions } from './harness.js';
import { validationRefusal } from './refusal.js';
import { listenForWakes, untilListening } from './wake-listener.js';

const SECOND = 1000;

const job = (name: string, runAt: Date, extra: Partial<JobInput> = {}): JobInput => ({
  name,
  payload: { name },
  runAt,
  ...extra,
});

/**
 * The Queue conformance suite. Time is passed explicitly (`now`), so every
 * case uses fixed instants: lease expiry is tested by claiming at a later
 * `now`, never by sleeping.
 */
export function runQueueSuite(options: QueueSuiteOptions): void {
  describe(`${options.name} queue conformance`, () => {
    let queue: Queue;
    const claim = (now: Date, limit = 10, leaseMs = 30 * SECOND, names?: readonly string[]) =>
      queue.claim({ limit, leaseMs, now, ...(names ? { names } : {}) });
    const claimOne = async (now: Date, leaseMs = 30 * SECOND): Promise<ClaimedJob> => {
      const [first, ...rest] = await claim(now, 1, leaseMs);
      expect(rest).toEqual([]);
      expect(first).toBeDefined();
      return first!;
    };

    /** Another handle on the same queue (`createPeer`), for the wake-up cases. */
    let peer: Queue;

    beforeAll(async () => {
      queue = await options.create();
      if (options.createPeer) peer = await options.createPeer(queue);
    });
    beforeEach(async () => {
      await options.reset();
    });
    afterAll(async () => {
      await options.close?.();
    });

    describe('enqueue and claim', () => {
      it('hands back a claimed job with its name, payload, runAt, attempt 1, a token and no dedupe key', async () => {
        const payload = { campaignId: 'c1', users: ['a', 'b'], nested: { n: 1.5, ok: true, none: null } };
        expect(await queue.enqueue([{ name: 'fanout', payload, runAt: T0 }])).toBe(1);
        const claimed = await claimOne(T0);
        expect(claimed).toMatchObject({ name: 'fanout', payload, attempts: 1, dedupeKey: null });
        expect(claimed.runAt.getTime()).toBe(T0.getTime());
        expect(typeof claimed.id).toBe('string');
        expect(typeof claimed.token).toBe('string');
        expect(claimed.token.length).toBeGreaterThan(0);
      });

      it('returns how many jobs it added', async () => {
        expect(await queue.enqueue([job('a', T0), job('b', T0), job('c', T0)])).toBe(3);
        expect(await queue.enqueue([])).toBe(0);
        expect(await queue.counts()).toEqual({ waiting: 3, active: 0, failed: 0 });
      });

      it('does not hand out a job before its runAt; at runAt it is due', async () => {
        await queue.enqueue([job('later', at(MINUTE))]);
        expect(await claim(at(MINUTE - 1))).toEqual([]);
        expect((await claim(at(MINUTE))).map((j) => j.name)).toEqual(['later']);
      });

      it('claims the oldest runAt first and at most `limit` jobs', async () => {
        await queue.enqueue([
          job('third', at(3 * SECOND)),
          job('first', at(SECOND)),
          job('second', at(2 * SECOND)),
        ]);
        await queue.enqueue([job('future', at(MINUTE))]);
        expect((await claim(at(10 * SECOND), 2)).map((j) => j.name)).toEqual(['first', 'second']);
        expect((await claim(at(10 * SECOND), 10)).map((j) => j.name)).toEqual(['third']);
      });

      it('does not hand out a job again while its lease holds', async () => {
        await queue.enqueue([job('a', T0)]);
        await claimOne(T0, 10 * SECOND);
        expect(await claim(at(9 * SECOND))).toEqual([]);
        expect(await queue.counts()).toEqual({ waiting: 0, active: 1, failed: 0 });
      });

      it('claims only the named kinds when `names` is given', async () => {
        await queue.enqueue([job('a', T0), job('b', T0), job('c', T0)]);
        expect((await claim(T0, 10, SECOND, ['b', 'c'])).map((j) => j.name).sort()).toEqual(['b', 'c']);
        expect((await claim(T0, 10, SECOND, ['b'])).map((j) => j.name)).toEqual([]);
        expect((await claim(T0)).map((j) => j.name)).toEqual(['a']);
      });
    });

    describe('leases', () => {
      it('hands out a job whose lease expired again, with attempts 2 and a new token', async () => {
        await queue.enqueue([job('a', T0)]);
        const first = await claimOne(T0, 10 * SECOND);
        const second = await claimOne(at(10 * SECOND + 1), 10 * SECOND);
        expect(second.id).toBe(first.id);
        expect(second.attempts).toBe(2);
        expect(second.token).not.toBe(first.token);
      });

      it('ignores every call made with the stale token once the job was claimed again', async () => {
        await queue.enqueue([job('a', T0)]);
        const first = await claimOne(T0, 10 * SECOND);
        const second = await claimOne(at(11 * SECOND), 10 * SECOND);
        expect(await queue.extendLease(first.id, first.token, MINUTE, at(12 * SECOND))).toBe(false);
        expect(await queue.retry(first.id, first.token, at(MINUTE), 'late')).toBe(false);
        expect(await queue.fail(first.id, first.token, 'late')).toBe(false);
        expect(await queue.complete(first.id, first.token)).toBe(false);
        // The stale calls changed nothing: the job is still leased to the second claim.
        expect(await queue.counts()).toEqual({ waiting: 0, active: 1, failed: 0 });
        expect(await claim(at(15 * SECOND))).toEqual([]);
        expect(await queue.complete(second.id, second.token)).toBe(true);
      });

      it('ignores an unknown token or job id', async () => {
        await queue.enqueue([job('a', T0)]);
        const claimed = await claimOne(T0);
        expect(await queue.complete(claimed.id, 'not-the-token')).toBe(false);
        expect(await queue.complete('no-such-job', claimed.token)).toBe(false);
        expect(await queue.counts()).toEqual({ waiting: 0, active: 1, failed: 0 });
      });

      it('extends a lease from the given now', async () => {
        await queue.enqueue([job('a', T0)]);
        const claimed = await claimOne(T0, 10 * SECOND);
        expect(await queue.extendLease(claimed.id, claimed.token, MINUTE, at(9 * SECOND))).toBe(true);
        expect(await claim(at(30 * SECOND))).toEqual([]);
        const again = await claimOne(at(9 * SECOND + MINUTE + 1));
        expect(again).toMatchObject({ id: claimed.id, attempts: 2 });
      });
    });

    describe('finishing', () => {
      it('complete removes the job', async () => {
        await queue.enqueue([job('a', T0)]);
        const claimed = await claimOne(T0);
        expect(await queue.complete(claimed.id, claimed.token)).toBe(true);
        expect(await queue.complete(claimed.id, claimed.token)).toBe(false);
        expect(await queue.counts()).toEqual({ waiting: 0, active: 0, failed: 0 });
        expect(await claim(at(60 * MINUTE))).toEqual([]);
      });

      it('retry puts the job back at runAt and keeps its attempt count', async () => {
        await queue.enqueue([job('a', T0)]);
        const claimed = await claimOne(T0);
        expect(await queue.retry(claimed.id, claimed.token, at(MINUTE), 'push service said 503')).toBe(true);
        expect(await queue.counts()).toEqual({ waiting: 1, active: 0, failed: 0 });
        expect(await queue.complete(claimed.id, claimed.token)).toBe(false);
        expect(await claim(at(MINUTE - 1))).toEqual([]);
        const again = await claimOne(at(MINUTE));
        expect(again).toMatchObject({ id: claimed.id, attempts: 2, name: 'a', payload: { name: 'a' } });
        expect(again.runAt.getTime()).toBe(at(MINUTE).getTime());
      });

      it('fail keeps the job as failed and never hands it out again', async () => {
        await queue.enqueue([job('a', T0)]);
        const claimed = await claimOne(T0, SECOND);
        expect(await queue.fail(claimed.id, claimed.token, 'payload invalid')).toBe(true);
        expect(await queue.counts()).toEqual({ waiting: 0, active: 0, failed: 1 });
        expect(await claim(at(365 * 24 * 60 * MINUTE))).toEqual([]);
        expect(await queue.complete(claimed.id, claimed.token)).toBe(false);
        expect(await queue.fail(claimed.id, claimed.token, 'again')).toBe(false);
        expect(await queue.counts()).toEqual({ waiting: 0, active: 0, failed: 1 });
      });

      it('counts waiting (due or delayed), active and failed jobs', async () => {
        await queue.enqueue([job('a', T0), job('b', T0), job('c', at(MINUTE)), job('d', T0)]);
        const [a, b] = await claim(T0, 2);
        await queue.fail(b!.id, b!.token, 'x');
        expect(a).toBeDefined();
        expect(await queue.counts()).toEqual({ waiting: 2, active: 1, failed: 1 });
      });
    });

    describe('retention', () => {
      /** Enqueues one job per runAt and fails each, as a worker giving up on it would. */
      const failedAt = async (...runAts: Date[]): Promise<void> => {
        for (const runAt of runAts) {
          const name = `failed-${runAt.getTime()}`;
          await queue.enqueue([job(name, runAt)]);
          const [claimed] = await claim(runAt, 1, 30 * SECOND, [name]);
          expect(await queue.fail(claimed!.id, claimed!.token, 'gave up')).toBe(true);
        }
      };

      it('pruneFailed removes failed jobs whose last run was due before the cutoff, a bounded batch at a time', async () => {
        await failedAt(T0, at(MINUTE), at(2 * MINUTE), at(10 * MINUTE));
        expect(await queue.pruneFailed({ before: at(5 * MINUTE), limit: 2 })).toBe(2);
        expect(await queue.counts()).toEqual({ waiting: 0, active: 0, failed: 2 });
        // The next batch takes the one old job left, and the job due after the cutoff stays.
        expect(await queue.pruneFailed({ before: at(5 * MINUTE), limit: 2 })).toBe(1);
        expect(await queue.pruneFailed({ before: at(5 * MINUTE), limit: 2 })).toBe(0);
        expect(await queue.counts()).toEqual({ waiting: 0, active: 0, failed: 1 });
        // The cutoff is exclusive.
        expect(await queue.pruneFailed({ before: at(10 * MINUTE), limit: 10 })).toBe(0);
        expect(await queue.pruneFailed({ before: at(10 * MINUTE + 1), limit: 10 })).toBe(1);
        expect(await queue.counts()).toEqual({ waiting: 0, active: 0, failed: 0 });
      });

      it('pruneFailed never touches waiting or active jobs, however old', async () => {
        await queue.enqueue([job('waiting', T0), job('delayed', at(MINUTE)), job('running', T0)]);
        const [running] = await claim(T0, 1, 30 * SECOND, ['running']);
        expect(running).toBeDefined();
        await failedAt(T0);
        expect(await queue.pruneFailed({ before: at(60 * MINUTE), limit: 100 })).toBe(1);
        expect(await queue.counts()).toEqual({ waiting: 2, active: 1, failed: 0 });
        // The running job's lease still holds: it completes as usual.
        expect(await queue.complete(running!.id, running!.token)).toBe(true);
        expect((await claim(at(MINUTE))).map((claimed) => claimed.name).sort()).toEqual([
          'delayed',
          'waiting',
        ]);
      });
    });

    describe('dedupe keys', () => {
      it('ignores a duplicate of a waiting job by default', async () => {
        expect(await queue.enqueue([job('a', at(MINUTE), { dedupeKey: 'k', payload: 1 })])).toBe(1);
        expect(await queue.enqueue([job('a', T0, { dedupeKey: 'k', payload: 2 })])).toBe(0);
        expect(
          await queue.enqueue([job('a', T0, { dedupeKey: 'k', payload: 3, onDuplicate: 'ignore' })]),
        ).toBe(0);
        expect(await queue.counts()).toEqual({ waiting: 1, active: 0, failed: 0 });
        expect(await claim(T0)).toEqual([]);
        const claimed = await claimOne(at(MINUTE));
        expect(claimed).toMatchObject({ payload: 1, dedupeKey: 'k' });
      });

      it('dedupes within one enqueue call', async () => {
        expect(
          await queue.enqueue([
            job('a', T0, { dedupeKey: 'k', payload: 1 }),
            job('a', T0, { dedupeKey: 'k', payload: 2 }),
          ]),
        ).toBe(1);
        expect((await claim(T0)).map((j) => j.payload)).toEqual([1]);
      });

      it("replaces a waiting job with onDuplicate: 'replace'", async () => {
        await queue.enqueue([job('remind', at(MINUTE), { dedupeKey: 'booking-7', payload: { v: 1 } })]);
        const added = await queue.enqueue([
          job('remind', at(2 * MINUTE), {
            dedupeKey: 'booking-7',
            payload: { v: 2 },
            onDuplicate: 'replace',
          }),
        ]);
        expect(added).toBe(1);
        expect(await queue.counts()).toEqual({ waiting: 1, active: 0, failed: 0 });
        expect(await claim(at(MINUTE))).toEqual([]);
        const claimed = await claimOne(at(2 * MINUTE));
        expect(claimed).toMatchObject({ payload: { v: 2 }, dedupeKey: 'booking-7', attempts: 1 });
      });

      it('never replaces or duplicates a running job; the key is free again once it completes', async () => {
        await queue.enqueue([job('a', T0, { dedupeKey: 'k', payload: 1 })]);
        const running = await claimOne(T0);
        expect(await queue.enqueue([job('a', T0, { dedupeKey: 'k', payload: 2 })])).toBe(0);
        expect(
          await queue.enqueue([job('a', T0, { dedupeKey: 'k', payload: 3, onDuplicate: 'replace' })]),
        ).toBe(0);
        expect(await queue.counts()).toEqual({ waiting: 0, active: 1, failed: 0 });
        expect(await queue.complete(running.id, running.token)).toBe(true);
        expect(await queue.enqueue([job('a', T0, { dedupeKey: 'k', payload: 4 })])).toBe(1);
        expect((await claimOne(T0)).payload).toBe(4);
      });

      it('holds the key while a retried job waits, and frees it when the job fails for good', async () => {
        await queue.enqueue([job('a', T0, { dedupeKey: 'k' })]);
        const first = await claimOne(T0);
        await queue.retry(first.id, first.token, at(MINUTE), 'later');
        expect(await queue.enqueue([job('a', T0, { dedupeKey: 'k' })])).toBe(0);
        const second = await claimOne(at(MINUTE));
        await queue.fail(second.id, second.token, 'gave up');
        expect(await queue.enqueue([job('a', T0, { dedupeKey: 'k' })])).toBe(1);
        expect(await queue.counts()).toEqual({ waiting: 1, active: 0, failed: 1 });
      });
    });

    describe('batches', () => {
      it("in one call, a later 'replace' of a key replaces the key's first job; a later 'ignore' does not", async () => {
        await queue.enqueue([
          job('a', T0, { dedupeKey: 'k', payload: 1 }),
          job('a', T0, { dedupeKey: 'k', payload: 2, onDuplicate: 'replace' }),
          job('a', T0, { dedupeKey: 'k', payload: 3 }),
          job('b', T0, { payload: 4 }),
        ]);
        expect((await claim(T0)).map((j) => j.payload)).toEqual([2, 4]);
      });

      it("in one call, 'replace' replaces a waiting job of the key, and the call's last 'replace' wins", async () => {
        await queue.enqueue([job('a', at(MINUTE), { dedupeKey: 'k', payload: 1 })]);
        await queue.enqueue([
          job('a', T0, { dedupeKey: 'k', payload: 2 }),
          job('a', T0, { dedupeKey: 'k', payload: 3, onDuplicate: 'replace' }),
          job('a', T0, { dedupeKey: 'k', payload: 4, onDuplicate: 'replace' }),
        ]);
        expect(await queue.counts()).toEqual({ waiting: 1, active: 0, failed: 0 });
        expect((await claim(T0)).map((j) => j.payload)).toEqual([4]);
      });

      it('takes a fan-out sized batch in one call and hands it out in enqueue order', async () => {
        const jobs = Array.from({ length: 1200 }, (_, n) => job(`j${n}`, T0, { dedupeKey: `k${n}` }));
        expect(await queue.enqueue(jobs)).toBe(1200);
        const claimed = await claim(T0, 1200);
        expect(claimed.map((j) => j.name)).toEqual(jobs.map((j) => j.name));
      });
    });

    describe.runIf(options.createPeer !== undefined)('wake-ups', () => {
      /** What `untilListening` enqueues until the peer hears it. */
      const warmUp = () => queue.enqueue([job('warm-up', T0)]);

      it("wakes a peer's listener within 100 ms of an enqueue", async () => {
        const listener = listenForWakes(peer);
        try {
          await untilListening(listener, warmUp);
          const started = performance.now();
          const heard = listener.wake(1000);
          await queue.enqueue([job('a', T0)]);
          expect(await heard).toBe(true);
          expect(performance.now() - started).toBeLessThan(100);
        } finally {
          listener.stop();
        }
      });

      it('calls a listener no more once it stopped listening', async () => {
        const listener = listenForWakes(peer);
        await untilListening(listener, warmUp);
        listener.stop();
        const before = listener.calls();
        await queue.enqueue([job('a', T0)]);
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(listener.calls()).toBe(before);
      });
    });

    describe('cancel', () => {
      it('removes a waiting job by dedupe key, once', async () => {
        await queue.enqueue([
          job('a', at(MINUTE), { dedupeKey: 'k' }),
          job('b', at(MINUTE), { dedupeKey: 'other' }),
        ]);
        expect(await queue.cancel('k')).toBe(true);
        expect(await queue.cancel('k')).toBe(false);
        expect(await queue.cancel('never-enqueued')).toBe(false);
        expect(await queue.counts()).toEqual({ waiting: 1, active: 0, failed: 0 });
        expect((await claim(at(MINUTE))).map((j) => j.name)).toEqual(['b']);
        // The key is free again.
        expect(await queue.enqueue([job('a', T0, { dedupeKey: 'k' })])).toBe(1);
      });

      it('leaves a running job alone', async () => {
        await queue.enqueue([job('a', T0, { dedupeKey: 'k' })]);
        const running = await claimOne(T0);
        expect(await queue.cancel('k')).toBe(false);
        expect(await queue.complete(running.id, running.token)).toBe(true);
      });
    });

    // Optional batch forms (Queue.enqueueEach, cancelEach): the rules of enqueue and cancel, told per job.
    describe('per-job answers', () => {
      it('enqueueEach tells which jobs were added: a held key, a within-call duplicate and a replaced job are not', async (test) => {
        if (!queue.enqueueEach) return test.skip('this queue has no enqueueEach');
        await queue.enqueue([job('held', at(MINUTE), { dedupeKey: 'held' })]);
        const added = await queue.enqueueEach([
          job('a', T0, { dedupeKey: 'held' }),
          job('b', T0, { dedupeKey: 'k', payload: 1 }),
          job('c', T0),
          job('d', T0, { dedupeKey: 'k', payload: 2 }),
          job('e', T0, { dedupeKey: 'r', payload: 3 }),
          job('f', T0, { dedupeKey: 'r', payload: 4, onDuplicate: 'replace' }),
        ]);
        expect(added).toEqual([false, true, true, false, false, true]);
        expect(await queue.enqueueEach([])).toEqual([]);
        expect((await claim(T0)).map((j) => j.name)).toEqual(['b', 'c', 'f']);
      });

      it("enqueueEach with 'replace' adds over a waiting holder", async (test) => {
        if (!queue.enqueueEach) return test.skip('this queue has no enqueueEach');
        await queue.enqueue([job('a', at(MINUTE), { dedupeKey: 'k', payload: 1 })]);
        expect(
          await queue.enqueueEach([job('a', T0, { dedupeKey: 'k', payload: 2, onDuplicate: 'replace' })]),
        ).toEqual([true]);
        expect((await claim(at(MINUTE))).map((j) => j.payload)).toEqual([2]);
      });

      it('cancelEach removes waiting jobs by key, a key named twice once, and leaves running jobs alone', async (test) => {
        if (!queue.cancelEach) return test.skip('this queue has no cancelEach');
        await queue.enqueue([
          job('a', T0, { dedupeKey: 'running' }),
          job('b', at(MINUTE), { dedupeKey: 'k1' }),
          job('c', at(MINUTE), { dedupeKey: 'k2' }),
          job('d', at(MINUTE), { dedupeKey: 'kept' }),
        ]);
        const running = await claimOne(T0);
        expect(await queue.cancelEach(['k1', 'running', 'k1', 'never', 'k2'])).toEqual([
          true,
          false,
          false,
          false,
          true,
        ]);
        expect(await queue.cancelEach([])).toEqual([]);
        expect(await queue.counts()).toEqual({ waiting: 1, active: 1, failed: 0 });
        expect(await queue.complete(running.id, running.token)).toBe(true);
      });
    });

    // One rule for every adapter (ports/job-input.ts): input is parsed before anything is written.
    describe('what a queue accepts', () => {
      /** The issues of the ValidationError `call` rejects with. */
      const refusal = async (call: Promise<unknown>): Promise<FieldIssue[]> =>
        (await validationRefusal(call)).issues;
      const bad = (extra: Record<string, unknown>): JobInput => ({ ...job('bad', T0), ...extra }) as JobInput;
      const empty = { waiting: 0, active: 0, failed: 0 };

      it("refuses '' as a dedupe key: enqueue, enqueueEach, cancel and cancelEach alike", async () => {
        expect(await refusal(queue.enqueue([job('a', T0), bad({ dedupeKey: '' })]))).toEqual([
          { path: 'jobs[1].dedupeKey', message: 'must not be empty' },
        ]);
        if (queue.enqueueEach) {
          expect(await refusal(queue.enqueueEach([bad({ dedupeKey: '' })]))).toEqual([
            { path: 'jobs[0].dedupeKey', message: 'must not be empty' },
          ]);
        }
        expect(await queue.counts()).toEqual(empty);

        await queue.enqueue([job('a', at(MINUTE), { dedupeKey: 'k' })]);
        expect(await refusal(queue.cancel(''))).toEqual([
          { path: 'dedupeKey', message: 'must not be empty' },
        ]);
        if (queue.cancelEach) {
          expect(await refusal(queue.cancelEach(['k', '']))).toEqual([
            { path: 'dedupeKeys[1]', message: 'must not be empty' },
          ]);
        }
        // The refused cancelEach removed nothing, not even the key before the bad one.
        expect(await queue.counts()).toEqual({ waiting: 1, active: 0, failed: 0 });
      });

      it('refuses a misspelt key, naming the key it meant', async () => {
        expect(await refusal(queue.enqueue([bad({ dedupekey: 'k' })]))).toEqual([
          { path: 'jobs[0].dedupekey', message: 'unknown key; did you mean "dedupeKey"?' },
        ]);
        expect(await queue.counts()).toEqual(empty);
      });

      it('refuses an invalid Date as runAt', async () => {
        expect(await refusal(queue.enqueue([bad({ runAt: new Date(Number.NaN) })]))).toEqual([
          { path: 'jobs[0].runAt', message: 'must be a valid Date' },
        ]);
        expect(await refusal(queue.enqueue([bad({ runAt: T0.toISOString() })]))).toMatchObject([
          { path: 'jobs[0].runAt', message: expect.stringMatching(/^expected a Date, received a string/) },
        ]);
        expect(await queue.counts()).toEqual(empty);
      });

      it('refuses an empty name, an unknown onDuplicate and a payload JSON cannot carry', async () => {
        const refused: Array<[Record<string, unknown>, string]> = [
          [{ name: '' }, 'jobs[0].name'],
          [{ onDuplicate: 'keep' }, 'jobs[0].onDuplicate'],
          [{ payload: undefined }, 'jobs[0].payload'],
          [{ payload: { run: () => 1 } }, 'jobs[0].payload.run'],
          [{ payload: { ids: ['a', undefined] } }, 'jobs[0].payload.ids[1]'],
          [{ payload: { n: Number.NaN } }, 'jobs[0].payload.n'],
          [{ payload: { n: 10n } }, 'jobs[0].payload.n'],
          [{ payload: { seen: new Set(['a']) } }, 'jobs[0].payload.seen'],
          [{ payload: { at: new Date(Number.NaN) } }, 'jobs[0].payload.at'],
          [{ payload: 'nul \u0000 inside' }, 'jobs[0].payload'],
        ];
        for (const [extra, path] of refused) {
          expect(await refusal(queue.enqueue([bad(extra)]))).toMatchObject([{ path }]);
        }
        const cycle: Record<string, unknown> = {};
        cycle.self = cycle;
        expect(await refusal(queue.enqueue([bad({ payload: cycle })]))).toMatchObject([
          { path: 'jobs[0].payload.self' },
        ]);
        expect(await queue.counts()).toEqual(empty);
      });

      it('writes nothing of a batch with one bad job, not even a replacement of a waiting job', async () => {
        await queue.enqueue([job('held', at(MINUTE), { dedupeKey: 'held', payload: 1 })]);
        const batch = [
          job('a', T0),
          job('held', T0, { dedupeKey: 'held', payload: 2, onDuplicate: 'replace' }),
          ...Array.from({ length: 1200 }, (_, n) => job(`j${n}`, T0, { dedupeKey: `k${n}` })),
          bad({ runAt: new Date(Number.NaN) }),
        ];
        expect(await refusal(queue.enqueue(batch))).toMatchObject([{ path: 'jobs[1202].runAt' }]);
        if (queue.enqueueEach) {
          expect(await refusal(queue.enqueueEach(batch))).toMatchObject([{ path: 'jobs[1202].runAt' }]);
        }
        expect(await queue.counts()).toEqual({ waiting: 1, active: 0, failed: 0 });
        expect((await claim(at(MINUTE))).map((j) => j.payload)).toEqual([1]);
      });

      it('refuses a claim with a bad limit, lease, instant or name, and claims nothing', async () => {
        await queue.enqueue([job('a', T0)]);
        const claimWith = (extra: Record<string, unknown>) =>
          queue.claim({ limit: 10, leaseMs: 30 * SECOND, now: T0, ...extra } as never);
        const cases: [Record<string, unknown>, FieldIssue[]][] = [
          [{ limit: -1 }, [{ path: 'limit', message: 'must be an integer >= 0' }]],
          [{ limit: 2.5 }, [{ path: 'limit', message: 'must be an integer >= 0' }]],
          [{ leaseMs: 0 }, [{ path: 'leaseMs', message: 'must be a number > 0' }]],
          [{ leaseMs: Number.NaN }, [{ path: 'leaseMs', message: 'must be a number > 0' }]],
          [{ now: new Date(Number.NaN) }, [{ path: 'now', message: 'must be a valid Date' }]],
          [{ names: ['deliver', ''] }, [{ path: 'names[1]', message: 'must not be empty' }]],
        ];
        for (const [extra, issues] of cases) expect(await refusal(claimWith(extra))).toEqual(issues);
        expect(await refusal(claimWith({ lease: 1000 }))).toMatchObject([{ path: 'lease' }]);
        expect(await queue.counts()).toEqual({ waiting: 1, active: 0, failed: 0 });
      });

      it('refuses a retry at an invalid instant and a lease of NaN, leaving the job leased as it was', async () => {
        await queue.enqueue([job('a', T0)]);
        const claimed = await claimOne(T0, 10 * SECOND);
        expect(await refusal(queue.retry(claimed.id, claimed.token, new Date(Number.NaN), 'x'))).toEqual([
          { path: 'runAt', message: 'must be a valid Date' },
        ]);
        for (const leaseMs of [Number.NaN, 0, -5])
          expect(await refusal(queue.extendLease(claimed.id, claimed.token, leaseMs, T0))).toEqual([
            { path: 'leaseMs', message: 'must be a number > 0' },
          ]);
        expect(await refusal(queue.extendLease(claimed.id, claimed.token, MINUTE, new Date('soon')))).toEqual(
          [{ path: 'now', message: 'must be a valid Date' }],
        );
        // Still the first claim's: its lease ends as it did, and its token still completes it.
        expect(await queue.counts()).toEqual({ waiting: 0, active: 1, failed: 0 });
        expect(await claim(at(10 * SECOND - 1))).toEqual([]);
        expect(await queue.complete(claimed.id, claimed.token)).toBe(true);
      });

      it('refuses a prune batch with an invalid instant or limit, and removes nothing', async () => {
        await queue.enqueue([job('a', T0)]);
        const claimed = await claimOne(T0);
        await queue.fail(claimed.id, claimed.token, 'boom');
        expect(await refusal(queue.pruneFailed({ before: new Date(Number.NaN), limit: 10 }))).toEqual([
          { path: 'before', message: 'must be a valid Date' },
        ]);
        expect(await refusal(queue.pruneFailed({ before: at(MINUTE), limit: -1 }))).toEqual([
          { path: 'limit', message: 'must be an integer >= 0' },
        ]);
        expect(await queue.counts()).toEqual({ waiting: 0, active: 0, failed: 1 });
        expect(await queue.pruneFailed({ before: at(MINUTE), limit: 10 })).toBe(1);
      });

      it('hands a payload back in its JSON form: a Date as its ISO string, an undefined property left out', async () => {
        await queue.enqueue([job('a', T0, { payload: { at: T0, gone: undefined, list: [1, null, 'x'] } })]);
        expect((await claimOne(T0)).payload).toStrictEqual({ at: T0.toISOString(), list: [1, null, 'x'] });
      });
    });

    describe('concurrency', () => {
      it('two concurrent claims never hand out the same job', async () => {
        await queue.enqueue(Array.from({ length: 8 }, (_, i) => job(`j${i}`, at(i))));
        const [a, b] = await Promise.all([claim(at(SECOND), 5), claim(at(SECOND), 5)]);
        const ids = [...a!, ...b!].map((j) => j.id);
        expect(ids).toHaveLength(8);
        expect(new Set(ids).size).toBe(8);
        expect(await queue.counts()).toEqual({ waiting: 0, active: 8, failed: 0 });
      });

      it('many concurrent claimers of one job: exactly one wins', async () => {
        await queue.enqueue([job('only', T0)]);
        const results = await Promise.all(Array.from({ length: 10 }, () => claim(T0, 1)));
        expect(results.flat()).toHaveLength(1);
      });
    });
  });
}
