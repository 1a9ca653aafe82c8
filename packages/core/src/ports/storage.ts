import type {
  BrowserClass,
  Campaign,
  CampaignHistoryEntry,
  CampaignId,
  CampaignStatus,
  Conversion,
  ConversionTallies,
  Decision,
  Delivery,
  Profile,
  ReachEstimate,
  Recipient,
  RecipientState,
  SavedSegment,
  SegmentDefinition,
  SegmentId,
  SkipReason,
  Subscription,
  SubscriptionId,
  UserEvent,
  UserId,
} from '../model/index.js';
import type { PruneBatch } from './queue.js';

/**
 * A recipient row to insert. One inserted already decided (control, skipped) may carry the decision
 * that records why: it is appended only if this row is new, in the same atomic step as the row.
 */
export type RecipientInsert = Recipient & { decision?: Decision };

/** What `insertRecipients` wrote: the rows that were new. */
export interface InsertedRecipients {
  inserted: number;
  /** The new rows' user ids, in no particular order. */
  insertedUserIds: UserId[];
}

/** One subscription to remove: with `ifEndpoint`, only while its stored address is still that one. */
export interface SubscriptionRemoval {
  id: SubscriptionId;
  ifEndpoint?: string;
}

export interface StorageCapabilities {
  /** Segments are evaluated inside the store (SQL) rather than by scanning profiles in Node. */
  nativeSegments: boolean;
  /**
   * Other processes can open the same data (a database server), so several
   * Herald processes may work on one campaign. `createHerald` then requires
   * `counters` shared the same way, instead of counting caps per process.
   * Absent means false: in-process storage (memory, PGlite).
   */
  shared?: boolean;
}

export interface AudiencePage {
  /** Keyset cursor: return users with id > after (null = from the start), ascending by id. */
  after: UserId | null;
  limit: number;
  /** The evaluation instant, for relative dates ("30 days ago"). */
  now: Date;
}

export interface CampaignFilter {
  status?: readonly CampaignStatus[];
  label?: string;
  /** Only campaigns whose nextRunAt <= dueBy. */
  dueBy?: Date;
}

export interface RecipientUpdate {
  campaignId: CampaignId;
  occurrence: string;
  userId: UserId;
  state: RecipientState;
  reason: SkipReason | null;
  /**
   * The decision this transition out of `pending` records (sent, skipped, undeliverable). With it,
   * the update applies only to a row still `pending`, and the row's new state and this decision are
   * written together or not at all: a job that fails after settling its recipients can neither lose
   * their decisions (its re-run finds nothing pending) nor double them (a second settle of the same
   * row finds it moved and appends nothing).
   */
  decision?: Decision;
}

/** A service-worker report (viewed / clicked / closed), recorded once per reportId. */
export interface Interaction {
  reportId: string;
  campaignId: CampaignId;
  occurrence: string;
  userId: UserId;
  kind: 'viewed' | 'clicked' | 'closed';
  action: string | null;
  at: Date;
  /**
   * The browser that showed the message, as its report token claims (or, for
   * a token signed before tokens claimed one, the run's latest message sent
   * to the user); null or absent when unknown, counted as `other`, `web-push`.
   */
  browser?: BrowserClass | null;
}

export interface StoredCampaignTallies {
  recipients: Record<RecipientState, number>;
  skipped: Record<string, number>;
  deliveries: Record<Delivery['status'], number>;
  interactions: { viewed: number; clicked: number; closed: number; clickedByAction: Record<string, number> };
}

// ---- campaign statistics ----

/**
 * One audience page that fan-out turned into delivery jobs: how many users
 * it queued. Recorded once per (campaign, occurrence, page key), so a page
 * re-run after a crash counts once; the users queued but not yet admitted
 * (no recipient row yet) are the run's `queued` figure.
 */
export interface AudiencePageRecord {
  campaignId: CampaignId;
  occurrence: string;
  /** The page's keyset cursor (the last user id of the page before; '' for the first page). */
  after: string;
  /** Users read on this page (queued in delivery jobs, or skipped as `time-passed`). */
  users: number;
  /** True on the occurrence's last page: its whole audience is queued. */
  last: boolean;
  at: Date;
}

