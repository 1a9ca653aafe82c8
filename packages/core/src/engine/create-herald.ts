import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { memoryCounters } from '../adapters/memory-counters.js';
import { systemClock } from '../adapters/system-clock.js';
import type { EndpointPolicy } from '../delivery/endpoint-policy.js';
import { createEndpointPolicy } from '../delivery/endpoint-policy.js';
import type { PushProvider } from '../delivery/provider.js';
import { ConfigError, parseInput as parse, parseConfig, ValidationError } from '../errors/index.js';
import {
  type Campaign,
  type CampaignId,
  CampaignInput,
  type CampaignStats,
  DndWindow,
  EventInput,
  type Profile,
  ProfileInput,
  type ProfileUpdate,
  ProfileUpdate as ProfileUpdateSchema,
  type Subscription,
  type SubscriptionId,
  SubscriptionId as SubscriptionIdSchema,
  SubscriptionInput,
  type Target,
  TimeZone,
  type UserEvent,
  UserId,
} from '../model/index.js';
import { PushSubscriptionJson } from '../model/subscription.js';
import { type ReportBody, ReportBody as ReportBodySchema } from '../payload/index.js';
import type { Clock, Counters, Interaction, Logger, Queue, Storage } from '../ports/index.js';
import type {
  AddSubscriptionInput,
  EventService,
  Herald,
  HeraldEvent,
  ProfileService,
  ReportService,
  SubscriptionService,
  TrackEventInput,
  UpsertProfileInput,
} from './api.js';
import { campaignCache, noticingCampaignWrites } from './campaign-cache.js';
import { createCampaignService, createSegmentService, subscriptionIdFor } from './campaigns/index.js';
import { coalesce } from './coalesce.js';
import type { EngineContext } from './context.js';
import {
  createRenderer,
  defaultRetryPolicy,
  type GlobalLimits,
  GlobalLimits as GlobalLimitsSchema,
  type RetryPolicy,
} from './deliver/index.js';
import { createFaultLog } from './faults.js';
import { HeraldOptionsShape, WEAK_SECRET_LENGTH } from './herald-options.js';
import { createImports, mergeProfile, profileForSubscriber, subscriptionFromInput } from './imports.js';
import { sendGauge } from './in-flight.js';
import { registerInternals } from './internals.js';
import { consoleLogger } from './logger.js';
import {
  attributeConversion,
  browserOfRun,
  type ReportSecret,
  reportKeyFor,
  reportTokens,
  type TrackOptions,
} from './observe/index.js';
import { pruneHistory } from './retention.js';
import { runScheduler } from './schedule/index.js';
import { armEach } from './triggers/index.js';
import { createWorkerPool, dispatchJob, runWorkerPass, type WorkerOptions } from './worker.js';

