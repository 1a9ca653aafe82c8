/**
 * Herald's public API: what `createHerald` returns, declared once so the
 * contract is read here rather than inferred from the implementation.
 *
 * Every input is typed as its zod schema's INPUT type (`z.input<typeof
 * CampaignInput>`): defaults may be left out, a misspelt key or a wrong type
 * fails at compile time. The same schemas still parse every call at run time,
 * for JavaScript callers and HTTP bodies, and throw `ValidationError` with
 * one issue per bad field.
 *
 * The services are interfaces in this one module so that a new method (a
 * campaign update, history) is one line here plus its implementation.
 * Engine internals (storage, queue, counters, the renderer) are not on the
 * `Herald` object; the HTTP handlers use only what is declared here.
 */

import type { z } from 'zod';
import type { EndpointPolicy } from '../delivery/endpoint-policy.js';
import type {
  Campaign,
  CampaignHistoryEntry,
  CampaignInput,
  CampaignStats,
  CampaignStatus,
  EventInput,
  Profile,
  ProfileInput,
  ProfileUpdate,
  Properties,
  ReachEstimate,
  SavedSegment,
  SegmentDefinitionInput,
  SegmentInput,
  Subscription,
  SubscriptionId,
  Target,
  UserEvent,
  UserId,
} from '../model/index.js';
import type { ReportBody } from '../payload/index.js';
import type { CampaignCommandOptions, CampaignPatch } from './campaigns/editing.js';
import type { InFlight } from './in-flight.js';
import type {
  CampaignBrowsers,
  CampaignForecast,
  CampaignPreview,
  CampaignRuns,
  CampaignTimeline,
  Explanation,
  ReportClaims,
  TestSendResult,
  TrackOptions,
} from './observe/index.js';
import type { PruneInput, PruneResult } from './retention.js';

/** What `campaigns.create` takes: `name`, `who`, `what`, `when`, optional `setup`; defaults may be omitted. */
export type CreateCampaignInput = z.input<typeof CampaignInput>;
/** What `profiles.upsert` takes. */
export type UpsertProfileInput = z.input<typeof ProfileInput>;
/** What `profiles.update` takes: the fields to change. */
export type UpdateProfileInput = z.input<typeof ProfileUpdate>;
/** What `events.track` takes; `time` defaults to now. */
export type TrackEventInput = z.input<typeof EventInput>;
/** What `segments.create` takes. */
export type CreateSegmentInput = z.input<typeof SegmentInput>;
/** What `segments.update` takes: any of name, description, definition. */
export type UpdateSegmentInput = Partial<CreateSegmentInput>;

/**
 * What `subscriptions.add` takes: a browser's `PushSubscription.toJSON()`
 * (target `webpush`, the default) or a Safari legacy device token.
 */
export type AddSubscriptionInput =
  | {
      target?: 'webpush';
      userId: string;
      subscription: {
        endpoint: string;
        keys: { p256dh: string; auth: string };
        expirationTime?: number | null;
      };
      /** IANA zone, e.g. Europe/Paris. */
      timezone?: string;
      /** The browser's `navigator.userAgent` (printable ASCII, at most 512 characters): stats by browser tell Chrome from Edge and Opera with it. */
      userAgent?: string;
    }
  | { target: 'safari'; userId: string; deviceToken: string; timezone?: string };

/** A row an import refused: its index in the rows given, and one bad field (a row may have several). */
export interface ImportRejection {
  /** The row's position in the array passed to `import` (0-based). */
  index: number;
  /** The bad field inside the row, e.g. `subscription.keys.p256dh`; '' for the row itself. */
  path: string;
  message: string;
}

/** What a bulk import did: the rows written, and every bad row's problems (those rows were not written). */
export interface ImportResult {
  imported: number;
  rejected: ImportRejection[];
}

/** How `events.import` treats the events it records. */
export interface ImportEventsOptions {
  /**
   * React to each event as `events.track` does: arm live campaigns (on-event,
   * inaction) and attribute conversions. Default false: an import of past
   * events (a backfill) fills behaviour segments without sending anything.
   */
  live?: boolean;
}

