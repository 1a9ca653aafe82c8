import { DateTime } from 'luxon';
import type { z } from 'zod';
import { ConflictError, CorruptRecordError, ValidationError } from '../errors/index.js';
import {
  type BrowserClass,
  Campaign,
  CampaignHistoryEntry,
  Conversion,
  type ConversionTallies,
  Decision,
  Delivery,
  Profile,
  type ReachEstimate,
  Recipient,
  SavedSegment,
  type SegmentDefinition,
  Subscription,
  UserEvent,
  type UserId,
} from '../model/index.js';
import { emptyOccurrenceTallies } from '../ports/empty-tallies.js';
import type { PruneBatch } from '../ports/queue.js';
import type {
  AudiencePageRecord,
  Interaction,
  Storage,
  StoredBrowserTally,
  StoredCampaignTallies,
  StoredOccurrenceTallies,
  StoredTimelineBucket,
  SubscriptionRemoval,
} from '../ports/storage.js';
import { evaluateSegment, isLiveSubscription, type SegmentSubject } from '../segments/evaluate.js';
import { type SegmentReads, segmentReads } from '../segments/reads.js';
import { privateCopy } from './memory-storage-copy.js';

/**
 * What a memory storage holds. Rows are kept as written (a private copy,
 * never parsed), as a database keeps what it was given; every read parses
 * them with the model's schema (`read` below). Beside the rows, the indexes
 * that keep a campaign of 100,000 users from being quadratic: each one is
 * kept by the storage's writes, and names the read it serves.
 */
export interface MemoryTables {
  /** By user id. */
  profiles: Map<string, Profile>;
  /** Every profile's user id in keyset order (`compareIds`) for audience pages; null until a page needs it after a new profile. */
  sortedUserIds: string[] | null;
  /** By subscription id. */
  subscriptions: Map<string, Subscription>;
  /** A user's subscription ids, in the order first stored for that user (`listSubscriptions`). */
  subscriptionsByUser: Map<string, Set<string>>;
  /** The event log, in append order; a row's id is its position. */
  events: UserEvent[];
  /** A user's positions in the event log (`listEvents`, behaviour segments). */
  eventsByUser: Map<string, number[]>;
  /** By campaign id. */
  campaigns: Map<string, Campaign>;
  /** By campaign id, each campaign's entries in append order. */
  campaignHistory: Map<string, CampaignHistoryEntry[]>;
  /** By segment id. */
  segments: Map<string, SavedSegment>;
  /** By campaign, occurrence and user: a delivery job reads its users of one occurrence, tallies read one campaign. */
  recipients: Map<string, Map<string, Map<string, Recipient>>>;
  /** By campaign and occurrence. */
  deliveries: Map<string, Map<string, OccurrenceDeliveries>>;
  /** By report id. */
  interactions: Map<string, Interaction>;
  /** A user's reports, in the order recorded (`listInteractions`). */
  interactionsByUser: Map<string, Interaction[]>;
  /** The decision log, in append order; a row's id is its position. */
  decisions: Decision[];
  /** A user's positions in the decision log (`listDecisions`, asked per user by explain and triggers). */
  decisionsByUser: Map<string, number[]>;
  /** By campaign, then `occurrence/user` (one conversion each). */
  conversions: Map<string, Map<string, Conversion>>;
  /** By campaign, then `occurrence/after` (one record per audience page). */
  audiencePages: Map<string, Map<string, AudiencePageRecord>>;
}

/** The outcomes of one (campaign, occurrence). */
export interface OccurrenceDeliveries {
  /** Subscriptions with an outcome: the first one is kept, later ones ignored. */
  subscriptionIds: Set<string>;
  /** The outcomes by user, as `listDeliveries` asks for them. */
  byUser: Map<string, Delivery[]>;
}

export function emptyTables(): MemoryTables {
  return {
    profiles: new Map(),
    sortedUserIds: null,
    subscriptions: new Map(),
    subscriptionsByUser: new Map(),
    events: [],
    eventsByUser: new Map(),
    campaigns: new Map(),
    campaignHistory: new Map(),
    segments: new Map(),
    recipients: new Map(),
    deliveries: new Map(),
    interactions: new Map(),
    interactionsByUser: new Map(),
    decisions: [],
    decisionsByUser: new Map(),
    conversions: new Map(),
    audiencePages: new Map(),
  };
}