export interface HeraldOptions {
  storage: Storage;
  queue: Queue;
  counters?: Counters;
  /** One provider per target; a subscription whose target has no provider is skipped. */
  providers: Partial<Record<Target, PushProvider>>;
  clock?: Clock;
  /**
   * Where Herald logs. Default: warnings and errors as JSON lines on stderr
   * (`consoleLogger('warn')`); pass `silentLogger` to hear nothing.
   */
  logger?: Logger;
  /**
   * Called with every delivery outcome, occurrence start and finish, campaign
   * status change and circuit opening, for a host's metrics
   * (docs/OBSERVABILITY.md has a Prometheus example). Runs synchronously;
   * an exception it throws is logged and dropped.
   */
  onEvent?: (event: HeraldEvent) => void;
  /**
   * Extra endpoints to accept besides the known push services (loopback in tests and demos). An
   * endpoint a rule accepts is the host's explicit choice: it is not checked for private addresses.
   */
  allowEndpoint?: Array<string | RegExp | ((url: URL) => boolean)>;
  /**
   * Resolves a push service host to its addresses, which must all be public (default: the system
   * resolver). For tests, and for hosts that resolve through their own DNS.
   */
  resolveHost?: (hostname: string) => Promise<string[]>;
  /**
   * Signs report tokens; generate 32 random bytes once and keep them, or reports of earlier messages
   * are refused. To rotate, give a list, newest first: the first signs, all verify (keep the old one
   * for `tuning.reportTokenTtlMs`).
   */
  reportSecret?: ReportSecret | readonly ReportSecret[] | undefined;
  /** Absolute URL where service workers post reports, e.g. https://example.com/herald/reports. */
  reportUrl?: string;
  /**
   * Where the default icons (`icon: 'bell'`, `'cart'`, …) are served, e.g.
   * https://example.com/icons (the example app serves them from public/icons).
   */
  iconBaseUrl?: string;
  /** Time budget for rendering one templated field, in ms (default 100). */
  renderTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  tuning?: Partial<{
    pageSize: number;
    /** Users per delivery job (default 250). */
    batchSize: number;
    sendConcurrency: number;
    pollIntervalMs: number;
    reportTokenTtlMs: number;
    /**
     * How stale this process's copy of the campaigns may get (default 1000 ms): a campaign
     * scheduled, paused, stopped or edited by another process is seen by this one's
     * `events.track` at most this much later (its own changes at once).
     */
    campaignRefreshMs: number;
  }> &
    Partial<WorkerOptions>;
  /** Randomness for backoff jitter; tests pass a seeded source. */
  random?: () => number;
  /** Per-user caps across all campaigns, days and weeks counted in the user's zone: `{ perUser: { perDay: 3 } }`. */
  limits?: GlobalLimits;
  /**
   * The IANA zone of a user without one (UTC when unset), for the global caps: their days and weeks
   * are counted there whichever campaign asks. A campaign's own message times (delivery in the
   * user's zone, DND) still read a zoneless user in the campaign's zone.
   */
  defaultTimezone?: string;
  /** The global Do-Not-Disturb window in each user's local time; a campaign's `when.dnd` overrides it. */
  dnd?: DndWindowInput;
}

type DndWindowInput = z.input<typeof DndWindow>;

const Endpoint = PushSubscriptionJson.shape.endpoint;
const TrackOptionsSchema = z.strictObject({ maxRevenue: z.number().min(0).optional() });
/** The service worker's report (a `zod/mini` schema, shared with it) in the form parseInput reads. */
const ReportInput = z.object(ReportBodySchema.shape);

/**
 * Assembles Herald from the ports a host provides. Nothing global: two
 * engines in one process share nothing.
 */
