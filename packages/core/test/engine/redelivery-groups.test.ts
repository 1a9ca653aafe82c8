import { describe, expect, it } from 'vitest';
import type { BatchRun } from '../../src/engine/deliver/batch-run.js';
import { type PendingRedelivery, redeliveryJobs } from '../../src/engine/deliver/redelivery-groups.js';
import {
  createHerald,
  type DeliveryOutcome,
  type Herald,
  type JobInput,
  memoryQueue,
  memoryStorage,
  type OutboundMessage,
  type Queue,
  silentLogger,
} from '../../src/index.js';
import { fakeClock } from '../../src/testing/index.js';
import { addDevices, DUE, endpointFor, endpointOf, keys, scheduleOnce } from './once-campaign.js';

const OCCURRENCE = '2026-03-01T10:00:00.000Z';

/**
 * A Herald whose push service answers `answer` (by the endpoint's attempt), on a memory queue whose
 * enqueued jobs the test reads (and `beforeEnqueue` may refuse).
 */
function setup(
  answer: (request: OutboundMessage, attempt: number) => DeliveryOutcome,
  {
    sendConcurrency = 100,
    beforeEnqueue = (_jobs: readonly JobInput[]) => {},
    perDay = undefined as number | undefined,
  } = {},
) {
  const clock = fakeClock('2026-03-01T09:00:00Z');
  const storage = memoryStorage();
  const inner = memoryQueue();
  const enqueued: JobInput[] = [];
  const queue: Queue = {
    ...inner,
    enqueue: async (jobs) => {
      beforeEnqueue(jobs);
      enqueued.push(...jobs);
      return inner.enqueue(jobs);
    },
  };
  const attempts = new Map<string, number>();
  const herald = createHerald({
    storage,
    queue,
    clock,
    logger: silentLogger,
    reportSecret: 'a-secret-that-is-long-enough-for-hmac',
    random: () => 0.5, // the backoff's jitter at its middle: exactly 30 s for a first retry
    allowEndpoint: ['https://fcm.googleapis.com'],
    providers: {
      webpush: {
        target: 'webpush',
        send: async (request) => {
          const attempt = (attempts.get(endpointOf(request)) ?? 0) + 1;
          attempts.set(endpointOf(request), attempt);
          return answer(request, attempt);
        },
        close: async () => {},
      },
    },
    tuning: { concurrency: 1, sendConcurrency },
    ...(perDay ? { limits: { perUser: { perDay } } } : {}),
  });
  const redeliveries = () => enqueued.filter((job) => job.name.startsWith('herald.redeliver'));
  return { clock, storage, queue, herald, attempts, redeliveries };
}

const unavailable = (retryAt: Date): DeliveryOutcome => ({
  kind: 'retry',
  statusCode: 503,
  reason: '503 Service Unavailable',
  retryAt,
});
const sent: DeliveryOutcome = { kind: 'sent', statusCode: 201 };

/** A one-time campaign to everyone with this title, skipping a user a template value is missing for. */
async function scheduleNamed(herald: Herald, title: string, at: string) {
  const campaign = await herald.campaigns.create({
    name: title,
    when: { schedule: { type: 'once', at } },
    who: { segment: { type: 'all' } },
    what: { title, deeplink: 'https://shop.example.com/' },
    setup: { onMissingValue: 'skip' },
  });
  await herald.campaigns.schedule(campaign.id);
  return campaign.id;
}

