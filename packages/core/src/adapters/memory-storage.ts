import type { z } from 'zod';
import { ConflictError, CorruptRecordError, formatPath } from '../errors/index.js';
import {
  Campaign,
  type CampaignId,
  Conversion,
  type ConversionTallies,
  Decision,
  Delivery,
  Profile,
  type ReachEstimate,
  Recipient,
  type RecipientState,
  SavedSegment,
  type SegmentDefinition,
  Subscription,
  UserEvent,
} from '../model/index.js';
import type {
  AudiencePage,
  CampaignFilter,
  Interaction,
  Storage,
  StoredCampaignTallies,
} from '../ports/storage.js';
import { evaluateSegment, isLiveSubscription, type SegmentSubject } from '../segments/evaluate.js';
import { segmentReads } from '../segments/reads.js';

/**
 * The raw rows of a memory storage, as plain data. Rows hold deep copies of
 * what callers passed, and reads parse them with the model schemas (once
 * per stored row object: replace a row, never change it in place), so the
 * memory adapter fails on malformed rows exactly as a database adapter does.
 */
export interface MemoryTables {
  profiles: Map<string, unknown>;
  subscriptions: Map<string, unknown>;
  events: unknown[];
  campaigns: Map<string, unknown>;
  segments: Map<string, unknown>;
  recipients: Map<string, unknown>;
  deliveries: Map<string, unknown>;
  interactions: Map<string, Interaction>;
  decisions: unknown[];
  conversions: Map<string, unknown>;
}

/**
 * Where a memory storage keeps its tables, for the testing inspector. A
 * registered symbol (not a module-level WeakMap) so that the `@herald/core`
 * and `@herald/core/testing` bundles, which each carry their own copy of this
 * module, still find the same tables.
 */
export const MEMORY_TABLES = Symbol.for('@herald/core/memory-storage/tables');

export function emptyTables(): MemoryTables {
  return {
    profiles: new Map(),
    subscriptions: new Map(),
    events: [],
    campaigns: new Map(),
    segments: new Map(),
    recipients: new Map(),
    deliveries: new Map(),
    interactions: new Map(),
    decisions: [],
    conversions: new Map(),
  };
}

/** Empties every table in place. */
export function clearTables(tables: MemoryTables): void {
  tables.profiles.clear();
  tables.subscriptions.clear();
  tables.events.length = 0;
  tables.campaigns.clear();
  tables.segments.clear();
  tables.recipients.clear();
  tables.deliveries.clear();
  tables.interactions.clear();
  tables.decisions.length = 0;
  tables.conversions.clear();
}

/** The tables behind a storage made by `memoryStorage()`, or null for any other storage. */
export function memoryTablesOf(storage: Storage): MemoryTables | null {
  const tables = (storage as unknown as Record<symbol, unknown>)[MEMORY_TABLES];
  return tables ? (tables as MemoryTables) : null;
}

/** A key of several parts; \u0000 cannot occur in ids, so keys never collide. */
export const rowKey = (...parts: string[]): string => parts.join('\u0000');

/**
 * Storage in process memory: for tests, demos and single-process hosts that
 * accept losing everything on restart. Segments are evaluated in Node with
 * the reference evaluator (`capabilities.nativeSegments = false`), scanning
 * every profile per page, which is fine up to tens of thousands of users.
 */
