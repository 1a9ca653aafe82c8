import { z } from 'zod';
import { ConflictError } from '../errors/index.js';
import {
  Campaign,
  CampaignId,
  Conversion,
  type ConversionTallies,
  Decision,
  Delivery,
  Instant,
  Profile,
  type ReachEstimate,
  Recipient,
  type RecipientState,
  SavedSegment,
  type SegmentDefinition,
  Subscription,
  UserEvent,
  UserId,
} from '../model/index.js';
import type {
  AudiencePage,
  CampaignFilter,
  Interaction,
  Storage,
  StoredCampaignTallies,
} from '../ports/storage.js';
import { evaluateSegment, isLiveSubscription, type SegmentSubject } from '../segments/evaluate.js';
import { type SegmentReads, segmentReads } from '../segments/reads.js';
import { StringPool } from './memory-columns.js';
import { DecisionRows } from './memory-decisions.js';
import { addOnce, append, clearIndexes, emptyIndexes, type MemoryIndexes } from './memory-indexes.js';
import { DeliveryRows, RecipientRows } from './memory-occurrence-rows.js';
import { ProfileRows, SubscriptionRows } from './memory-people.js';
import { frozenRows, rowKind } from './memory-rows.js';

/**
 * The rows of a memory storage, and the indexes over them. The tables that
 * grow with the audience (profiles, subscriptions, recipients, deliveries,
 * decisions) keep rows in typed columns (memory-columns.ts); the others,
 * and any row that does not fit its columns, are stored once, packed and
 * frozen (memory-rows.ts): replace a row, never change it in place. A
 * malformed row fails its reads with CorruptRecordError, as in a database.
 */
export interface MemoryTables {
  /** Profiles by user id, subscriptions by id, in columns (memory-people.ts). */
  profiles: ProfileRows;
  subscriptions: SubscriptionRows;
  events: unknown[];
  campaigns: Map<string, unknown>;
  segments: Map<string, unknown>;
  /** Recipients by rowKey(campaign, occurrence), then user id, in columns (memory-occurrence-rows.ts). */
  recipients: Map<string, RecipientRows>;
  /** Deliveries by rowKey(campaign, occurrence), then subscription id, in columns. */
  deliveries: Map<string, DeliveryRows>;
  interactions: Map<string, unknown>;
  /** The decision log, in columns (memory-decisions.ts). */
  decisions: DecisionRows;
  conversions: Map<string, unknown>;
  /** Reasons, campaign ids and occurrences of the column tables, each stored once. */
  strings: StringPool;
  /** Kept by the storage's writes; the inspector reads rows, it never adds or removes any. */
  indexes: MemoryIndexes;
}

/**
 * Where a memory storage keeps its tables, for the testing inspector. A
 * registered symbol (not a module-level WeakMap) so that the `@herald/core`
 * and `@herald/core/testing` bundles, which each carry their own copy of this
 * module, still find the same tables.
 */
export const MEMORY_TABLES = Symbol.for('@herald/core/memory-storage/tables');

export function emptyTables(): MemoryTables {
  const strings = new StringPool();
  return {
    profiles: new ProfileRows(strings),
    subscriptions: new SubscriptionRows(strings),
    events: [],
    campaigns: new Map(),
    segments: new Map(),
    recipients: new Map(),
    deliveries: new Map(),
    interactions: new Map(),
    decisions: new DecisionRows(strings),
    conversions: new Map(),
    strings,
    indexes: emptyIndexes(),
  };
}

/** Empties every table, and its indexes, in place. */
export function clearTables(tables: MemoryTables): void {
  tables.profiles = new ProfileRows(tables.strings);
  tables.subscriptions = new SubscriptionRows(tables.strings);
  tables.events.length = 0;
  tables.campaigns.clear();
  tables.segments.clear();
  tables.recipients.clear();
  tables.deliveries.clear();
  tables.interactions.clear();
  tables.decisions = new DecisionRows(tables.strings);
  tables.conversions.clear();
  clearIndexes(tables.indexes);
}

/** The tables behind a storage made by `memoryStorage()`, or null for any other storage. */
export function memoryTablesOf(storage: Storage): MemoryTables | null {
  const tables = (storage as unknown as Record<symbol, unknown>)[MEMORY_TABLES];
  return tables ? (tables as MemoryTables) : null;
}

/** A key of several parts; \u0000 cannot occur in ids, so keys never collide (a key of a key and a part is the key of all three). */
export const rowKey = (...parts: string[]): string => parts.join('\u0000');