describe('retries of one run, queued in groups', () => {
  it("a batch's 30 retries come back as one job, and all 30 are sent by it", async () => {
    // Four sends at a time: the outcomes are stored in groups of two, the retries still queued as one.
    const { clock, herald, storage, queue, redeliveries } = setup(
      (_, attempt) => (attempt === 1 ? unavailable(clock.now()) : sent),
      { sendConcurrency: 4 },
    );
    for (let i = 0; i < 30; i += 1) await addDevices(herald, `u${String(i).padStart(2, '0')}`, 1);
    const campaignId = await scheduleOnce(herald, 'Flaky service');
    await clock.set(DUE);
    await herald.tick();

    expect(redeliveries()).toHaveLength(1);
    const [job] = redeliveries();
    expect(job?.name).toBe('herald.redeliver-group');
    expect((job?.payload as { messages: unknown[] } | undefined)?.messages).toHaveLength(30);
    expect(job?.runAt).toEqual(new Date(Date.parse(DUE) + 30_000));
    expect(await herald.campaigns.stats(campaignId)).toMatchObject({ sent: 0, pending: 30 });

    await clock.advance(30_000);
    await herald.tick();
    expect(await herald.campaigns.stats(campaignId)).toMatchObject({ sent: 30, pending: 0, failed: 0 });
    const deliveries = await storage.listDeliveries(
      campaignId,
      OCCURRENCE,
      Array.from({ length: 30 }, (_, i) => `u${String(i).padStart(2, '0')}` as never),
    );
    expect(deliveries.map((delivery) => [delivery.status, delivery.attempts])).toEqual(
      Array.from({ length: 30 }, () => ['sent', 2]),
    );
    expect(await queue.counts()).toEqual({ waiting: 0, active: 0, failed: 0 });
  });

  it('keeps apart retries a service asked to hold back longer, and sends none before its time', async () => {
    // The first ten are told Retry-After: 600 s; the others retry on the 30 s backoff.
    const { clock, herald, attempts, redeliveries } = setup((request, attempt) => {
      if (attempt > 1) return sent;
      const late = Number(endpointOf(request).split('/u').at(-1)?.slice(0, 2)) < 10;
      return unavailable(new Date(clock.now().getTime() + (late ? 600_000 : 0)));
    });
    for (let i = 0; i < 20; i += 1) await addDevices(herald, `u${String(i).padStart(2, '0')}`, 1);
    const campaignId = await scheduleOnce(herald, 'Two answers');
    await clock.set(DUE);
    await herald.tick();

    const groups = redeliveries().map((job) => ({
      runAt: job.runAt?.toISOString(),
      messages: (job.payload as { messages: unknown[] }).messages.length,
    }));
    expect(groups.sort((a, b) => String(a.runAt).localeCompare(String(b.runAt)))).toEqual([
      { runAt: '2026-03-01T10:00:30.000Z', messages: 10 },
      { runAt: '2026-03-01T10:10:00.000Z', messages: 10 },
    ]);

    await clock.advance(30_000);
    await herald.tick();
    expect(await herald.campaigns.stats(campaignId)).toMatchObject({ sent: 10, pending: 10 });
    expect([...attempts.values()].filter((n) => n === 2)).toHaveLength(10);
    await clock.set('2026-03-01T10:09:59Z');
    await herald.tick();
    expect(await herald.campaigns.stats(campaignId)).toMatchObject({ sent: 10, pending: 10 });
    await clock.set('2026-03-01T10:10:00Z');
    await herald.tick();
    expect(await herald.campaigns.stats(campaignId)).toMatchObject({ sent: 20, pending: 0 });
  });

  it('fails only the message whose subscription went meanwhile, and sends the rest of its group', async () => {
    const { clock, herald, storage } = setup((_, attempt) =>
      attempt === 1 ? unavailable(clock.now()) : sent,
    );
    for (const userId of ['ann', 'bob', 'cyd']) await addDevices(herald, userId, 1);
    const campaignId = await scheduleOnce(herald, 'One gone');
    await clock.set(DUE);
    await herald.tick();
    const [bobs] = await storage.listSubscriptions(['bob' as never]);
    await herald.subscriptions.remove(bobs?.id as never);

    await clock.advance(30_000);
    await herald.tick();
    expect(await herald.campaigns.stats(campaignId)).toMatchObject({ sent: 2, failed: 1, pending: 0 });
    const [bob] = await storage.listDeliveries(campaignId, OCCURRENCE, ['bob' as never]);
    expect(bob).toMatchObject({ status: 'failed', reason: 'subscription removed before retry' });
    const recipients = await storage.getRecipients(campaignId, OCCURRENCE, ['ann', 'bob', 'cyd'] as never[]);
    expect(Object.fromEntries(recipients.map((r) => [r.userId, r.state]))).toEqual({
      ann: 'delivered',
      bob: 'undeliverable',
      cyd: 'delivered',
    });
  });

  it("does not send a user's retry to a subscription that has moved to another user", async () => {
    const { clock, herald, storage, attempts } = setup((_, attempt) =>
      attempt === 1 ? unavailable(clock.now()) : sent,
    );
    await addDevices(herald, 'ann', 1);
    const campaignId = await scheduleOnce(herald, 'Shared browser');
    await clock.set(DUE);
    await herald.tick();
    // Another user signs in on the same browser: its subscription is now theirs.
    await herald.subscriptions.add({ userId: 'zed', subscription: { endpoint: endpointFor('ann'), keys } });

    await clock.advance(30_000);
    await herald.tick();
    expect(attempts.get(endpointFor('ann'))).toBe(1);
    const [ann] = await storage.listDeliveries(campaignId, OCCURRENCE, ['ann' as never]);
    expect(ann).toMatchObject({ status: 'failed', reason: 'subscription removed before retry' });
    expect(await herald.campaigns.stats(campaignId)).toMatchObject({ sent: 0, failed: 1, pending: 0 });
  });

  it('skips a retried user whose template no longer renders and gives back their cap, unless they were delivered', async () => {
    // One message a day: the first campaign takes it; only a user given it back gets the second.
    // cyd has two browsers: the first takes the message at once, the second is retried.
    const { clock, herald, storage } = setup(
      (request, attempt) =>
        attempt === 1 && !request.payload.includes('Again') && endpointOf(request) !== endpointFor('cyd', 0)
          ? unavailable(clock.now())
          : sent,
      { perDay: 1 },
    );
    for (const [userId, devices] of [
      ['ann', 1],
      ['bob', 1],
      ['cyd', 2],
    ] as const) {
      await herald.profiles.upsert({ userId, properties: { first_name: userId } });
      await addDevices(herald, userId, devices);
    }
    const byName = await scheduleNamed(herald, 'Hello {{ user.first_name }}', DUE);
    await clock.set(DUE);
    await herald.tick();
    // Between the first try and the retry, bob's and cyd's names go.
    for (const userId of ['bob', 'cyd'])
      await herald.profiles.upsert({ userId, properties: { first_name: null } });

    await clock.advance(30_000);
    await herald.tick();
    expect(await herald.campaigns.stats(byName)).toMatchObject({
      recipients: 3,
      sent: 2,
      failed: 2,
      pending: 0,
      skipped: { 'missing-value': 1 },
    });
    const recipients = await storage.getRecipients(byName, OCCURRENCE, ['ann', 'bob', 'cyd'] as never[]);
    expect(recipients.map(({ userId, state, reason }) => [userId, state, reason])).toEqual([
      ['ann', 'delivered', null],
      ['bob', 'skipped', 'missing-value'],
      ['cyd', 'delivered', null],
    ]);
    const [bobs] = await storage.listDeliveries(byName, OCCURRENCE, ['bob' as never]);
    expect(bobs).toMatchObject({ status: 'failed', reason: 'not retried: missing-value' });

    // bob's cap was given back; cyd, delivered, keeps hers.
    const again = await scheduleNamed(herald, 'Again', '2026-03-01T11:00:00Z');
    await clock.set('2026-03-01T11:00:00Z');
    await herald.tick();
    expect(await herald.campaigns.stats(again)).toMatchObject({ sent: 1, skipped: { capped: 2 } });
    const [bobAgain] = await storage.getRecipients(again, '2026-03-01T11:00:00.000Z', ['bob' as never]);
    expect(bobAgain).toMatchObject({ state: 'delivered' });
  });

  it('a batch that fails before queueing its retries sends those messages again when it is run again', async () => {
    let refusals = 0;
    const { clock, herald, attempts, redeliveries } = setup(
      (_, attempt) => (attempt === 1 ? unavailable(clock.now()) : sent),
      {
        beforeEnqueue: (jobs) => {
          if (refusals === 0 && jobs.some((job) => job.name === 'herald.redeliver-group')) {
            refusals += 1;
            throw new Error('connection lost while queueing');
          }
        },
      },
    );
    for (const userId of ['ann', 'bob', 'cyd']) await addDevices(herald, userId, 1);
    const campaignId = await scheduleOnce(herald, 'Lost retries');
    await clock.set(DUE);
    await herald.tick();
    expect(refusals).toBe(1);
    expect(await herald.campaigns.stats(campaignId)).toMatchObject({ sent: 0, pending: 3 });

    // The failed job runs again (the worker's retry of a failed job) and sends the three messages again.
    await clock.advance(10 * 60_000);
    await herald.tick();
    expect(await herald.campaigns.stats(campaignId)).toMatchObject({ sent: 3, pending: 0 });
    expect([...attempts.values()]).toEqual([2, 2, 2]);
    expect(redeliveries()).toHaveLength(0);
  });

  it('still runs a single-message job queued by an earlier version, and a group then finds it sent', async () => {
    const { clock, herald, storage, queue, attempts } = setup((_, attempt) =>
      attempt === 1 ? unavailable(clock.now()) : sent,
    );
    await addDevices(herald, 'ann', 1);
    const campaignId = await scheduleOnce(herald, 'Upgrade');
    await clock.set(DUE);
    await herald.tick();
    const [subscription] = await storage.listSubscriptions(['ann' as never]);
    await queue.enqueue([
      {
        name: 'herald.redeliver',
        payload: {
          campaignId,
          occurrence: OCCURRENCE,
          userId: 'ann',
          subscriptionId: subscription?.id,
          attempts: 1,
          dueAt: OCCURRENCE,
        },
        runAt: clock.now(),
      },
    ]);
    await herald.tick();
    expect(await herald.campaigns.stats(campaignId)).toMatchObject({ sent: 1, pending: 0 });

    // The group queued by the first try comes due: its only message has its final outcome.
    await clock.advance(30_000);
    await herald.tick();
    expect(attempts.get(subscription?.target === 'webpush' ? subscription.endpoint : '')).toBe(2);
    expect(await queue.counts()).toEqual({ waiting: 0, active: 0, failed: 0 });
  });
});