export function memoryStorage(): Storage {
  const t = emptyTables();

  /**
   * A stored row's parse, kept while that very row object is stored: writes
   * replace rows rather than change them in place (the inspector's
   * corruption too), so a row is parsed once, not on every read. A row that
   * fails to parse is not kept and fails on every read.
   */
  const parsedRows = new WeakMap<object, unknown>();
  const read = <S extends z.ZodType>(schema: S, table: string, id: string, row: unknown): z.infer<S> => {
    const cacheable = typeof row === 'object' && row !== null;
    if (cacheable && parsedRows.has(row)) return structuredClone(parsedRows.get(row)) as z.infer<S>;
    const parsed = schema.safeParse(structuredClone(row));
    if (!parsed.success) {
      throw new CorruptRecordError(
        table,
        id,
        parsed.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })),
      );
    }
    // The caller gets its own copy; the kept parse is never handed out.
    if (cacheable) parsedRows.set(row, structuredClone(parsed.data));
    return parsed.data;
  };
  const profile = (id: string, row: unknown): Profile => read(Profile, 'profiles', id, row);
  const subscription = (id: string, row: unknown): Subscription =>
    read(Subscription, 'subscriptions', id, row);
  const campaign = (id: string, row: unknown): Campaign => read(Campaign, 'campaigns', id, row);
  const recipient = (id: string, row: unknown): Recipient => read(Recipient, 'recipients', id, row);
  const delivery = (id: string, row: unknown): Delivery => read(Delivery, 'deliveries', id, row);
  const savedSegment = (id: string, row: unknown): SavedSegment => read(SavedSegment, 'segments', id, row);

  /** Every profile with what the segment reads of its events and subscriptions (none when it reads none). */
  const subjects = (segment: SegmentDefinition, withSubscriptions = false): SegmentSubject[] => {
    const reads = segmentReads(segment);
    const eventsOf = reads.events
      ? groupByUser(t.events.map((row, index) => read(UserEvent, 'events', String(index), row)))
      : new Map<string, UserEvent[]>();
    const subscriptionsOf =
      reads.subscriptions || withSubscriptions
        ? groupByUser([...t.subscriptions.entries()].map(([id, row]) => subscription(id, row)))
        : new Map<string, Subscription[]>();
    return [...t.profiles.entries()].map(([id, row]) => {
      const p = profile(id, row);
      return {
        profile: p,
        events: eventsOf.get(p.userId) ?? [],
        subscriptions: subscriptionsOf.get(p.userId) ?? [],
      };
    });
  };

  /** Profiles matching a segment, ascending by user id in code-unit order (PostgreSQL's COLLATE "C" for ASCII ids). */
  const audience = (segment: SegmentDefinition, now: Date): Profile[] =>
    subjects(segment)
      .filter((subject) => evaluateSegment(segment, subject, now))
      .map((subject) => subject.profile)
      .sort((a, b) => compareIds(a.userId, b.userId));

  const storage: Storage = {
    capabilities: { nativeSegments: false },

    async upsertProfile(p) {
      t.profiles.set(p.userId, structuredClone(p));
    },
    async getProfile(userId) {
      const row = t.profiles.get(userId);
      return row === undefined ? null : profile(userId, row);
    },
    async getProfiles(userIds) {
      return unique(userIds).flatMap((id) => {
        const row = t.profiles.get(id);
        return row === undefined ? [] : [profile(id, row)];
      });
    },

    async upsertSubscription(s) {
      t.subscriptions.set(s.id, structuredClone(s));
    },
    async getSubscription(id) {
      const row = t.subscriptions.get(id);
      return row === undefined ? null : subscription(id, row);
    },
    async listSubscriptions(userIds) {
      const wanted = new Set<string>(userIds);
      // Filter on the raw row before parsing: parsing every row of the
      // table per call made a campaign quadratic in its audience.
      return [...t.subscriptions.entries()]
        .filter(([, row]) => wanted.has(field(row, 'userId')))
        .map(([id, row]) => subscription(id, row));
    },
    async removeSubscription(id, options) {
      const row = t.subscriptions.get(id);
      if (row === undefined) return false;
      if (options?.ifEndpoint !== undefined && addressOf(subscription(id, row)) !== options.ifEndpoint)
        return false;
      return t.subscriptions.delete(id);
    },

    async appendEvents(events) {
      for (const event of events) t.events.push(structuredClone(event));
    },
    async listEvents({ userId, name, from, to }) {
      // Rows are kept in append order; the sort is stable, so equal times keep it.
      return t.events
        .map((row, index) => read(UserEvent, 'events', String(index), row))
        .filter(
          (e) =>
            e.userId === userId &&
            (name === undefined || e.name === name) &&
            (from === undefined || e.time >= from) &&
            (to === undefined || e.time < to),
        )
        .sort((a, b) => a.time.getTime() - b.time.getTime());
    },

    async insertCampaign(c) {
      if (t.campaigns.has(c.id)) throw new ConflictError(`Campaign ${c.id} already exists`);
      t.campaigns.set(c.id, structuredClone(c));
    },
    async getCampaign(id) {
      const row = t.campaigns.get(id);
      return row === undefined ? null : campaign(id, row);
    },
    async updateCampaign(c, expectedVersion) {
      const row = t.campaigns.get(c.id);
      if (row === undefined || campaign(c.id, row).version !== expectedVersion) return false;
      t.campaigns.set(c.id, structuredClone(c));
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
      return audience(segment, page.now)
        .filter((p) => page.after === null || compareIds(p.userId, page.after) > 0)
        .slice(0, Math.max(0, page.limit))
        .map((p) => p.userId);
    },
    async countAudience(segment, now) {
      return audience(segment, now).length;
    },
    async estimateReach(segment, now) {
      const estimate: ReachEstimate = { qualified: 0, reachable: { total: 0, webpush: 0, safari: 0 } };
      for (const subject of subjects(segment, true)) {
        if (!evaluateSegment(segment, subject, now)) continue;
        estimate.qualified += 1;
        const live = (subject.subscriptions ?? []).filter((s) => isLiveSubscription(s, now));
        if (live.length > 0) estimate.reachable.total += 1;
        if (live.some((s) => s.target === 'webpush')) estimate.reachable.webpush += 1;
        if (live.some((s) => s.target === 'safari')) estimate.reachable.safari += 1;
      }
      return estimate;
    },
    async listTestProfiles(limit) {
      return [...t.profiles.entries()]
        .map(([id, row]) => profile(id, row))
        .filter((p) => p.test)
        .sort((a, b) => compareIds(a.userId, b.userId))
        .slice(0, Math.max(0, limit));
    },

    async insertSegment(s) {
      if (t.segments.has(s.id)) throw new ConflictError(`Segment ${s.id} already exists`);
      t.segments.set(s.id, structuredClone(s));
    },
    async getSegment(id) {
      const row = t.segments.get(id);
      return row === undefined ? null : savedSegment(id, row);
    },
    async updateSegment(s) {
      if (!t.segments.has(s.id)) return false;
      t.segments.set(s.id, structuredClone(s));
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
        const key = rowKey(r.campaignId, r.occurrence, r.userId);
        if (t.recipients.has(key)) continue;
        t.recipients.set(key, structuredClone(r));
        inserted += 1;
      }
      return { inserted };
    },
    async getRecipients(campaignId, occurrence, userIds) {
      return unique(userIds).flatMap((userId) => {
        const key = rowKey(campaignId, occurrence, userId);
        const row = t.recipients.get(key);
        return row === undefined ? [] : [recipient(key, row)];
      });
    },
    async updateRecipients(updates, now) {
      for (const u of updates) {
        const key = rowKey(u.campaignId, u.occurrence, u.userId);
        const row = t.recipients.get(key);
        if (row === undefined) continue;
        t.recipients.set(key, {
          ...recipient(key, row),
          state: u.state,
          reason: u.reason,
          updatedAt: new Date(now),
        });
      }
    },
    async recordDeliveries(deliveries) {
      for (const d of deliveries) {
        const key = rowKey(d.campaignId, d.occurrence, d.subscriptionId);
        if (!t.deliveries.has(key)) t.deliveries.set(key, structuredClone(d));
      }
    },
    async listDeliveries(campaignId, occurrence, userIds) {
      const wanted = new Set<string>(userIds);
      return [...t.deliveries.entries()]
        .filter(
          ([, row]) =>
            field(row, 'campaignId') === campaignId &&
            field(row, 'occurrence') === occurrence &&
            wanted.has(field(row, 'userId')),
        )
        .map(([key, row]) => delivery(key, row));
    },

    async recordInteraction(interaction) {
      if (t.interactions.has(interaction.reportId)) return false;
      t.interactions.set(interaction.reportId, structuredClone(interaction));
      return true;
    },

    async campaignTallies(campaignId: CampaignId) {
      const tallies: StoredCampaignTallies = {
        recipients: { pending: 0, delivered: 0, undeliverable: 0, skipped: 0, control: 0 },
        skipped: {},
        deliveries: { sent: 0, failed: 0, gone: 0 },
        interactions: { viewed: 0, clicked: 0, closed: 0, clickedByAction: {} },
      };
      for (const [key, row] of t.recipients) {
        const r = recipient(key, row);
        if (r.campaignId !== campaignId) continue;
        tallies.recipients[r.state as RecipientState] += 1;
        if (r.state === 'skipped' && r.reason !== null) increment(tallies.skipped, r.reason);
      }
      for (const [key, row] of t.deliveries) {
        const d = delivery(key, row);
        if (d.campaignId === campaignId) tallies.deliveries[d.status] += 1;
      }
      for (const i of t.interactions.values()) {
        if (i.campaignId !== campaignId) continue;
        tallies.interactions[i.kind] += 1;
        if (i.kind === 'clicked' && i.action !== null)
          increment(tallies.interactions.clickedByAction, i.action);
      }
      return tallies;
    },

    async appendDecisions(decisions) {
      for (const d of decisions) t.decisions.push(structuredClone(d));
    },
    async listDecisions({ userId, campaignId, since }) {
      // Append order is kept for equal times: the sort is stable.
      return t.decisions
        .map((row, index) => read(Decision, 'decisions', String(index), row))
        .filter(
          (d) =>
            d.userId === userId &&
            (campaignId === undefined || d.campaignId === campaignId) &&
            (since === undefined || d.at >= since),
        )
        .sort((a, b) => a.at.getTime() - b.at.getTime());
    },
    async listInteractions({ userId, since }) {
      return [...t.interactions.values()]
        .filter((i) => i.userId === userId && (since === undefined || i.at >= since))
        .map((i) => structuredClone(i))
        .sort((a, b) => a.at.getTime() - b.at.getTime());
    },
    async recordConversion(c) {
      const key = rowKey(c.campaignId, c.occurrence, c.userId);
      if (t.conversions.has(key)) return false;
      t.conversions.set(key, structuredClone(c));
      return true;
    },
    async conversionTallies(campaignId) {
      const tallies: ConversionTallies = {
        recipients: { conversions: 0, revenue: 0 },
        control: { conversions: 0, revenue: 0 },
      };
      for (const [key, row] of t.conversions) {
        const c = read(Conversion, 'conversions', key, row);
        if (c.campaignId !== campaignId) continue;
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

/** The address `removeSubscription({ ifEndpoint })` compares: the endpoint, or Safari's device token. */
export function addressOf(s: Subscription): string {
  return s.target === 'webpush' ? s.endpoint : s.deviceToken;
}

/** Binary (UTF-16 code unit) order, the order keyset paging uses. */
export const compareIds = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const unique = <T extends string>(ids: readonly T[]): T[] => [...new Set(ids)];

function groupByUser<T extends { userId: string }>(rows: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const group = groups.get(row.userId);
    if (group) group.push(row);
    else groups.set(row.userId, [row]);
  }
  return groups;
}

function increment(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

/** A string field of a raw row, read without parsing the row (a corrupt row is parsed, and refused, only when selected). */
function field(row: unknown, name: string): string {
  const value = typeof row === 'object' && row !== null ? (row as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' ? value : '';
}
