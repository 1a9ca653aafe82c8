import { DateTime } from 'luxon';
import {
  type CampaignInput,
  type Counters,
  createHerald,
  type DeliveryOutcome,
  type HeraldOptions,
  type JobInput,
  memoryCounters,
  memoryQueue,
  memoryStorage,
  type OutboundMessage,
  type PushProvider,
  type Queue,
  type Storage,
} from '../../../src/index.js';
import { type FakeClock, fakeClock, fixtures } from '../../../src/testing/index.js';

export interface SentMessage {
  userId: string;
  endpoint: string;
  at: Date;
  campaignId: string;
  occurrence: string;
  title: string;
  body: string;
  /** The report token the message carried. */
  token: string;
}

/** The push service's answer for an endpoint: sent unless a rule says otherwise. */
export type Answer = (message: OutboundMessage, now: Date) => DeliveryOutcome;

/**
 * A push provider that records every message with the engine's time and
 * answers 201 unless told otherwise. It replaces the network, not any
 * storage: the engine under test is the real one on the memory adapters.
 */
export function recordingProvider(sent: SentMessage[], answers: Map<string, Answer>): PushProvider {
  return {
    target: 'webpush',
    async send(message, now) {
      const payload = JSON.parse(message.payload) as {
        notification: { title: string; body: string };
        herald: { campaignId: string; occurrence: string; userId: string; token: string };
      };
      const endpoint = message.subscription.target === 'webpush' ? message.subscription.endpoint : '';
      const answer = answers.get(endpoint);
      const outcome = answer ? answer(message, now) : ({ kind: 'sent', statusCode: 201 } as const);
      if (outcome.kind === 'sent') {
        sent.push({
          userId: payload.herald.userId,
          endpoint,
          at: now,
          campaignId: payload.herald.campaignId,
          occurrence: payload.herald.occurrence,
          title: payload.notification.title,
          body: payload.notification.body,
          token: payload.herald.token,
        });
      }
      return outcome;
    },
    async close() {},
  };
}

/** Wraps a queue to remember every run-at it was given, so a test can jump straight to the next due moment. */
function watchedQueue(queue: Queue, moments: Set<number>): Queue {
  return {
    ...queue,
    enqueue: (jobs) => {
      for (const job of jobs) moments.add(job.runAt.getTime());
      return queue.enqueue(jobs);
    },
    ...(queue.enqueueEach
      ? {
          enqueueEach: (jobs: readonly JobInput[]) => {
            for (const job of jobs) moments.add(job.runAt.getTime());
            return (queue.enqueueEach as NonNullable<Queue['enqueueEach']>)(jobs);
          },
        }
      : {}),
    retry: (jobId, token, runAt, error) => {
      moments.add(runAt.getTime());
      return queue.retry(jobId, token, runAt, error);
    },
  };
}

export interface CampaignRunOptions
  extends Partial<Pick<HeraldOptions, 'limits' | 'dnd' | 'defaultTimezone' | 'onEvent'>> {
  start: string;
  storage?: Storage;
  queue?: Queue;
  counters?: Counters;
  clock?: FakeClock;
  sent?: SentMessage[];
  answers?: Map<string, Answer>;
  tuning?: HeraldOptions['tuning'];
}

/**
 * An engine on memory storage and a fake clock whose provider records what it sends (and answers
 * as `answers` says), with helpers to move time to the next due moment: one campaign run, observed.
 */
export function campaignRun(options: CampaignRunOptions) {
  const clock = options.clock ?? fakeClock(options.start);
  const storage = options.storage ?? memoryStorage();
  const baseQueue = options.queue ?? memoryQueue();
  const counters = options.counters ?? memoryCounters();
  const sent = options.sent ?? [];
  const answers = options.answers ?? new Map<string, Answer>();
  const moments = new Set<number>();
  const queue = watchedQueue(baseQueue, moments);
  const herald = createHerald({
    storage,
    queue,
    counters,
    clock,
    providers: { webpush: recordingProvider(sent, answers) },
    allowEndpoint: [/^https:\/\/push\.example\.test\//],
    random: () => 0.5,
    reportSecret: 'x'.repeat(32),
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.dnd ? { dnd: options.dnd } : {}),
    ...(options.defaultTimezone ? { defaultTimezone: options.defaultTimezone } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    tuning: { pageSize: 50, batchSize: 20, ...options.tuning },
  });

  async function addUser(userId: string, timezone?: string, properties: Record<string, unknown> = {}) {
    await herald.profiles.upsert({ userId, properties, ...(timezone ? { timezone } : {}) });
    await herald.subscriptions.add({
      userId,
      subscription: {
        endpoint: `https://push.example.test/send/${userId}`,
        keys: { p256dh: fixtures.P256DH, auth: 'AAAAAAAAAAAAAAAAAAAAAA' },
      },
    });
  }

  /** Creates and schedules a campaign; `what` defaults to a plain message. */
  async function launch(input: Partial<CampaignInput> & Pick<CampaignInput, 'when'>) {
    const campaign = await herald.campaigns.create({
      name: 'test',
      who: { segment: { type: 'all' } },
      what: {
        title: 'Hi {{ user.id }}',
        body: 'Body',
        deeplink: 'https://shop.example.test/',
        ttlSeconds: 4 * 7 * 86_400,
      },
      ...input,
    });
    return herald.campaigns.schedule(campaign.id);
  }

  /** The next moment after now when the engine has something to do: a job's run-at or a campaign's next run. */
  async function nextMoment(): Promise<number | null> {
    const now = clock.now().getTime();
    let next: number | null = null;
    for (const at of moments) if (at > now && (next === null || at < next)) next = at;
    for (const c of await storage.listCampaigns({ status: ['scheduled', 'running'] })) {
      const at = c.nextRunAt?.getTime();
      if (at !== undefined && at > now && (next === null || at < next)) next = at;
    }
    return next;
  }

  /** Ticks at every moment the engine has something to do, up to and including `target`. */
  async function runUntil(target: string | Date) {
    const end = new Date(target).getTime();
    for (;;) {
      await herald.tick();
      const next = await nextMoment();
      if (next === null || next > end) break;
      await clock.set(new Date(next));
    }
    if (clock.now().getTime() < end) {
      await clock.set(new Date(end));
      await herald.tick();
    }
  }

  return { herald, clock, storage, queue, counters, sent, answers, addUser, launch, runUntil };
}

/** An instant's wall-clock time in a zone, "yyyy-MM-dd HH:mm". */
export function local(at: Date, zone: string): string {
  return DateTime.fromJSDate(at, { zone }).toFormat('yyyy-MM-dd HH:mm');
}
