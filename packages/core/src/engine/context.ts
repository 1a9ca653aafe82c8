import type { DeliveryOutcome, PushProvider } from '../delivery/provider.js';
import type { Decision, DndWindow, Target, UserEvent } from '../model/index.js';
import type { Clock, Counters, JobInput, Logger, Queue, Storage } from '../ports/index.js';
import type { HeraldEvent } from './api.js';
import type { CampaignCache } from './campaign-cache.js';
import type { GlobalLimits, Renderer, RetryPolicy } from './deliver/index.js';
import type { FaultLog } from './faults.js';
import type { SendGauge } from './in-flight.js';
import type { ReportTokens } from './observe/index.js';

/** Everything the engine's parts share, wired once by createHerald. */
export interface EngineContext {
  storage: Storage;
  queue: Queue;
  counters: Counters;
  clock: Clock;
  logger: Logger;
  providers: Partial<Record<Target, PushProvider>>;
  renderer: Renderer;
  tokens: ReportTokens;
  retry: RetryPolicy;
  random: () => number;
  /** Users per audience page read from storage. */
  pageSize: number;
  /** Users per delivery job. */
  batchSize: number;
  /**
   * Messages in flight at once within one delivery job, counted from the
   * request to the stored outcome (deliver/record-outcomes.ts).
   */
  sendConcurrency: number;
  /** Sends under way in this process, from request to stored outcome (`herald.inFlight()`). */
  sends: SendGauge;
  /** Where service workers post reports (absolute URL), if the host mounted the HTTP handlers. */
  reportUrl?: string;
  /** How long a report token stays valid after the send. */
  reportTokenTtlMs: number;
  /** Per-user caps across all campaigns, in the user's zone. */
  limits: GlobalLimits;
  /** The zone of a user without one, for the caps (`createHerald({ defaultTimezone })`, UTC when unset). */
  defaultTimezone: string;
  /** The global Do-Not-Disturb window; a campaign's own `when.dnd` overrides it. */
  dnd?: DndWindow;
  /** Hands an event to the host's `onEvent`; never throws. */
  emit(event: HeraldEvent): void;
  /** Logs configuration faults once per campaign and push service. */
  faults: FaultLog;
  /**
   * Refuses a Web Push endpoint whose host now resolves to a non-public address (checked before
   * each send too: DNS can change after subscribe). Absent: no check (unit tests of one step).
   */
  checkEndpointAddress?: (endpoint: string) => Promise<{ ok: true } | { ok: false; reason: string }>;
  /** The campaigns a tracked event reads (live ones, conversion goals), kept in memory (campaign-cache.ts). */
  campaignCache: CampaignCache;
  /**
   * Writes and reads of `events.track` that concurrent calls share (coalesce.ts): one statement for
   * every call that arrived while the previous one ran.
   */
  coalesced: {
    appendEvents(events: readonly UserEvent[]): Promise<void>;
    /** Enqueues jobs; the count added is not told (the calls sharing the statement cannot split it). */
    enqueue(jobs: readonly JobInput[]): Promise<void>;
    /** Enqueues jobs, telling for each whether it was added (`Queue.enqueueEach`). */
    enqueueEach(jobs: readonly JobInput[]): Promise<boolean[]>;
    /** Cancels waiting jobs by dedupe key, telling for each whether one was removed (`Queue.cancelEach`). */
    cancelEach(dedupeKeys: readonly string[]): Promise<boolean[]>;
    appendDecisions(decisions: readonly Decision[]): Promise<void>;
  };
}

export type { DeliveryOutcome, PushProvider };