/** One occurrence's tallies, as the storage counts them (grouped in the store, never listed). */
export interface StoredOccurrenceTallies extends StoredCampaignTallies {
  occurrence: string;
  /** Distinct users with at least one report of each kind. */
  interactionUsers: { viewed: number; clicked: number; closed: number };
  conversions: ConversionTallies;
  /** Users read by the occurrence's audience pages (0 when none were recorded: live runs, older data). */
  paged: number;
  /** True when the occurrence's last audience page was recorded. */
  pagedAll: boolean;
  /** The latest `updatedAt` of a recipient in a final state (not pending); null when none. */
  lastSettledAt: Date | null;
}

/**
 * One time bucket of a campaign's timeline (`campaignTimeline`): messages sent
 * (deliveries `sent`, by their time), service-worker reports (by report time)
 * and recipients' conversions (by conversion time; control is left out).
 */
export interface StoredTimelineBucket {
  /** The bucket's first instant: a local hour or day start in the zone, or the hourly cutoff for the first day bucket. */
  start: Date;
  unit: 'hour' | 'day';
  sent: number;
  viewed: number;
  clicked: number;
  conversions: number;
  revenue: number;
}

/**
 * One (browser, target) of a campaign's deliveries (`campaignBrowsers`).
 * Messages count under the browser stored on each delivery, reports under
 * the one stored on each report (`Interaction.browser`), conversions under
 * the one stored on each (`Conversion.browser`); null counts as `other`,
 * `web-push`. So each figure adds up over the entries to the campaign's own.
 */
export interface StoredBrowserTally extends BrowserClass {
  /** Distinct (run, user) pairs with a message sent there. */
  users: number;
  /** Messages with each final outcome; `failed` counts `failed` and `gone`. */
  sent: number;
  failed: number;
  /** Viewed and clicked reports, recipients' conversions (control left out) and their revenue, each by its own browser. */
  viewed: number;
  clicked: number;
  conversions: number;
  revenue: number;
}

/**
 * Everything Herald keeps. Adapters store and return exactly what they are
 * given; rules live in the engine. Methods that read rows back parse them,
 * so a malformed row fails with CorruptRecordError naming the table and id.
 */
export interface Storage {
  readonly capabilities: StorageCapabilities;

  // Profiles
  upsertProfile(profile: Profile): Promise<void>;
  getProfile(userId: UserId): Promise<Profile | null>;
  getProfiles(userIds: readonly UserId[]): Promise<Profile[]>;
  /**
   * The users among these ids who have a profile, each with its zone (null when it has none):
   * what a subscription import needs to know of each subscriber, without reading and parsing
   * whole profiles.
   */
  getProfileZones(userIds: readonly UserId[]): Promise<Map<UserId, string | null>>;
  /**
   * Bulk imports: each profile stored as `upsertProfile` stores it, in as few
   * statements as the store allows; a user id given twice keeps the last.
   */
  upsertProfiles(profiles: readonly Profile[]): Promise<void>;

  // Subscriptions (the id is derived from the endpoint or device token, so re-adding is an upsert)
  upsertSubscription(subscription: Subscription): Promise<void>;
  getSubscription(id: SubscriptionId): Promise<Subscription | null>;
  /**
   * Bulk imports: each stored as `upsertSubscription` stores it; an id given twice keeps the last.
   * `profiles` (the profiles the subscribers need) are stored as `upsertProfiles` stores them, in
   * the same write: the profiles and the subscriptions land together or not at all.
   */
  upsertSubscriptions(
    subscriptions: readonly Subscription[],
    options?: { profiles?: readonly Profile[] },
  ): Promise<void>;
  /** The stored subscriptions among these ids, each once, in the order asked; unknown ids are left out. */
  getSubscriptions(ids: readonly SubscriptionId[]): Promise<Subscription[]>;
  listSubscriptions(userIds: readonly UserId[]): Promise<Subscription[]>;
  /**
   * Removes a subscription. With `ifEndpoint`, only when the stored endpoint
   * is still that one, so a subscription refreshed meanwhile is kept.
   */
  removeSubscription(id: SubscriptionId, options?: { ifEndpoint?: string }): Promise<boolean>;
  /**
   * `removeSubscription` of several at once, true for each one removed (an id named twice is removed
   * once: its later mention answers false). A delivery job removes the subscriptions its push service
   * answered gone with this, one write per group of outcomes. Optional: the engine falls back to one
   * `removeSubscription` per subscription, so a storage without it works, with a write per removal.
   */
  removeSubscriptions?(removals: readonly SubscriptionRemoval[]): Promise<boolean[]>;