/**
 * Where a memory storage keeps its tables, for the testing inspector. A
 * registered symbol (not a module-level WeakMap) so that the `@herald/core`
 * and `@herald/core/testing` bundles, which each carry their own copy of this
 * module, still find the same tables.
 */
const MEMORY_TABLES = Symbol.for('@herald/core/memory-storage/tables');

/** The tables behind a storage made by `memoryStorage()`, or null for any other storage. */
export function memoryTablesOf(storage: Storage): MemoryTables | null {
  const tables = (storage as unknown as Record<symbol, unknown>)[MEMORY_TABLES];
  return tables ? (tables as MemoryTables) : null;
}

/**
 * Storage in process memory: for tests, demos and single-process hosts that
 * accept losing everything on restart, and the executable specification of
 * the Storage port (every adapter passes the same conformance suite).
 *
 * - A write stores a structured clone of what it was given, unchecked, so a
 *   caller changing its object afterwards changes nothing stored (rows written
 *   per message or event are copied by `privateCopy`, the same copy made by hand).
 * - A read parses the stored row with the model's schema, which builds a
 *   fresh tree (new objects, arrays and Dates), so a caller cannot change
 *   what is stored through what it read either. A malformed row fails with
 *   CorruptRecordError naming the table and the row's id.
 * - Reads filter on index keys before parsing anything: a delivery job of
 *   a 100,000-user campaign parses its own users' rows, not the table's.
 * - Segments are evaluated in Node by the reference evaluator
 *   (`capabilities.nativeSegments = false`).
 */