/**
 * Storage in process memory: for tests, demos and single-process hosts that
 * accept losing everything on restart. Segments are evaluated in Node with
 * the reference evaluator (`capabilities.nativeSegments = false`). Indexes
 * keep every read proportional to what it returns: an audience page walks
 * the sorted user ids from its cursor and evaluates profiles only until the
 * page is full; a user's subscriptions, events and deliveries are looked up,
 * not scanned for. Counting and reach estimates evaluate every profile once.
 */
export function memoryStorage(): Storage {
  const t = emptyTables();
  const ix = t.indexes;
  const rows = frozenRows();

  // Each read names where its row is stored: the first read of a row replaces it by its verified form.
  // Profiles and subscriptions are in columns; one kept whole is read (and verified) through frozen rows.
  const profile = (userId: string): Profile =>
    t.profiles.get(userId) ?? rows.read(PROFILES, t.profiles.odd, userId, t.profiles.odd.get(userId));
  const subscription = (id: string): Subscription =>
    t.subscriptions.get(id) ?? rows.read(SUBSCRIPTIONS, t.subscriptions.odd, id, t.subscriptions.odd.get(id));
  const campaign = (id: string, row: unknown): Campaign => rows.read(CAMPAIGNS, t.campaigns, id, row);
  const savedSegment = (id: string, row: unknown): SavedSegment => rows.read(SEGMENTS, t.segments, id, row);
  const event = (index: number): UserEvent => rows.read(EVENTS, t.events, index, t.events[index]);
  const decision = (position: number): Decision =>
    t.decisions.get(position) ??
    rows.read(DECISIONS, t.decisions.odd, String(position), t.decisions.odd.get(String(position)));
  const interaction = (reportId: string, row: unknown): Interaction =>
    rows.read(INTERACTIONS, t.interactions, reportId, row);
  const conversion = (key: string, row: unknown): Conversion =>
    rows.read(CONVERSIONS, t.conversions, key, row);
  /**
   * Recipients and deliveries sit in (campaign, occurrence) groups, in
   * columns; a row kept whole is read (and verified) through frozen rows,
   * its id the key of all three parts.
   */
  const recipient = (group: RecipientRows, occurrenceKey: string, userId: string): Recipient =>
    group.get(userId) ??
    rows.read(RECIPIENTS, group.odd, userId, group.odd.get(userId), rowKey(occurrenceKey, userId));
  const delivery = (group: DeliveryRows, occurrenceKey: string, subscriptionId: string): Delivery =>
    group.get(subscriptionId) ??
    rows.read(
      DELIVERIES,
      group.odd,
      subscriptionId,
      group.odd.get(subscriptionId),
      rowKey(occurrenceKey, subscriptionId),
    );
  const keepProfile = (value: unknown) => rows.keep(PROFILES, value);
  const keepSubscription = (value: unknown) => rows.keep(SUBSCRIPTIONS, value);
  const keepRecipient = (value: unknown) => rows.keep(RECIPIENTS, value);
  const keepDelivery = (value: unknown) => rows.keep(DELIVERIES, value);
  const keepDecision = (value: unknown) => rows.keep(DECISIONS, value);
  /** One user's subscriptions, in the order they were first stored for that user. */
  const subscriptionsOf = (userId: string): Subscription[] =>
    ix.subscriptionsByUser.get(userId).flatMap((id) => (t.subscriptions.has(id) ? [subscription(id)] : []));
  /**
   * The rows of one (campaign, occurrence) in a recipients or deliveries
   * table, the group made (and listed under its campaign, for tallies) on
   * first use.
   */
  const occurrenceRows = <G>(
    table: Map<string, G>,
    campaignId: string,
    occurrence: string,
    make: () => G,
  ): G => {
    const key = rowKey(campaignId, occurrence);
    let group = table.get(key);
    if (!group) {
      group = make();
      table.set(key, group);
      addOnce(ix.occurrencesByCampaign, campaignId, key);
    }
    return group;
  };

  /** One user's events, in append order. */
  const eventsOf = (userId: string): UserEvent[] => ix.eventsByUser.get(userId).map(event);

  /** A profile with what the segment reads of the user's events and subscriptions (none when it reads none). */
  const subjectOf = (userId: string, reads: SegmentReads): SegmentSubject => ({
    profile: profile(userId),
    events: reads.events ? eventsOf(userId) : NONE,
    subscriptions: reads.subscriptions ? subscriptionsOf(userId) : NONE,
  });

  /** Every user whose profile matches, in table order (callers that need order use the sorted ids). */
  function* matching(segment: SegmentDefinition, now: Date, reads: SegmentReads): Generator<SegmentSubject> {
    for (const userId of t.profiles.keys()) {
      const subject = subjectOf(userId, reads);
      if (evaluateSegment(segment, subject, now)) yield subject;
    }
  }

  const storage: Storage = {
    capabilities: { nativeSegments: false },

    async upsertProfile(p) {
      if (!t.profiles.has(p.userId)) ix.userIds.add(p.userId);
      t.profiles.set(p.userId, p, keepProfile);
    },
    async getProfile(userId) {
      return t.profiles.has(userId) ? profile(userId) : null;
    },
    async getProfiles(userIds) {
      return unique(userIds).flatMap((id) => (t.profiles.has(id) ? [profile(id)] : []));
    },

    async upsertSubscription(s) {
      const previousOwner = t.subscriptions.ownerOf(s.id);
      t.subscriptions.set(s.id, s, keepSubscription);
      const owner = t.subscriptions.ownerOf(s.id) ?? '';
      // A browser that subscribes as someone else moves its subscription to that user.
      if (previousOwner !== owner) {
        if (previousOwner !== undefined) ix.subscriptionsByUser.remove(previousOwner, s.id);
        ix.subscriptionsByUser.add(owner, s.id);
      }
    },
    async getSubscription(id) {
      return t.subscriptions.has(id) ? subscription(id) : null;
    },
    async listSubscriptions(userIds) {
      return unique(userIds).flatMap(subscriptionsOf);
    },
    async removeSubscription(id, options) {
      const owner = t.subscriptions.ownerOf(id);
      if (owner === undefined) return false;
      if (options?.ifEndpoint !== undefined && addressOf(subscription(id)) !== options.ifEndpoint)
        return false;
      t.subscriptions.delete(id);
      ix.subscriptionsByUser.remove(owner, id);
      return true;
    },

    async appendEvents(events) {
      for (const e of events) {
        const row = rows.keep(EVENTS, e);
        ix.eventsByUser.add(field(row, 'userId'), t.events.push(row) - 1);
      }
    },
    async listEvents({ userId, name, from, to }) {
      // Rows are kept in append order; the sort is stable, so equal times keep it.
      return eventsOf(userId)
        .filter(
          (e) =>
            (name === undefined || e.name === name) &&
            (from === undefined || e.time >= from) &&
            (to === undefined || e.time < to),
        )
        .sort((a, b) => a.time.getTime() - b.time.getTime());
    },

    async insertCampaign(c) {
      if (t.campaigns.has(c.id)) throw new ConflictError(`Campaign ${c.id} already exists`);
      t.campaigns.set(c.id, rows.keep(CAMPAIGNS, c));
    },
    async getCampaign(id) {
      const row = t.campaigns.get(id);
      return row === undefined ? null : campaign(id, row);
    },
    async updateCampaign(c, expectedVersion) {
      const row = t.campaigns.get(c.id);
      if (row === undefined || campaign(c.id, row).version !== expectedVersion) return false;
      t.campaigns.set(c.id, rows.keep(CAMPAIGNS, c));
      return true;
    },
    async listCampaigns(filter: CampaignFilter = {}) {
      return [...t.campaigns.entries()]
        .map(([id, row]) => campaign(id, row))
        .filter(
          (c) =>
            (filter.status === undefined || filter.status.includes(c.status)) &&
            (filter.label === undefined || c.labels.includes(filter.label)) &&
            (filter.dueBy === undefined || (c.nextRunAt !== null && c.nextRunAt <= filter.dueBy)),
        )
        .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || compareIds(a.id, b.id));
    },

    async selectAudience(segment, page: AudiencePage) {
      const limit = Math.max(0, page.limit);
      const reads = segmentReads(segment);
      const selected: UserId[] = [];
      if (limit === 0) return selected;
      // From the cursor, in id order, only until the page is full: a page costs
      // what it walks, not the whole table.
      for (const userId of ix.userIds.after(page.after)) {
        if (t.profiles.has(userId) && evaluateSegment(segment, subjectOf(userId, reads), page.now)) {
          selected.push(userId as UserId);
          if (selected.length >= limit) break;
        }
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
      for (const userId of ix.userIds.after(null)) {
        if (!t.profiles.has(userId)) continue;
        const p = profile(userId);
        if (p.test) found.push(p);
        if (found.length >= limit) break;
      }
      return found;
    },

    async insertSegment(s) {
      if (t.segments.has(s.id)) throw new ConflictError(`Segment ${s.id} already exists`);
      t.segments.set(s.id, rows.keep(SEGMENTS, s));
    },
    async getSegment(id) {
      const row = t.segments.get(id);
      return row === undefined ? null : savedSegment(id, row);
    },
    async updateSegment(s) {
      if (!t.segments.has(s.id)) return false;
      t.segments.set(s.id, rows.keep(SEGMENTS, s));
      return true;
    },
    async listSegments() {
      return [...t.segments.entries()]
        .map(([id, row]) => savedSegment(id, row))
        .sort((a, b) => compareIds(a.name, b.name) || compareIds(a.id, b.id));
    },
    async deleteSegment(id) {
      return t.segments.delete(id);
    },

    async insertRecipients(recipients) {
      let inserted = 0;
      for (const r of recipients) {
        const group = occurrenceRows(
          t.recipients,
          r.campaignId,
          r.occurrence,
          () => new RecipientRows(r.campaignId, r.occurrence),
        );
        if (group.has(r.userId)) continue;
        group.set(r.userId, r, keepRecipient);
        inserted += 1;
      }
      return { inserted };
    },
    async getRecipients(campaignId, occurrence, userIds) {
      const occurrenceKey = rowKey(campaignId, occurrence);
      const group = t.recipients.get(occurrenceKey);
      if (!group) return [];
      return unique(userIds).flatMap((userId) =>
        group.has(userId) ? [recipient(group, occurrenceKey, userId)] : [],
      );
    },
    async updateRecipients(updates, now) {
      for (const u of updates) {
        const occurrenceKey = rowKey(u.campaignId, u.occurrence);
        const group = t.recipients.get(occurrenceKey);
        if (group === undefined || !group.has(u.userId)) continue;
        const current = recipient(group, occurrenceKey, u.userId);
        group.set(
          current.userId,
          { ...current, state: u.state, reason: u.reason, updatedAt: now },
          keepRecipient,
        );
      }
    },
    async recordDeliveries(deliveries) {
      for (const d of deliveries) {
        const group = occurrenceRows(
          t.deliveries,
          d.campaignId,
          d.occurrence,
          () => new DeliveryRows(d.campaignId, d.occurrence, t.strings),
        );
        if (group.has(d.subscriptionId)) continue;
        group.insert(d, d.userId, keepDelivery);
      }
    },
    async listDeliveries(campaignId, occurrence, userIds) {
      const occurrenceKey = rowKey(campaignId, occurrence);
      const group = t.deliveries.get(occurrenceKey);
      if (!group) return [];
      return unique(userIds).flatMap((userId) =>
        group.byUser.get(userId).map((subscriptionId) => delivery(group, occurrenceKey, subscriptionId)),
      );
    },

    async recordInteraction(interaction) {
      if (t.interactions.has(interaction.reportId)) return false;
      t.interactions.set(interaction.reportId, rows.keep(INTERACTIONS, interaction));
      ix.interactionsByUser.add(interaction.userId, interaction.reportId);
      append(ix.interactionsByCampaign, interaction.campaignId, interaction.reportId);
      return true;
    },

    async campaignTallies(campaignId: CampaignId) {
      const tallies: StoredCampaignTallies = {
        recipients: { pending: 0, delivered: 0, undeliverable: 0, skipped: 0, control: 0 },
        skipped: {},
        deliveries: { sent: 0, failed: 0, gone: 0 },
        interactions: { viewed: 0, clicked: 0, closed: 0, clickedByAction: {} },
      };
      for (const occurrenceKey of ix.occurrencesByCampaign.get(campaignId) ?? []) {
        const recipients = t.recipients.get(occurrenceKey);
        for (const userId of recipients?.keys() ?? []) {
          const r = recipient(recipients as RecipientRows, occurrenceKey, userId);
          tallies.recipients[r.state as RecipientState] += 1;
          if (r.state === 'skipped' && r.reason !== null) increment(tallies.skipped, r.reason);
        }
        const deliveries = t.deliveries.get(occurrenceKey);
        for (const subscriptionId of deliveries?.keys() ?? []) {
          tallies.deliveries[delivery(deliveries as DeliveryRows, occurrenceKey, subscriptionId).status] += 1;
        }
      }
      for (const reportId of ix.interactionsByCampaign.get(campaignId) ?? []) {
        const row = t.interactions.get(reportId);
        if (row === undefined) continue;
        const i = interaction(reportId, row);
        tallies.interactions[i.kind] += 1;
        if (i.kind === 'clicked' && i.action !== null)
          increment(tallies.interactions.clickedByAction, i.action);
      }
      return tallies;
    },

    async appendDecisions(decisions) {
      for (const d of decisions) {
        const userId = typeof d.userId === 'string' ? d.userId : '';
        ix.decisionsByUser.add(userId, t.decisions.append(d, userId, keepDecision));
      }
    },
    async listDecisions({ userId, campaignId, since }) {
      // Append order is kept for equal times: the sort is stable.
      return ix.decisionsByUser
        .get(userId)
        .map(decision)
        .filter(
          (d) =>
            (campaignId === undefined || d.campaignId === campaignId) &&
            (since === undefined || d.at >= since),
        )
        .sort((a, b) => a.at.getTime() - b.at.getTime());
    },
    async listInteractions({ userId, since }) {
      return ix.interactionsByUser
        .get(userId)
        .flatMap((reportId) => {
          const row = t.interactions.get(reportId);
          if (row === undefined) return [];
          const i = interaction(reportId, row);
          return since !== undefined && i.at < since ? [] : [i];
        })
        .sort((a, b) => a.at.getTime() - b.at.getTime());
    },
    async recordConversion(c) {
      const key = rowKey(c.campaignId, c.occurrence, c.userId);
      if (t.conversions.has(key)) return false;
      t.conversions.set(key, rows.keep(CONVERSIONS, c));
      append(ix.conversionsByCampaign, c.campaignId, key);
      return true;
    },
    async conversionTallies(campaignId) {
      const tallies: ConversionTallies = {
        recipients: { conversions: 0, revenue: 0 },
        control: { conversions: 0, revenue: 0 },
      };
      for (const key of ix.conversionsByCampaign.get(campaignId) ?? []) {
        const row = t.conversions.get(key);
        if (row === undefined) continue;
        const c = conversion(key, row);
        const side = c.control ? tallies.control : tallies.recipients;
        side.conversions += 1;
        side.revenue += c.revenue ?? 0;
      }
      return tallies;
    },
  };

  Object.defineProperty(storage, MEMORY_TABLES, { value: t, enumerable: false });
  return storage;
}