  // Events
  appendEvents(events: readonly UserEvent[]): Promise<void>;
  /** A user's events, oldest first, optionally by name and time range [from, to). */
  listEvents(query: { userId: UserId; name?: string; from?: Date; to?: Date }): Promise<UserEvent[]>;
  /**
   * Retention: deletes up to `limit` events with time < before, oldest first
   * where the store can tell cheaply; returns how many. Whatever reads events
   * (segments, latest instants, live triggers) sees them gone at once.
   */
  pruneEvents(batch: PruneBatch): Promise<number>;

  // Campaigns
  insertCampaign(campaign: Campaign): Promise<void>;
  getCampaign(id: CampaignId): Promise<Campaign | null>;
  /** Writes `campaign` only if the stored version is `expectedVersion`; true when written. */
  updateCampaign(campaign: Campaign, expectedVersion: number): Promise<boolean>;
  listCampaigns(filter?: CampaignFilter): Promise<Campaign[]>;

  // ---- campaign history and deletion ----
  /** Appends one entry to a campaign's history (several entries may name one version: a duplicate does not bump it). */
  appendCampaignHistory(entry: CampaignHistoryEntry): Promise<void>;
  /** A campaign's history in the order appended; empty when it has none. */
  listCampaignHistory(campaignId: CampaignId): Promise<CampaignHistoryEntry[]>;
  /**
   * Removes a campaign and its history, only while its stored version is
   * `expectedVersion` (so a concurrent change wins); true when removed.
   * Whether it may be removed (drafts only) is the engine's rule.
   */
  deleteCampaign(id: CampaignId, expectedVersion: number): Promise<boolean>;

  // Audience
  /** One page of the user ids matching the segment, ascending, strictly after `page.after`. */
  selectAudience(segment: SegmentDefinition, page: AudiencePage): Promise<UserId[]>;
  countAudience(segment: SegmentDefinition, now: Date): Promise<number>;
  /**
   * How many users match, and how many of those have at least one live
   * subscription (any target, web push, Safari): one pass, nothing sent.
   * "Live" is the reference evaluator's rule 13.
   */
  estimateReach(segment: SegmentDefinition, now: Date): Promise<ReachEstimate>;
  /** Test profiles (`test: true`), ascending by user id, at most `limit`. */
  listTestProfiles(limit: number): Promise<Profile[]>;

  // Saved segments
  /** Inserts a new saved segment; ConflictError when the id exists. */
  insertSegment(segment: SavedSegment): Promise<void>;
  getSegment(id: SegmentId): Promise<SavedSegment | null>;
  /** Replaces a stored segment; false when there is none with that id. */
  updateSegment(segment: SavedSegment): Promise<boolean>;
  /** Every saved segment, by name then id. */
  listSegments(): Promise<SavedSegment[]>;
  /** True when a segment was deleted. Whether it may be (campaigns using it) is the engine's rule. */
  deleteSegment(id: SegmentId): Promise<boolean>;

  // Per-recipient decisions and per-subscription outcomes
  /**
   * Inserts recipients that do not exist yet for (campaign, occurrence, user),
   * leaving those that already exist untouched. Many rows per statement.
   * Returns how many were new and their user ids (in no particular order): a
   * caller inserting one run's rows learns which of its users it admitted
   * without reading them back. A row's `decision` is appended with it when, and only when, the row
   * is new (one statement or transaction; in process, without awaiting between the two).
   */
  insertRecipients(recipients: readonly RecipientInsert[]): Promise<InsertedRecipients>;
  getRecipients(campaignId: CampaignId, occurrence: string, userIds: readonly UserId[]): Promise<Recipient[]>;
  /**
   * Sets each row's state and reason. An update with a `decision` applies only when the row is
   * still `pending`, and then appends its decision in the same atomic step (one statement or
   * transaction; for an in-process store, without awaiting between the two); on a row already moved
   * it does nothing, so applying the same updates twice appends each decision once. An update
   * without one applies to the row whatever its state.
   */
  updateRecipients(updates: readonly RecipientUpdate[], now: Date): Promise<void>;
  /** Records final delivery outcomes; a second outcome for the same (campaign, occurrence, subscription) is ignored. */
  recordDeliveries(deliveries: readonly Delivery[]): Promise<void>;
  /**
   * The outcomes stored for these users in one run, in user id then subscription id order (code
   * point order), so that what is built from them (a decision's `facts.outcomes`) reads the same
   * on every storage and whichever path settled the user.
   */
  listDeliveries(campaignId: CampaignId, occurrence: string, userIds: readonly UserId[]): Promise<Delivery[]>;