export function memoryStorage(): Storage {
  const tables = emptyTables();

  const profileOf = (userId: string): Profile | null => {
    const row = tables.profiles.get(userId);
    return row === undefined ? null : read(Profile, 'profiles', userId, row);
  };
  const subscriptionsOf = (userId: string): Subscription[] =>
    [...(tables.subscriptionsByUser.get(userId) ?? [])].map((id) =>
      read(Subscription, 'subscriptions', id, tables.subscriptions.get(id)),
    );
  const removeSubscription = ({ id, ifEndpoint }: SubscriptionRemoval): boolean => {
    const row = tables.subscriptions.get(id);
    if (row === undefined) return false;
    const stored = read(Subscription, 'subscriptions', id, row);
    if (ifEndpoint !== undefined && addressOf(stored) !== ifEndpoint) return false;
    tables.subscriptions.delete(id);
    tables.subscriptionsByUser.get(row.userId)?.delete(id);
    return true;
  };
  /** A user's events, in append order. */
  const eventsOf = (userId: string): UserEvent[] =>
    (tables.eventsByUser.get(userId) ?? []).map((position) =>
      read(UserEvent, 'events', String(position), tables.events[position]),
    );

  /** Appends one decision to the log and its user's index (`appendDecisions`, and a transition's own). */
  const appendDecision = (decision: Decision): void => {
    const position = tables.decisions.push(privateCopy(decision)) - 1;
    entry(tables.decisionsByUser, decision.userId, () => []).push(position);
  };

  /** A profile with what the segment reads of the user's events and subscriptions. */
  const subjectOf = (profile: Profile, reads: SegmentReads): SegmentSubject => ({
    profile,
    ...(reads.events ? { events: eventsOf(profile.userId) } : {}),
    ...(reads.subscriptions ? { subscriptions: subscriptionsOf(profile.userId) } : {}),
  });

  /** Every profile, in keyset order, from just after `after`. */
  function* profilesAfter(after: string | null): Generator<Profile> {
    tables.sortedUserIds ??= [...tables.profiles.keys()].sort(compareIds);
    const ids = tables.sortedUserIds;
    for (let index = after === null ? 0 : firstAfter(ids, after); index < ids.length; index += 1) {
      const profile = profileOf(ids[index] as string);
      if (profile) yield profile;
    }
  }

  /** Every user the segment matches, with what it read of them (table order: callers that need order use `profilesAfter`). */
  function* matching(segment: SegmentDefinition, now: Date, reads: SegmentReads): Generator<SegmentSubject> {
    for (const userId of tables.profiles.keys()) {
      const subject = subjectOf(profileOf(userId) as Profile, reads);
      if (evaluateSegment(segment, subject, now)) yield subject;
    }
  }

  const storage: Storage = {
    capabilities: { nativeSegments: false },

    async upsertProfile(profile) {
      if (!tables.profiles.has(profile.userId)) tables.sortedUserIds = null;
      tables.profiles.set(profile.userId, privateCopy(profile));
    },
    async getProfile(userId) {
      return profileOf(userId);
    },
    async getProfiles(userIds) {
      return unique(userIds).flatMap((userId) => profileOf(userId) ?? []);
    },
    async getProfileZones(userIds) {
      const zones = new Map<UserId, string | null>();
      for (const userId of unique(userIds)) {
        const profile = profileOf(userId);
        if (profile) zones.set(userId, profile.timezone ?? null);
      }
      return zones;
    },
    async upsertProfiles(profiles) {
      for (const profile of profiles) await storage.upsertProfile(profile);
    },

    async upsertSubscription(subscription) {
      const previous = tables.subscriptions.get(subscription.id);
      // A browser that subscribes as someone else moves its subscription to that user.
      if (previous && previous.userId !== subscription.userId) {
        tables.subscriptionsByUser.get(previous.userId)?.delete(subscription.id);
      }
      tables.subscriptions.set(subscription.id, privateCopy(subscription));
      entry(tables.subscriptionsByUser, subscription.userId, () => new Set()).add(subscription.id);
    },
    async getSubscription(id) {
      const row = tables.subscriptions.get(id);
      return row === undefined ? null : read(Subscription, 'subscriptions', id, row);
    },
    async upsertSubscriptions(subscriptions, options) {
      await storage.upsertProfiles(options?.profiles ?? []);
      for (const subscription of subscriptions) await storage.upsertSubscription(subscription);
    },
    async getSubscriptions(ids) {
      const found: Subscription[] = [];
      for (const id of unique(ids)) {
        const subscription = await storage.getSubscription(id);
        if (subscription) found.push(subscription);
      }
      return found;
    },
    async listSubscriptions(userIds) {
      return unique(userIds).flatMap(subscriptionsOf);
    },
    async removeSubscription(id, options) {
      return removeSubscription({ id, ...options });
    },
    async removeSubscriptions(removals) {
      return removals.map(removeSubscription);
    },

    async appendEvents(events) {
      for (const event of events) {
        const position = tables.events.push(privateCopy(event)) - 1;
        entry(tables.eventsByUser, event.userId, () => []).push(position);
      }
    },
    async listEvents({ userId, name, from, to }) {
      // The sort is stable: events of the same instant stay in append order.
      return eventsOf(userId)
        .filter(
          (event) =>
            (name === undefined || event.name === name) &&
            (from === undefined || event.time >= from) &&
            (to === undefined || event.time < to),
        )
        .sort((a, b) => a.time.getTime() - b.time.getTime());
    },
    async pruneEvents(batch) {
      return pruneLog(tables.events, tables.eventsByUser, (event) => event.time, batch);
    },

    async insertCampaign(campaign) {
      if (tables.campaigns.has(campaign.id))
        throw new ConflictError(`Campaign ${campaign.id} already exists`);
      tables.campaigns.set(campaign.id, structuredClone(campaign));
    },
    async getCampaign(id) {
      const row = tables.campaigns.get(id);
      return row === undefined ? null : read(Campaign, 'campaigns', id, row);
    },
    async updateCampaign(campaign, expectedVersion) {
      const row = tables.campaigns.get(campaign.id);
      if (row === undefined || read(Campaign, 'campaigns', campaign.id, row).version !== expectedVersion)
        return false;
      tables.campaigns.set(campaign.id, structuredClone(campaign));
      return true;
    },
    async listCampaigns(filter = {}) {
      return [...tables.campaigns.entries()]
        .map(([id, row]) => read(Campaign, 'campaigns', id, row))
        .filter(
          (campaign) =>
            (filter.status === undefined || filter.status.includes(campaign.status)) &&
            (filter.label === undefined || campaign.labels.includes(filter.label)) &&
            (filter.dueBy === undefined ||
              (campaign.nextRunAt !== null && campaign.nextRunAt <= filter.dueBy)),
        )
        .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || compareIds(a.id, b.id));
    },

    // ---- campaign history and deletion ----
    async appendCampaignHistory(entry) {
      const entries = tables.campaignHistory.get(entry.campaignId) ?? [];
      entries.push(structuredClone(entry));
      tables.campaignHistory.set(entry.campaignId, entries);
    },
    async listCampaignHistory(campaignId) {
      return (tables.campaignHistory.get(campaignId) ?? []).map((row, position) =>
        read(CampaignHistoryEntry, 'campaign_history', `${campaignId}/${position}`, row),
      );
    },
    async deleteCampaign(id, expectedVersion) {
      const row = tables.campaigns.get(id);
      if (row === undefined || read(Campaign, 'campaigns', id, row).version !== expectedVersion) return false;
      tables.campaigns.delete(id);
      tables.campaignHistory.delete(id);
      return true;
    },

    async selectAudience(segment, page) {
      const selected: UserId[] = [];
      if (page.limit <= 0) return selected;
      const reads = segmentReads(segment);
      // From the cursor, only until the page is full: a page costs what it walks.
      for (const profile of profilesAfter(page.after)) {
        if (!evaluateSegment(segment, subjectOf(profile, reads), page.now)) continue;
        selected.push(profile.userId);
        if (selected.length >= page.limit) break;
      }
      return selected;
    },
    async countAudience(segment, now) {
      let count = 0;
      for (const _ of matching(segment, now, segmentReads(segment))) count += 1;
      return count;
    },
    async estimateReach(segment, now) {
      const estimate: ReachEstimate = { qualified: 0, reachable: { total: 0, webpush: 0, safari: 0 } };
      const reads = { ...segmentReads(segment), subscriptions: true };
      for (const subject of matching(segment, now, reads)) {
        estimate.qualified += 1;
        const live = (subject.subscriptions ?? []).filter((s) => isLiveSubscription(s, now));
        if (live.length > 0) estimate.reachable.total += 1;
        if (live.some((s) => s.target === 'webpush')) estimate.reachable.webpush += 1;
        if (live.some((s) => s.target === 'safari')) estimate.reachable.safari += 1;
      }
      return estimate;
    },
    async listTestProfiles(limit) {
      const found: Profile[] = [];
      if (limit <= 0) return found;
      for (const profile of profilesAfter(null)) {
        if (profile.test) found.push(profile);
        if (found.length >= limit) break;
      }
      return found;
    },

    async insertSegment(segment) {
      if (tables.segments.has(segment.id)) throw new ConflictError(`Segment ${segment.id} already exists`);
      tables.segments.set(segment.id, structuredClone(segment));
    },
    async getSegment(id) {
      const row = tables.segments.get(id);
      return row === undefined ? null : read(SavedSegment, 'segments', id, row);
    },
    async updateSegment(segment) {
      if (!tables.segments.has(segment.id)) return false;
      tables.segments.set(segment.id, structuredClone(segment));
      return true;
    },
    async listSegments() {
      return [...tables.segments.entries()]
        .map(([id, row]) => read(SavedSegment, 'segments', id, row))
        .sort((a, b) => compareIds(a.name, b.name) || compareIds(a.id, b.id));
    },
    async deleteSegment(id) {
      return tables.segments.delete(id);
    },

    async insertRecipients(recipients) {
      const insertedUserIds: UserId[] = [];
      for (const recipient of recipients) {
        const occurrence = entry(
          entry(tables.recipients, recipient.campaignId, () => new Map()),
          recipient.occurrence,
          () => new Map(),
        );
        if (occurrence.has(recipient.userId)) continue;
        // Copied field by field, not by a rest pattern: that copy went through V8's slow path per row.
        // Every key of Recipient, optional ones too, is required here, so a field added to the model
        // cannot be left out of the stored row in silence.
        const { decision } = recipient;
        const row: { [Key in keyof Required<Recipient>]: Recipient[Key] } = {
          campaignId: recipient.campaignId,
          occurrence: recipient.occurrence,
          userId: recipient.userId,
          state: recipient.state,
          reason: recipient.reason,
          createdAt: recipient.createdAt,
          updatedAt: recipient.updatedAt,
        };
        occurrence.set(recipient.userId, privateCopy(row));
        if (decision !== undefined) appendDecision(decision);
        insertedUserIds.push(recipient.userId);
      }
      return { inserted: insertedUserIds.length, insertedUserIds };
    },
    async getRecipients(campaignId, occurrence, userIds) {
      const rows = tables.recipients.get(campaignId)?.get(occurrence);
      if (!rows) return [];
      return unique(userIds).flatMap((userId) => {
        const row = rows.get(userId);
        return row === undefined ? [] : [readRecipient(row)];
      });
    },
    async updateRecipients(updates, now) {
      for (const update of updates) {
        const rows = tables.recipients.get(update.campaignId)?.get(update.occurrence);
        const row = rows?.get(update.userId);
        if (rows === undefined || row === undefined) continue;
        // A transition that records a decision happens once: a row another job moved keeps its state.
        if (update.decision !== undefined && row.state !== 'pending') continue;
        if (update.decision !== undefined) appendDecision(update.decision);
        rows.set(update.userId, {
          ...row,
          state: update.state,
          reason: update.reason,
          updatedAt: new Date(now),
        });
      }
    },
    async recordDeliveries(deliveries) {
      for (const delivery of deliveries) {
        const occurrence = entry(
          entry(tables.deliveries, delivery.campaignId, () => new Map()),
          delivery.occurrence,
          (): OccurrenceDeliveries => ({ subscriptionIds: new Set(), byUser: new Map() }),
        );
        if (occurrence.subscriptionIds.has(delivery.subscriptionId)) continue;
        occurrence.subscriptionIds.add(delivery.subscriptionId);
        entry(occurrence.byUser, delivery.userId, (): Delivery[] => []).push(privateCopy(delivery));
      }
    },
    async listDeliveries(campaignId, occurrence, userIds) {
      const rows = tables.deliveries.get(campaignId)?.get(occurrence);
      if (!rows) return [];
      // In user, then subscription id order, as the port promises (a database reads them so from its key).
      return unique(userIds)
        .sort(compareIds)
        .flatMap((userId) =>
          [...(rows.byUser.get(userId) ?? [])]
            .sort((a, b) => compareIds(a.subscriptionId, b.subscriptionId))
            .map(readDelivery),
        );
    },

    async recordInteraction(interaction) {
      if (tables.interactions.has(interaction.reportId)) return false;
      const row = privateCopy(interaction);
      tables.interactions.set(row.reportId, row);
      entry(tables.interactionsByUser, row.userId, () => []).push(row);
      return true;
    },

    async campaignTallies(campaignId) {
      const tallies: StoredCampaignTallies = {
        recipients: { pending: 0, delivered: 0, undeliverable: 0, skipped: 0, control: 0 },
        skipped: {},
        deliveries: { sent: 0, failed: 0, gone: 0 },
        interactions: { viewed: 0, clicked: 0, closed: 0, clickedByAction: {} },
      };
      for (const rows of tables.recipients.get(campaignId)?.values() ?? []) {
        for (const row of rows.values()) {
          const recipient = readRecipient(row);
          tallies.recipients[recipient.state] += 1;
          if (recipient.state === 'skipped' && recipient.reason !== null)
            increment(tallies.skipped, recipient.reason);
        }
      }
      for (const rows of tables.deliveries.get(campaignId)?.values() ?? []) {
        for (const userRows of rows.byUser.values()) {
          for (const row of userRows) tallies.deliveries[readDelivery(row).status] += 1;
        }
      }
      // Interactions are not indexed by campaign: only stats read them so, never a delivery.
      for (const interaction of tables.interactions.values()) {
        if (interaction.campaignId !== campaignId) continue;
        tallies.interactions[interaction.kind] += 1;
        if (interaction.kind === 'clicked' && interaction.action !== null)
          increment(tallies.interactions.clickedByAction, interaction.action);
      }
      return tallies;
    },

    async appendDecisions(decisions) {
      for (const decision of decisions) appendDecision(decision);
    },
    async listDecisions({ userId, campaignId, since }) {
      // The sort is stable: decisions of the same instant stay in append order.
      return (tables.decisionsByUser.get(userId) ?? [])
        .map((position) => read(Decision, 'decisions', String(position), tables.decisions[position]))
        .filter(
          (decision) =>
            (campaignId === undefined || decision.campaignId === campaignId) &&
            (since === undefined || decision.at >= since),
        )
        .sort((a, b) => a.at.getTime() - b.at.getTime());
    },
    async pruneDecisions(batch) {
      return pruneLog(tables.decisions, tables.decisionsByUser, (decision) => decision.at, batch);
    },
    async listInteractions({ userId, since }) {
      // Reports have no model schema (the HTTP handlers check them): a copy is what a caller gets.
      return (tables.interactionsByUser.get(userId) ?? [])
        .filter((interaction) => since === undefined || interaction.at >= since)
        .map((interaction) => structuredClone(interaction))
        .sort((a, b) => a.at.getTime() - b.at.getTime());
    },
    async recordConversion(conversion) {
      const rows = entry(tables.conversions, conversion.campaignId, () => new Map());
      const key = `${conversion.occurrence}/${conversion.userId}`;
      if (rows.has(key)) return false;
      rows.set(key, privateCopy(conversion));
      return true;
    },
    async conversionTallies(campaignId) {
      const tallies: ConversionTallies = {
        recipients: { conversions: 0, revenue: 0 },
        control: { conversions: 0, revenue: 0 },
      };
      for (const [key, row] of tables.conversions.get(campaignId) ?? []) {
        const conversion = read(Conversion, 'conversions', `${campaignId}/${key}`, row);
        const side = conversion.control ? tallies.control : tallies.recipients;
        side.conversions += 1;
        side.revenue += conversion.revenue ?? 0;
      }
      return tallies;
    },

    ...campaignStatistics(tables),
    ...campaignTimeline(tables),
    ...campaignBrowsers(tables),
  };

  Object.defineProperty(storage, MEMORY_TABLES, { value: tables, enumerable: false });
  return storage;
}