/** Each table's schema and top-level instants (stored as epoch milliseconds). */
const PROFILES = rowKind('profiles', Profile, ['createdAt', 'updatedAt'], 'on write');
const SUBSCRIPTIONS = rowKind('subscriptions', Subscription, ['createdAt', 'updatedAt'], 'on write');
const EVENTS = rowKind('events', UserEvent, ['time'], 'on first read');
const CAMPAIGNS = rowKind('campaigns', Campaign, ['createdAt', 'updatedAt', 'nextRunAt'], 'on write');
const SEGMENTS = rowKind('segments', SavedSegment, ['createdAt', 'updatedAt'], 'on write');
const RECIPIENTS = rowKind('recipients', Recipient, ['createdAt', 'updatedAt'], 'on first read');
const DELIVERIES = rowKind('deliveries', Delivery, ['at'], 'on first read');
const DECISIONS = rowKind('decisions', Decision, ['at'], 'on first read');
const CONVERSIONS = rowKind('conversions', Conversion, ['at'], 'on first read');
/** Service-worker reports have no model schema (the HTTP handlers check them); this one guards the store. */
const INTERACTIONS = rowKind(
  'interactions',
  z.object({
    reportId: z.string(),
    campaignId: CampaignId,
    occurrence: z.string(),
    userId: UserId,
    kind: z.enum(['viewed', 'clicked', 'closed']),
    action: z.string().nullable(),
    at: Instant,
  }),
  ['at'],
  'on first read',
);

/** What a subject holds of events or subscriptions the segment does not read. */
const NONE: readonly never[] = Object.freeze([]);

/** The address `removeSubscription({ ifEndpoint })` compares: the endpoint, or Safari's device token. */
export function addressOf(s: Subscription): string {
  return s.target === 'webpush' ? s.endpoint : s.deviceToken;
}

/** Binary (UTF-16 code unit) order, the order keyset paging uses. */
export const compareIds = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const unique = <T extends string>(ids: readonly T[]): T[] => [...new Set(ids)];

function increment(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

/** A string field of a stored row, read without parsing it: the index keys of a row that failed its parse too. */
function field(row: unknown, name: string): string {
  const value = typeof row === 'object' && row !== null ? (row as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' ? value : '';
}