/** Which campaigns `campaigns.list` returns; both given: both must hold. */
export interface CampaignListFilter {
  /** Only campaigns in one of these statuses. */
  status?: CampaignStatus[];
  /** Only campaigns carrying this label. */
  label?: string;
  /** Archived campaigns are left out unless this is true. */
  includeArchived?: boolean;
}

/** `herald.campaigns`: the lifecycle draft → scheduled → running → completed, with pause, resume and stop. */
export interface CampaignService {
  /** Validates and stores a campaign as a draft. Templates are checked now, not at send time. */
  create(input: CreateCampaignInput, options?: Pick<CampaignCommandOptions, 'actor'>): Promise<Campaign>;
  /**
   * Changes a draft, scheduled or paused campaign (content also while running): each top-level
   * section the patch names replaces that section whole, validated as at create. A stale
   * `expectedVersion` is a `ConflictError`; the next due moment is recomputed when `when` changes.
   */
  update(id: string, patch: CampaignPatch, options?: CampaignCommandOptions): Promise<Campaign>;
  /** A draft copy ("Copy of …" unless `overrides` names it), recorded in both histories. */
  duplicate(
    id: string,
    overrides?: CampaignPatch,
    options?: Pick<CampaignCommandOptions, 'actor'>,
  ): Promise<Campaign>;
  /** Removes a draft and its history; any other status is a `ConflictError` (stop it: stats survive). */
  delete(id: string, options?: Pick<CampaignCommandOptions, 'expectedVersion'>): Promise<void>;
  /** stopped/completed → archived: hidden from `list` unless `includeArchived`. */
  archive(id: string, options?: CampaignCommandOptions): Promise<Campaign>;
  /** Every change, oldest first: who, when, what. */
  history(id: string): Promise<CampaignHistoryEntry[]>;
  /** draft → scheduled: the scheduler runs it when its first moment on or after now comes. */
  schedule(id: string, options?: CampaignCommandOptions): Promise<Campaign>;
  /** scheduled/running → paused: its jobs wait until it resumes. */
  pause(id: string, options?: CampaignCommandOptions): Promise<Campaign>;
  /** paused → back to where it was; runs that came due while paused are skipped. */
  resume(id: string, options?: CampaignCommandOptions): Promise<Campaign>;
  /** Stops for good: nothing more is sent; messages not yet sent are skipped as stopped. */
  stop(id: string, options?: CampaignCommandOptions): Promise<Campaign>;
  /** The campaign; throws `NotFoundError` when there is none. */
  get(id: string): Promise<Campaign>;
  /** Campaigns, oldest first, optionally only those in these statuses or with this label. */
  list(filter?: CampaignListFilter): Promise<Campaign[]>;
  /**
   * The notification exactly as this user would get it on each of their
   * subscriptions now (Safari's drops applied), with warnings. Nothing is sent.
   */
  preview(id: string, userId: string, options?: { event?: Properties }): Promise<CampaignPreview>;
  /** Sends the rendered content now to test profiles only; never counted in stats. */
  sendTest(id: string, options?: { userIds?: string[]; event?: Properties }): Promise<TestSendResult[]>;
  /** How many users the next run would reach after control group, caps and DND. */
  forecast(id: string): Promise<CampaignForecast>;
  /** Recipients, deliveries, skips by reason, reports and conversions. */
  stats(id: string): Promise<CampaignStats>;
  /**
   * Each run with its own figures, progress (queued, in progress, done, settledAt) and rates, and
   * their total; live campaigns by day in their zone (definitions in docs/CAMPAIGNS.md, "Stats").
   */
  runs(id: string): Promise<CampaignRuns>;
  /**
   * Sent, viewed, clicked, conversions and revenue over time: hour buckets for the first 48 hours
   * from the first send's local hour, then day buckets, in the campaign's zone (docs/CAMPAIGNS.md, "Stats over time").
   */
  timeline(id: string): Promise<CampaignTimeline>;
  /**
   * Messages, users, reports, conversions and click-through by browser (Chrome, Firefox, Edge,
   * Safari, other) and target (web-push, safari-legacy), most sent first (docs/CAMPAIGNS.md, "By browser").
   */
  browsers(id: string): Promise<CampaignBrowsers>;
  /** Why this user did or did not get this campaign, occurrence by occurrence. */
  explain(id: string, userId: string): Promise<Explanation>;
}