export function createHerald(options: HeraldOptions): Herald {
  parseConfig(HeraldOptionsShape, options, 'createHerald options');
  if (Object.keys(options.providers).length === 0)
    throw new ConfigError('createHerald needs at least one provider');
  // Caps counted in each process's memory let every process send a user's last allowed message.
  if (options.storage.capabilities.shared && !options.counters)
    throw new ConfigError(
      'createHerald: the storage is shared with other processes, so caps and throttles need shared counters: pass counters: postgresCounters({ client }) (@herald/adapter-postgres) or redisCounters({ connection }) (@herald/adapter-redis); memoryCounters() only if a single process ever runs Herald on this storage',
    );
  const clock = options.clock ?? systemClock();
  const logger = options.logger ?? consoleLogger('warn');
  const onEvent = options.onEvent;
  const emit = (event: HeraldEvent): void => {
    if (!onEvent) return;
    try {
      onEvent(event);
    } catch (error) {
      logger.error('onEvent handler threw; the event is dropped', {
        type: event.type,
        message: (error as Error).message,
      });
    }
  };
  const tuning = options.tuning ?? {};
  if (!options.reportSecret) {
    logger.warn(
      'no reportSecret given: using a random one, so reports of messages sent before a restart are refused',
    );
  } else if ([options.reportSecret].flat().some((secret) => secret.length < WEAK_SECRET_LENGTH)) {
    logger.warn(
      `reportSecret is shorter than ${WEAK_SECRET_LENGTH} characters (or bytes): anyone holding one report token could guess it and forge views, clicks and conversions; use 32 random bytes (openssl rand -base64 32)`,
    );
  }
  // Campaign writes through the engine's storage refresh the copy `events.track` reads.
  const storage = noticingCampaignWrites(options.storage, () => cachedCampaigns.invalidate());
  const cachedCampaigns = campaignCache({ storage, clock, refreshMs: tuning.campaignRefreshMs ?? 1000 });
  const ctx: EngineContext = {
    storage,
    queue: options.queue,
    counters: options.counters ?? memoryCounters(),
    clock,
    logger,
    providers: options.providers,
    renderer: createRenderer({ iconBaseUrl: options.iconBaseUrl, renderTimeoutMs: options.renderTimeoutMs }),
    tokens: reportTokens(options.reportSecret ?? randomBytes(32)),
    retry: { ...defaultRetryPolicy, ...options.retry },
    random: options.random ?? Math.random,
    pageSize: tuning.pageSize ?? 1000,
    // A delivery job's users are read, gated and sent together: hundreds keep the
    // queue and storage round trips per user few, while bounding what one lost
    // lease makes a worker redo and what one job holds in memory.
    batchSize: tuning.batchSize ?? 250,
    sendConcurrency: tuning.sendConcurrency ?? 100,
    sends: sendGauge(),
    reportTokenTtlMs: tuning.reportTokenTtlMs ?? 60 * 24 * 3600_000,
    ...(options.reportUrl ? { reportUrl: options.reportUrl } : {}),
    limits: parse(GlobalLimitsSchema, options.limits ?? {}, 'limits'),
    defaultTimezone: parse(TimeZone, options.defaultTimezone ?? 'UTC', 'defaultTimezone'),
    ...(options.dnd ? { dnd: parse(DndWindow, options.dnd, 'dnd') } : {}),
    emit,
    faults: createFaultLog(logger, emit),
    campaignCache: cachedCampaigns,
    coalesced: coalescedWrites(storage, options.queue),
  };
  const workerOptions: WorkerOptions = {
    concurrency: tuning.concurrency ?? 4,
    // Short, heartbeat-kept leases: a killed worker's jobs are taken over within 15 s.
    leaseMs: tuning.leaseMs ?? 15_000,
    maxJobAttempts: tuning.maxJobAttempts ?? 10,
    shutdownTimeoutMs: tuning.shutdownTimeoutMs ?? 10_000,
  };
  const pollIntervalMs = tuning.pollIntervalMs ?? 1000;
  const endpoints: EndpointPolicy = createEndpointPolicy({
    allow: options.allowEndpoint ?? [],
    clock,
    ...(options.resolveHost ? { resolve: options.resolveHost } : {}),
  });
  ctx.checkEndpointAddress = endpoints.checkAddress;

  const imports = createImports(ctx, endpoints);

  const profiles: ProfileService = {
    /**
     * Creates a user's profile, or sets the fields the input mentions on the
     * stored one: a field left out keeps its stored value (the zone the
     * browser gave at subscribe, the test flag, the properties); properties
     * given replace the stored ones whole (`update` merges them).
     */
    async upsert(input: UpsertProfileInput): Promise<Profile> {
      const parsed = parse(ProfileInput, input, 'profile');
      const now = clock.now();
      const existing = await ctx.storage.getProfile(parsed.userId);
      const profile = mergeProfile(input, parsed, existing, now);
      await ctx.storage.upsertProfile(profile);
      return profile;
    },
    /**
     * Changes only the fields given: properties merge shallowly into the
     * stored ones (a key given replaces that key's whole value; the others
     * stay), the zone and test flag are set when given. A user without a
     * profile gets one, as with `upsert`. Read-then-write: two updates of the
     * same user at the same moment may lose one's properties.
     */
    async update(userId: string, changes: ProfileUpdate): Promise<Profile> {
      const id = parse(UserId, userId, 'user id');
      const parsed = parse(ProfileUpdateSchema, changes, 'profile update');
      const now = clock.now();
      const existing = await ctx.storage.getProfile(id);
      const profile: Profile = {
        ...(existing ?? { userId: id, properties: {}, test: false }),
        ...(parsed.timezone !== undefined ? { timezone: parsed.timezone } : {}),
        ...(parsed.test !== undefined ? { test: parsed.test } : {}),
        properties: { ...existing?.properties, ...parsed.properties },
        createdAt: existing?.createdAt ?? now,
        updatedAt: now,
      };
      await ctx.storage.upsertProfile(profile);
      return profile;
    },
    get: (userId: string) => ctx.storage.getProfile(parse(UserId, userId, 'user id')),
    import: (rows) => imports.profiles(rows),
  };

  const subscriptions: SubscriptionService = {
    async add(input: AddSubscriptionInput): Promise<Subscription> {
      const parsed = parse(SubscriptionInput, input, 'subscription');
      const now = clock.now();
      if (parsed.target === 'webpush') {
        endpoints.assert(parsed.subscription.endpoint);
        await endpoints.assertAddress(parsed.subscription.endpoint);
      }
      const fresh = subscriptionFromInput(parsed, now);
      const existing = await ctx.storage.getSubscription(fresh.id);
      const subscription: Subscription = { ...fresh, createdAt: existing?.createdAt ?? now };
      await ensureProfile(subscription.userId, subscription.timezone, now);
      await ctx.storage.upsertSubscription(subscription);
      return subscription;
    },
    remove: (id: SubscriptionId | string) =>
      ctx.storage.removeSubscription(parse(SubscriptionIdSchema, id, 'subscription id')),
    /** Removes the subscription with this endpoint (what a browser knows of itself). */
    removeByEndpoint: (endpoint: string) =>
      ctx.storage.removeSubscription(subscriptionIdFor(parse(Endpoint, endpoint, 'endpoint'), 'webpush')),
    getByEndpoint: (endpoint: string) =>
      ctx.storage.getSubscription(subscriptionIdFor(parse(Endpoint, endpoint, 'endpoint'), 'webpush')),
    list: (userId: string) => ctx.storage.listSubscriptions([parse(UserId, userId, 'user id')]),
    idForEndpoint: (endpoint: string) => subscriptionIdFor(parse(Endpoint, endpoint, 'endpoint'), 'webpush'),
    import: (rows) => imports.subscriptions(rows),
  };

  async function ensureProfile(userId: UserId, timezone: string | undefined, now: Date): Promise<void> {
    const profile = profileForSubscriber(userId, timezone, await ctx.storage.getProfile(userId), now);
    if (profile) await ctx.storage.upsertProfile(profile);
  }

  // The events of the track calls that arrived while the previous group was arming, armed as one
  // group (as an import batch is): each statement of the arming is shared by the whole group.
  const armTracked = coalesce((events: readonly UserEvent[]) => armEach(ctx, events), { maxItems: 500 });

  const events: EventService = {
    async track(input: TrackEventInput, options: TrackOptions = {}): Promise<UserEvent> {
      const parsed = parse(EventInput, input, 'event');
      const limits = parse(TrackOptionsSchema, options, 'track options');
      const event: UserEvent = { ...parsed, time: parsed.time ?? clock.now() };
      await ctx.coalesced.appendEvents([event]);
      // Live campaigns react (timers are queue jobs), then the event may convert a campaign that reached the user.
      const [armed] = await armTracked([event]);
      if (armed && !armed.ok) throw armed.error;
      await attributeConversion(ctx, event, limits);
      return event;
    },
    import: (rows, importOptions) => imports.events(rows, importOptions),
  };

  const campaigns = createCampaignService(ctx, (input) => parse(CampaignInput, input, 'campaign'));
  const segments = createSegmentService(ctx);

  const reports: ReportService = {
    // A JavaScript caller may pass anything: only a string can be a token.
    verifyToken: (token: string) =>
      typeof token === 'string' ? ctx.tokens.verify(token, clock.now()) : null,
    async record(input: ReportBody): Promise<boolean> {
      const report = parse(ReportInput, input, 'report');
      const claims = ctx.tokens.verify(report.token, clock.now());
      if (!claims) return false;
      const campaign = await ctx.storage.getCampaign(claims.campaignId as CampaignId);
      if (!campaign) return false;
      // An action the message never had would open a new, attacker-named key in the stats.
      if (
        report.action !== undefined &&
        !campaign.what.actions?.some((action) => action.id === report.action)
      ) {
        throw new ValidationError('report', [
          {
            path: 'action',
            message: `campaign ${campaign.id} has no action "${report.action.slice(0, 64)}"`,
          },
        ]);
      }
      await ctx.storage.recordInteraction({
        // Keyed by what the token names, not by the client's reportId: a token replayed with fresh
        // report ids (a flood, a buggy retry loop) counts once per kind and action.
        reportId: reportKeyFor(claims, report.kind, report.action ?? null),
        campaignId: claims.campaignId as Interaction['campaignId'],
        occurrence: claims.occurrence,
        userId: claims.userId as Interaction['userId'],
        kind: report.kind,
        action: report.action ?? null,
        at: clock.now(),
        // The browser that showed the message; for a token signed before tokens claimed one, a lookup.
        browser:
          claims.browser ??
          (await browserOfRun(ctx, {
            campaignId: claims.campaignId as Interaction['campaignId'],
            occurrence: claims.occurrence,
            userId: claims.userId as Interaction['userId'],
          })),
      });
      return true;
    },
  };

  let loop: { abort: AbortController; done: Promise<void> } | null = null;
  const pool = createWorkerPool(ctx, workerOptions, dispatchJob(ctx));

  /** One deterministic pass: start due occurrences, then run every job that is due now. */
  async function tick(): Promise<{ started: number; jobs: number }> {
    const started = await runScheduler(ctx);
    let jobs = 0;
    for (;;) {
      const claimed = await runWorkerPass(pool);
      jobs += claimed;
      if (claimed === 0) break;
    }
    return { started, jobs };
  }

  /**
   * Keeps every slot busy: claims one job per free slot as slots free up, never a batch ahead.
   * Idle, it waits for the poll interval, a running job's end, or the queue's wake-up (a job
   * enqueued by any process), whichever comes first.
   */
  async function runLoop(signal: AbortSignal, wakeups: QueueWakeups): Promise<void> {
    while (!signal.aborted) {
      // A wake-up from here on may be for a job this pass's claim misses: it keeps the next wait short.
      wakeups.clear();
      let failed = false;
      try {
        await runScheduler(ctx);
        const claimed = await pool.fill();
        if (signal.aborted) break;
        if (pool.running() >= workerOptions.concurrency) {
          await pool.slotFreed(signal);
          continue;
        }
        if (claimed > 0) continue;
      } catch (error) {
        failed = true;
        logger.error('engine pass failed; retrying after the poll interval', {
          message: (error as Error).message,
        });
      }
      // Idle slots: look again after the poll interval, as soon as a running job ends (it may have
      // enqueued more), or when the queue says a job was enqueued; after a failure, only the interval.
      const wake = new AbortController();
      const onAbort = () => wake.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      const wakes = [clock.sleep(pollIntervalMs, wake.signal)];
      if (!failed) wakes.push(wakeups.next(wake.signal));
      // Only a running job can end early: with none, slotFreed would answer at once and the loop would spin.
      if (pool.running() > 0) wakes.push(pool.slotFreed(wake.signal));
      await Promise.race(wakes);
      wake.abort();
      signal.removeEventListener('abort', onAbort);
    }
  }

  const herald: Herald = {
    profiles,
    subscriptions,
    events,
    campaigns,
    segments,
    reports,
    tick,
    start(): void {
      if (loop) return;
      const abort = new AbortController();
      const wakeups = queueWakeups(ctx.queue);
      loop = { abort, done: runLoop(abort.signal, wakeups).finally(wakeups.stop) };
    },
    async stop(): Promise<void> {
      const current = loop;
      loop = null;
      if (current) {
        current.abort.abort();
        await current.done;
        // Finish what we hold within the grace period; give the rest back so a deploy never waits out a lease.
        await pool.drain();
      }
      await Promise.all(Object.values(ctx.providers).map((provider) => provider?.close()));
    },
    prune: (pruneOptions) =>
      pruneHistory({ storage: ctx.storage, queue: ctx.queue, clock, logger }, pruneOptions),
    verifyReportToken: reports.verifyToken,
    endpoints,
    inFlight: () => ({ jobs: pool.running(), ...ctx.sends.read() }),
  };
  registerInternals(herald, { logger, clock, counters: ctx.counters });
  return herald;
}