describe('redeliveryJobs', () => {
  const run = {
    campaign: { id: 'cmp_1' },
    occurrence: OCCURRENCE,
    dueAt: new Date(OCCURRENCE),
    event: undefined,
  } as unknown as BatchRun;
  const at = new Date(OCCURRENCE);
  const retry = (subscriptionId: string, afterMs: number, attempts = 1): PendingRedelivery => ({
    message: {
      userId: `user-${subscriptionId}` as never,
      subscriptionId: subscriptionId as never,
      attempts,
      holds: 0,
      counterKeys: [],
    },
    runAt: new Date(at.getTime() + afterMs),
    at,
  });
  const shape = (jobs: JobInput[]) =>
    jobs.map((job) => ({
      runAt: (job.runAt?.getTime() ?? 0) - at.getTime(),
      members: (job.payload as { messages: { subscriptionId: string }[] }).messages.map(
        (m) => m.subscriptionId,
      ),
    }));

  it('groups retries due within a quarter of their delay, due at the latest of them', () => {
    // 30 s delays: a group opened at 30 s takes what is due until 37.5 s.
    const jobs = redeliveryJobs(run, [
      retry('d', 38_000),
      retry('a', 30_000),
      retry('c', 37_500),
      retry('b', 30_500),
    ]);
    expect(shape(jobs)).toEqual([
      { runAt: 37_500, members: ['a', 'b', 'c'] },
      { runAt: 38_000, members: ['d'] },
    ]);
  });

  it('lets a retry due in moments wait up to a second to share a job', () => {
    expect(shape(redeliveryJobs(run, [retry('a', 100), retry('b', 1_100), retry('c', 1_101)]))).toEqual([
      { runAt: 1_100, members: ['a', 'b'] },
      { runAt: 1_101, members: ['c'] },
    ]);
  });

  it('keys a group by its members and their attempts, whatever their order', () => {
    const key = (retries: PendingRedelivery[]) => redeliveryJobs(run, retries)[0]?.dedupeKey;
    const ab = key([retry('a', 0), retry('b', 10)]);
    expect(key([retry('b', 10), retry('a', 0)])).toBe(ab);
    expect(key([retry('a', 5), retry('b', 0)])).toBe(ab);
    expect(key([retry('a', 0), retry('b', 10, 2)])).not.toBe(ab);
    expect(key([retry('a', 0), retry('b', 10), retry('c', 20)])).not.toBe(ab);
    expect(key([retry('a', 0)])).not.toBe(ab);
  });
});