/** `herald.segments`: saved segments and reach estimates. */
export interface SegmentService {
  /** Saves a named definition for campaigns to use by id (`who: { segmentId }`). */
  create(input: CreateSegmentInput): Promise<SavedSegment>;
  /** Changes name, description or definition; running campaigns read the new definition from their next page. */
  update(id: string, input: UpdateSegmentInput): Promise<SavedSegment>;
  /** The segment; throws `NotFoundError` when there is none. */
  get(id: string): Promise<SavedSegment>;
  /** Every saved segment. */
  list(): Promise<SavedSegment[]>;
  /** Campaigns (scheduled, running or paused) that use this segment. */
  usedBy(id: string): Promise<Campaign[]>;
  /** Deletes a saved segment; refused (`ConflictError`) while a scheduled, running or paused campaign uses it. */
  delete(id: string): Promise<void>;
  /** How many users match a definition (or a saved segment) now, and how many web push can reach. */
  estimateReach(input: SegmentDefinitionInput | { segmentId: string }): Promise<ReachEstimate>;
}

/** `herald.profiles`: the users campaigns address. */
export interface ProfileService {
  /**
   * Creates a user's profile, or sets the fields the input mentions on the stored one: a field
   * left out keeps its stored value (the zone the browser gave at subscribe, the test flag);
   * properties given replace the stored ones whole (`update` merges them).
   */
  upsert(input: UpsertProfileInput): Promise<Profile>;
  /**
   * Changes only the fields given; properties merge shallowly (a key given replaces that key's
   * value). Creates the profile when there is none.
   */
  update(userId: string, changes: UpdateProfileInput): Promise<Profile>;
  /** The user's profile, or null. */
  get(userId: string): Promise<Profile | null>;
  /**
   * Many `upsert`s at once (a host bringing its users): each row validated and merged as
   * `upsert` does, written in batches; bad rows are reported by index and the good ones written.
   */
  import(rows: readonly UpsertProfileInput[]): Promise<ImportResult>;
}

/** `herald.subscriptions`: the browsers (and Safari devices) each user can be reached on. */
export interface SubscriptionService {
  /** Stores a subscription after checking its endpoint against the known push services; creates the profile if new. */
  add(input: AddSubscriptionInput): Promise<Subscription>;
  /** Removes a subscription; false when there was none. */
  remove(id: SubscriptionId | string): Promise<boolean>;
  /** Removes the subscription with this endpoint (what a browser knows of itself). */
  removeByEndpoint(endpoint: string): Promise<boolean>;
  /** The subscription with this endpoint, or null. */
  getByEndpoint(endpoint: string): Promise<Subscription | null>;
  /** The user's subscriptions. */
  list(userId: string): Promise<Subscription[]>;
  /** The id Herald gives the subscription with this endpoint. */
  idForEndpoint(endpoint: string): SubscriptionId;
  /**
   * Many `add`s at once: each row validated and its endpoint checked as `add` does (profiles
   * created, zones taken), written in batches; bad rows are reported by index and the good ones written.
   */
  import(rows: readonly AddSubscriptionInput[]): Promise<ImportResult>;
}

/** `herald.events`: what users do, for segments on behaviour, live campaigns and conversions. */
export interface EventService {
  /** Records an event; live campaigns react and it may convert a campaign that reached the user. */
  track(input: TrackEventInput, options?: TrackOptions): Promise<UserEvent>;
  /**
   * Records many events in batches (history from another system, or a stream): each row
   * validated as `track` does; bad rows are reported by index and the good ones recorded. Live
   * campaigns and conversions ignore imported events unless `options.live` is true.
   */
  import(rows: readonly TrackEventInput[], options?: ImportEventsOptions): Promise<ImportResult>;
}