/**
 * The statements of `events.track` that concurrent calls share: events and timer jobs in batches
 * of up to 500 (one JSON parameter of a few hundred kB at most).
 */
function coalescedWrites(storage: Storage, queue: Queue): EngineContext['coalesced'] {
  return {
    appendEvents: voidResults(
      coalesce(
        batchOf((events) => storage.appendEvents(events)),
        { maxItems: 500 },
      ),
    ),
    enqueue: voidResults(
      coalesce(
        batchOf((jobs) => queue.enqueue(jobs)),
        { maxItems: 500 },
      ),
    ),
    appendDecisions: voidResults(
      coalesce(
        batchOf((decisions) => storage.appendDecisions(decisions)),
        { maxItems: 500 },
      ),
    ),
    // A queue without the batch forms answers job by job, in order: the same rules, a call each. Its
    // calls are not shared (maxItems 1): a loop of single writes is not atomic, and redoing a shared
    // one after a failure would answer "not added" for the jobs that went in before it.
    enqueueEach: coalesce(
      queue.enqueueEach
        ? (jobs) => (queue.enqueueEach as NonNullable<Queue['enqueueEach']>)(jobs)
        : async (jobs) => {
            const added: boolean[] = [];
            for (const job of jobs) added.push((await queue.enqueue([job])) > 0);
            return added;
          },
      { maxItems: queue.enqueueEach ? 500 : 1 },
    ),
    cancelEach: coalesce(
      queue.cancelEach
        ? (keys) => (queue.cancelEach as NonNullable<Queue['cancelEach']>)(keys)
        : async (keys) => {
            const removed: boolean[] = [];
            for (const key of keys) removed.push(await queue.cancel(key));
            return removed;
          },
      { maxItems: queue.cancelEach ? 500 : 1 },
    ),
  };
}