  /** Records a report once; false when this reportId was seen before. */
  recordInteraction(interaction: Interaction): Promise<boolean>;

  campaignTallies(campaignId: CampaignId): Promise<StoredCampaignTallies>;

  // Decision log and conversions: what explain and last-touch attribution read back
  /** Appends decisions as given (a log: nothing is deduplicated or replaced). */
  appendDecisions(decisions: readonly Decision[]): Promise<void>;
  /**
   * One user's decisions, oldest first (append order on equal `at`), optionally
   * only one campaign's and only those with at >= since.
   */
  listDecisions(query: { userId: UserId; campaignId?: CampaignId; since?: Date }): Promise<Decision[]>;
  /** Retention: deletes up to `limit` decisions with at < before; returns how many. Tallies and stats do not read them. */
  pruneDecisions(batch: PruneBatch): Promise<number>;
  /** One user's service-worker reports with at >= since (all when absent), oldest first. */
  listInteractions(query: { userId: UserId; since?: Date }): Promise<Interaction[]>;
  /** Records a conversion once per (campaign, occurrence, user); false when one was already there. */
  recordConversion(conversion: Conversion): Promise<boolean>;
  /** One campaign's conversions and revenue (sum of non-null revenue), recipients and control apart. */
  conversionTallies(campaignId: CampaignId): Promise<ConversionTallies>;

  // ---- campaign statistics ----
  /** Records an audience page once per (campaign, occurrence, after); false when it was already there. */
  recordAudiencePage(page: AudiencePageRecord): Promise<boolean>;
  /**
   * The audience page fan-out recorded for this campaign, occurrence and cursor, or null. A recorded
   * page has its jobs queued (a page is recorded after them).
   */
  getAudiencePage(
    page: Pick<AudiencePageRecord, 'campaignId' | 'occurrence' | 'after'>,
  ): Promise<AudiencePageRecord | null>;
  /**
   * One campaign's tallies per occurrence, ascending by occurrence id; empty
   * for an unknown campaign. With `dayIn` (an IANA zone), occurrences are
   * grouped by the calendar day in that zone of the last ISO 8601 UTC instant
   * with milliseconds in their id (a scheduled run's id is its instant; live
   * ids are `event:<instant>:…`, `inaction:<instant>`, `reminder:<key>:<instant>`,
   * one occurrence per trigger),
   * and `occurrence` is that day, `YYYY-MM-DD` (the id itself when it holds no instant).
   */
  occurrenceTallies(campaignId: CampaignId, options?: { dayIn?: string }): Promise<StoredOccurrenceTallies[]>;
  /**
   * A campaign's figures over time, ascending by start, empty buckets left
   * out; empty when the campaign has no sent delivery. The cutoff is the start
   * of the local hour (in `zone`, an IANA zone) of the first sent delivery
   * plus `hourlyFor` hours: rows before it are grouped by local hour, rows on
   * or after it by local day, the first day bucket starting at the cutoff.
   * Rows before the first local hour (a report older than any send) fall in
   * their own hour.
   */
  campaignTimeline(
    campaignId: CampaignId,
    options: { zone: string; hourlyFor: number },
  ): Promise<StoredTimelineBucket[]>;
  /**
   * A campaign's deliveries, reports and recipients' conversions by the
   * browser and target stored on each: one entry per (browser, target) with
   * any of them, in no particular order; rows whose browser is unknown (null)
   * count as `other`, `web-push`. Read from tallies where the storage keeps
   * them (Postgres: migration 013), not by grouping every row.
   */
  campaignBrowsers(campaignId: CampaignId): Promise<StoredBrowserTally[]>;
}