/**
 * A stored row as its model type: the schema's parse, a tree of its own.
 * A row that does not parse is a CorruptRecordError naming table and id
 * (its issues as ValidationError words them, so they read the same).
 */
function read<S extends z.ZodType>(schema: S, table: string, id: string, row: unknown): z.infer<S> {
  const parsed = schema.safeParse(row);
  if (parsed.success) return parsed.data;
  throw new CorruptRecordError(table, id, ValidationError.fromZod(table, parsed.error).issues);
}

const readRecipient = (row: Recipient): Recipient =>
  read(Recipient, 'recipients', `${row.campaignId}/${row.occurrence}/${row.userId}`, row);
const readDelivery = (row: Delivery): Delivery =>
  read(Delivery, 'deliveries', `${row.campaignId}/${row.occurrence}/${row.subscriptionId}`, row);

/** The address `removeSubscription({ ifEndpoint })` compares: the endpoint, or Safari's device token. */
function addressOf(subscription: Subscription): string {
  return subscription.target === 'webpush' ? subscription.endpoint : subscription.deviceToken;
}

/** Binary (UTF-16 code unit) order, the order keyset paging uses (PostgreSQL's COLLATE "C" for ASCII ids). */
const compareIds = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The index of the first id strictly after `after` in ascending `ids` (binary search). */
function firstAfter(ids: readonly string[], after: string): number {
  let low = 0;
  let high = ids.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareIds(ids[middle] as string, after) <= 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** The value at `key`, made by `make` and stored on first use. */
function entry<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

/**
 * Retention for an append-only log whose row ids are positions: removes the
 * `limit` oldest rows dated before `before` (log order on equal instants)
 * and renumbers the rest, rebuilding the per-user positions. One pass over
 * the whole log per batch: the reference keeps it plain, not fast.
 */
function pruneLog<Row extends { userId: string }>(
  log: Row[],
  byUser: Map<string, number[]>,
  instantOf: (row: Row) => Date,
  { before, limit }: PruneBatch,
): number {
  // Rows are stored as given, unchecked: a row without a readable instant is never taken for old.
  const timeOf = (row: Row): number => new Date(instantOf(row)).getTime();
  const old = log
    .map((row, position) => ({ position, time: timeOf(row) }))
    .filter((row) => row.time < before.getTime())
    .sort((a, b) => a.time - b.time || a.position - b.position)
    .slice(0, Math.max(0, limit));
  if (old.length === 0) return 0;
  const dropped = new Set(old.map((row) => row.position));
  const kept = log.filter((_, position) => !dropped.has(position));
  log.length = 0;
  byUser.clear();
  for (const row of kept) {
    const position = log.push(row) - 1;
    entry(byUser, row.userId, () => []).push(position);
  }
  return dropped.size;
}

const unique = <T extends string>(ids: readonly T[]): T[] => [...new Set(ids)];

function increment(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

/**
 * A campaign's figures over time: every row bucketed with luxon in the zone
 * (local hour and day starts, DST-safe), before or after the hourly cutoff.
 */
function campaignTimeline(tables: MemoryTables): Pick<Storage, 'campaignTimeline'> {
  return {
    async campaignTimeline(campaignId, { zone, hourlyFor }) {
      const sent: Date[] = [];
      for (const rows of tables.deliveries.get(campaignId)?.values() ?? []) {
        for (const userRows of rows.byUser.values()) {
          for (const row of userRows) {
            const delivery = readDelivery(row);
            if (delivery.status === 'sent') sent.push(delivery.at);
          }
        }
      }
      if (sent.length === 0) return [];
      // A loop, not Math.min(...sent): a spread of many thousand sends would overflow the stack.
      let first = Number.POSITIVE_INFINITY;
      for (const at of sent) first = Math.min(first, at.getTime());
      const cutoff = DateTime.fromMillis(first, { zone })
        .startOf('hour')
        .plus({ hours: hourlyFor })
        .toMillis();
      const buckets = new Map<string, StoredTimelineBucket>();
      const bucket = (at: Date): StoredTimelineBucket => {
        const unit = at.getTime() < cutoff ? 'hour' : 'day';
        const start = Math.max(
          DateTime.fromJSDate(at, { zone }).startOf(unit).toMillis(),
          unit === 'day' ? cutoff : Number.NEGATIVE_INFINITY,
        );
        return entry(buckets, `${unit}/${start}`, () => ({
          start: new Date(start),
          unit,
          sent: 0,
          viewed: 0,
          clicked: 0,
          conversions: 0,
          revenue: 0,
        }));
      };
      for (const at of sent) bucket(at).sent += 1;
      for (const interaction of tables.interactions.values()) {
        if (interaction.campaignId !== campaignId || interaction.kind === 'closed') continue;
        bucket(interaction.at)[interaction.kind] += 1;
      }
      for (const [key, row] of tables.conversions.get(campaignId) ?? []) {
        const conversion = read(Conversion, 'conversions', `${campaignId}/${key}`, row);
        if (conversion.control) continue;
        const counts = bucket(conversion.at);
        counts.conversions += 1;
        counts.revenue += conversion.revenue ?? 0;
      }
      return [...buckets.values()].sort((a, b) => a.start.getTime() - b.start.getTime());
    },
  };
}

/**
 * Campaign statistics: the same tallies as `campaignTallies` and
 * `conversionTallies`, one set per occurrence, by walking the campaign's
 * rows once (the reference, kept simple; Postgres groups them in SQL).
 */
function campaignStatistics(
  tables: MemoryTables,
): Pick<Storage, 'recordAudiencePage' | 'getAudiencePage' | 'occurrenceTallies'> {
  return {
    async recordAudiencePage(page) {
      const rows = entry(tables.audiencePages, page.campaignId, () => new Map());
      const key = `${page.occurrence}/${page.after}`;
      if (rows.has(key)) return false;
      rows.set(key, structuredClone(page));
      return true;
    },
    async getAudiencePage(page) {
      const row = tables.audiencePages.get(page.campaignId)?.get(`${page.occurrence}/${page.after}`);
      return row ? structuredClone(row) : null;
    },
    async occurrenceTallies(campaignId, options) {
      const byOccurrence = new Map<string, StoredOccurrenceTallies>();
      const zone = options?.dayIn;
      const tally = (occurrence: string): StoredOccurrenceTallies => {
        const key = zone === undefined ? occurrence : occurrenceDay(occurrence, zone);
        return entry(byOccurrence, key, () => emptyOccurrenceTallies(key));
      };
      for (const [occurrence, rows] of tables.recipients.get(campaignId) ?? []) {
        for (const row of rows.values()) {
          const recipient = readRecipient(row);
          const counts = tally(occurrence);
          counts.recipients[recipient.state] += 1;
          if (recipient.state === 'skipped' && recipient.reason !== null)
            increment(counts.skipped, recipient.reason);
          if (
            recipient.state !== 'pending' &&
            (counts.lastSettledAt === null || recipient.updatedAt > counts.lastSettledAt)
          )
            counts.lastSettledAt = recipient.updatedAt;
        }
      }
      for (const [occurrence, rows] of tables.deliveries.get(campaignId) ?? []) {
        for (const userRows of rows.byUser.values()) {
          for (const row of userRows) tally(occurrence).deliveries[readDelivery(row).status] += 1;
        }
      }
      const reporters = new Map<string, Set<string>>();
      for (const interaction of tables.interactions.values()) {
        if (interaction.campaignId !== campaignId) continue;
        const counts = tally(interaction.occurrence);
        counts.interactions[interaction.kind] += 1;
        if (interaction.kind === 'clicked' && interaction.action !== null)
          increment(counts.interactions.clickedByAction, interaction.action);
        const users = entry(reporters, `${counts.occurrence}/${interaction.kind}`, () => new Set<string>());
        if (!users.has(interaction.userId)) {
          users.add(interaction.userId);
          counts.interactionUsers[interaction.kind] += 1;
        }
      }
      for (const [key, row] of tables.conversions.get(campaignId) ?? []) {
        const conversion = read(Conversion, 'conversions', `${campaignId}/${key}`, row);
        const side = tally(conversion.occurrence).conversions[conversion.control ? 'control' : 'recipients'];
        side.conversions += 1;
        side.revenue += conversion.revenue ?? 0;
      }
      for (const page of tables.audiencePages.get(campaignId)?.values() ?? []) {
        const counts = tally(page.occurrence);
        counts.paged += page.users;
        counts.pagedAll ||= page.last;
      }
      return [...byOccurrence.values()]
        .sort((a, b) => (a.occurrence < b.occurrence ? -1 : a.occurrence > b.occurrence ? 1 : 0))
        .map((counts) => structuredClone(counts));
    },
  };
}

/** The last ISO 8601 UTC instant (with milliseconds) in an occurrence id, as the Postgres adapter matches it. */
const OCCURRENCE_INSTANT = /^.*(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)/;

/** The calendar day, in `zone`, of the instant an occurrence id names; the id itself when it names none. */
function occurrenceDay(occurrence: string, zone: string): string {
  const instant = OCCURRENCE_INSTANT.exec(occurrence)?.[1];
  if (instant === undefined) return occurrence;
  return DateTime.fromISO(instant, { zone: 'utc' }).setZone(zone).toISODate() ?? occurrence;
}

/**
 * A campaign's deliveries, reports and conversions by browser and target,
 * each counted under the browser stored on its own row (unknown: `other`,
 * `web-push`); users are the distinct (run, user) pairs with a message sent
 * to that browser.
 */
function campaignBrowsers(tables: MemoryTables): Pick<Storage, 'campaignBrowsers'> {
  return {
    async campaignBrowsers(campaignId) {
      const byBrowser = new Map<string, StoredBrowserTally>();
      const countsOf = (browser: BrowserClass | null | undefined): StoredBrowserTally => {
        const { name, target } = browser ?? { name: 'other', target: 'web-push' };
        return entry(byBrowser, `${name}/${target}`, () => ({
          name,
          target,
          users: 0,
          sent: 0,
          failed: 0,
          viewed: 0,
          clicked: 0,
          conversions: 0,
          revenue: 0,
        }));
      };
      for (const rows of tables.deliveries.get(campaignId)?.values() ?? []) {
        for (const userRows of rows.byUser.values()) {
          const reached = new Set<StoredBrowserTally>();
          for (const row of userRows) {
            const delivery = readDelivery(row);
            const counts = countsOf(delivery.browser);
            if (delivery.status !== 'sent') {
              counts.failed += 1;
              continue;
            }
            counts.sent += 1;
            reached.add(counts);
          }
          for (const counts of reached) counts.users += 1;
        }
      }
      for (const interaction of tables.interactions.values()) {
        if (interaction.campaignId !== campaignId || interaction.kind === 'closed') continue;
        countsOf(interaction.browser)[interaction.kind] += 1;
      }
      for (const [key, row] of tables.conversions.get(campaignId) ?? []) {
        const conversion = read(Conversion, 'conversions', `${campaignId}/${key}`, row);
        if (conversion.control) continue;
        const counts = countsOf(conversion.browser);
        counts.conversions += 1;
        counts.revenue += conversion.revenue ?? 0;
      }
      return [...byBrowser.values()];
    },
  };
}