/** A write with no per-item answer, as a batch write answering one `undefined` per item. */
function batchOf<Item>(write: (items: readonly Item[]) => Promise<unknown>) {
  return async (items: readonly Item[]): Promise<undefined[]> => {
    await write(items);
    return items.map(() => undefined);
  };
}

function voidResults<Item>(
  call: (items: readonly Item[]) => Promise<unknown[]>,
): (items: readonly Item[]) => Promise<void> {
  return async (items) => {
    await call(items);
  };
}

/** The queue's wake-ups (`Queue.onWake`), remembered from one wait to the next. */
interface QueueWakeups {
  /** Forgets wake-ups heard so far: the claim about to run sees their jobs. */
  clear(): void;
  /** Resolves at the next wake-up (at once if one came since `clear`), or when `signal` aborts. */
  next(signal: AbortSignal): Promise<void>;
  stop(): void;
}

/** A queue without `onWake` never wakes the loop early: it is polled only. */
function queueWakeups(queue: Queue): QueueWakeups {
  let heard = false;
  let wake: (() => void) | null = null;
  const stop =
    queue.onWake?.(() => {
      heard = true;
      wake?.();
    }) ?? (() => undefined);
  return {
    clear: () => {
      heard = false;
    },
    next(signal) {
      if (heard || signal.aborted) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const done = () => {
          wake = null;
          signal.removeEventListener('abort', done);
          resolve();
        };
        wake = done;
        signal.addEventListener('abort', done, { once: true });
      });
    },
    stop,
  };
}

export type { Campaign, CampaignId, CampaignStats, Herald };