/** `herald.reports`: what service workers report about shown messages. */
export interface ReportService {
  /** Verifies a report token from a message's payload; null when invalid or expired. */
  verifyToken(token: string): ReportClaims | null;
  /**
   * Records a viewed / clicked / closed report once (by `reportId`). Returns
   * false, recording nothing, when its token is invalid or expired.
   */
  record(report: ReportBody): Promise<boolean>;
}

/** Where a delivery went: the push service's host (`fcm.googleapis.com`, `api.push.apple.com`). */
export type PushServiceName = string;

/**
 * What Herald reports as it works, for a host's metrics and alerts
 * (`createHerald({ onEvent })`). Handlers run synchronously and must not
 * throw; an exception is logged and dropped.
 */
export type HeraldEvent =
  /** One message's outcome from a push service (a retry is not final: another delivery event follows). */
  | {
      type: 'delivery';
      campaignId: string;
      occurrence: string;
      userId: UserId;
      target: Target;
      outcome: 'sent' | 'gone' | 'failed' | 'retry';
      pushService: PushServiceName;
      /** The push service's HTTP status, when it answered. */
      status?: number;
      /** The service's reason, for anything but sent. */
      reason?: string;
    }
  /** An occurrence's audience started fanning out. */
  | { type: 'occurrence-started'; campaignId: string; occurrence: string }
  /** An occurrence's whole audience has been read and queued for delivery. */
  | { type: 'occurrence-finished'; campaignId: string; occurrence: string }
  /** A campaign changed status (by a command or by the scheduler). */
  | { type: 'campaign-status'; campaignId: string; from: CampaignStatus; to: CampaignStatus }
  /** A push service failed most recent requests: Herald holds back sends to it until a probe succeeds. */
  | { type: 'circuit-open'; pushService: PushServiceName; campaignId: string; reason: string };

export type HeraldEventType = HeraldEvent['type'];

/** The engine a host assembled with `createHerald`. */
export interface Herald {
  /** Create, schedule, pause, resume, stop, and read campaigns and their stats. */
  readonly campaigns: CampaignService;
  /** Saved segments and reach estimates. */
  readonly segments: SegmentService;
  /** The users campaigns address, with their properties and time zone. */
  readonly profiles: ProfileService;
  /** The browsers and devices each user can be reached on. */
  readonly subscriptions: SubscriptionService;
  /** What users do: segments on behaviour, live campaigns, conversions. */
  readonly events: EventService;
  /** Viewed, clicked and closed reports from service workers. */
  readonly reports: ReportService;
  /** The endpoint policy subscriptions are checked against (known push services plus `allowEndpoint`). */
  readonly endpoints: EndpointPolicy;
  /** One deterministic pass: start due occurrences, then run every job that is due now. */
  tick(): Promise<{ started: number; jobs: number }>;
  /** Runs the scheduler and workers in this process until `stop()`. */
  start(): void;
  /**
   * Stops claiming, lets running jobs finish for up to `tuning.shutdownTimeoutMs`
   * (10 s), gives back to the queue any job still running (due again at once),
   * then closes the providers' connections. Call it on SIGTERM.
   */
  stop(): Promise<void>;
  /**
   * Retention: deletes tracked events, decision-log entries and failed queue
   * jobs older than the ages given (`{ olderThan: { events: '180d', decisions:
   * '90d', jobs: '30d' } }`), in bounded batches, each its own short
   * statement; returns per kind the cutoff and how many went, and logs them.
   * Keeps what live campaigns and conversion attribution still read (the
   * cutoff moves back); stats, runs and timelines are unchanged. Meant for a
   * daily cron (`herald-prune` in @herald/adapter-postgres); see docs/RETENTION.md.
   */
  prune(options: PruneInput): Promise<PruneResult>;
  /** Verifies a report token from a service worker (same as `reports.verifyToken`). */
  verifyReportToken(token: string): ReportClaims | null;
  /**
   * What this process has under way right now: jobs running, push requests
   * awaiting an answer, answers not yet stored. `requests + unrecorded` is
   * what a SIGKILL at this moment could send twice (docs/ARCHITECTURE.md).
   */
  inFlight(): InFlight;
}
