/**
 * Bulk entry points (`profiles.import`, `subscriptions.import`,
 * `events.import`): the rules of the single-row calls, applied to many rows
 * with a few storage round trips per batch instead of several per row.
 *
 * Every row is validated on its own: a bad row is reported by its index and
 * the good ones are still written. Rows go to storage in batches of
 * IMPORT_BATCH, one batch after the other, each batch one write that lands
 * whole or not at all, so a fault (the database going away) fails the call
 * with the earlier batches written and none of the later ones; importing the
 * same rows again is safe, as every write is an upsert (events excepted: they
 * are a log, appended again).
 *
 * Profiles and subscriptions are pipelined (`pipelined` below): the next
 * batch is checked and its stored rows read while the previous batch is
 * written, so Herald's CPU and the database's overlap instead of taking turns.
 */
import type { z } from 'zod';
import type { EndpointPolicy } from '../delivery/endpoint-policy.js';
import type { FieldIssue } from '../errors/index.js';
import { parseStorableInput } from '../errors/storable-input.js';
import {
  EventInput,
  type Profile,
  ProfileInput,
  type Subscription,
  SubscriptionInput,
  type UserEvent,
  type UserId,
} from '../model/index.js';
import type { ImportEventsOptions, ImportRejection, ImportResult } from './api.js';
import { subscriptionIdFor } from './campaigns/index.js';
import { groupBy, mapLimit } from './collections.js';
import type { EngineContext } from './context.js';
import { attributeConversion } from './observe/index.js';
import { armLiveTriggers } from './triggers/index.js';

/**
 * Rows per storage batch: thousands keep the round trips per row negligible
 * (one multi-row statement each way) while one batch's JSON parameter stays a
 * few MB and one statement's locks stay short.
 */
export const IMPORT_BATCH = 2000;

/** Whether a raw input object names a field (with a value): what `profiles.upsert` may change. */
export function mentions(input: unknown, field: string): boolean {
  return (
    typeof input === 'object' && input !== null && (input as Record<string, unknown>)[field] !== undefined
  );
}

/**
 * `profiles.upsert`'s rule: the fields the input mentions replace the stored
 * ones, the others keep their stored value; defaults (no properties, not a
 * test profile) fill a new profile only.
 */
export function mergeProfile(
  input: unknown,
  parsed: z.output<typeof ProfileInput>,
  existing: Profile | null,
  now: Date,
): Profile {
  const given = Object.fromEntries(Object.entries(parsed).filter(([field]) => mentions(input, field)));
  return {
    ...(existing ?? parsed),
    ...given,
    userId: parsed.userId,
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
  };
}

/**
 * The profile a new subscription needs, or null when the stored one will do:
 * a user gets a profile at subscribe, and takes the browser's zone when the
 * profile has none.
 */
export function profileForSubscriber(
  userId: UserId,
  timezone: string | undefined,
  existing: Profile | null,
  now: Date,
): Profile | null {
  if (existing && storedProfileWillDo(existing.timezone ?? null, timezone)) return null;
  return {
    userId,
    properties: existing?.properties ?? {},
    test: existing?.test ?? false,
    ...(timezone ? { timezone } : {}),
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
  };
}

/** `profileForSubscriber`'s rule on a stored profile known by its zone alone (null: it has none). */
function storedProfileWillDo(storedZone: string | null, timezone: string | undefined): boolean {
  return storedZone !== null || !timezone;
}

/**
 * A subscription as `subscriptions.add` stores it, its id derived from its
 * address; createdAt is now: a caller re-adding a stored one keeps its createdAt.
 */
export function subscriptionFromInput(parsed: ParsedSubscriptionInput, now: Date): Subscription {
  const timezone = parsed.timezone ? { timezone: parsed.timezone } : {};
  if (parsed.target === 'webpush') {
    return {
      id: subscriptionIdFor(parsed.subscription.endpoint, 'webpush'),
      target: 'webpush',
      userId: parsed.userId,
      endpoint: parsed.subscription.endpoint,
      keys: parsed.subscription.keys,
      expirationTime: parsed.subscription.expirationTime ?? null,
      ...timezone,
      ...(parsed.userAgent ? { userAgent: parsed.userAgent } : {}),
      createdAt: now,
      updatedAt: now,
    };
  }
  const deviceToken = parsed.deviceToken.toLowerCase();
  return {
    id: subscriptionIdFor(deviceToken, 'safari'),
    target: 'safari',
    userId: parsed.userId,
    deviceToken,
    ...timezone,
    createdAt: now,
    updatedAt: now,
  };
}

type ParsedSubscriptionInput = z.output<typeof SubscriptionInput>;

/** Splits rows into the valid ones (parsed, with their index) and the rejections, one per bad field. */
function validate<T>(
  rows: readonly unknown[],
  parse: (row: unknown) => { success: true; data: T } | { success: false; issues: FieldIssue[] },
): { valid: Array<{ index: number; row: unknown; value: T }>; rejected: ImportRejection[] } {
  if (!Array.isArray(rows)) {
    return { valid: [], rejected: [{ index: -1, path: '', message: 'expected an array of rows' }] };
  }
  const valid: Array<{ index: number; row: unknown; value: T }> = [];
  const rejected: ImportRejection[] = [];
  rows.forEach((row, index) => {
    const result = parse(row);
    if (result.success) valid.push({ index, row, value: result.data });
    else for (const issue of result.issues) rejected.push({ index, ...issue });
  });
  return { valid, rejected };
}

function* batches<T>(items: readonly T[]): Generator<T[]> {
  for (let start = 0; start < items.length; start += IMPORT_BATCH) {
    yield items.slice(start, start + IMPORT_BATCH);
  }
}

/** What a call given something other than an array gets back. */
const NOT_AN_ARRAY: ImportResult = {
  imported: 0,
  rejected: [{ index: -1, path: '', message: 'expected an array of rows' }],
};

/** Rows checked between two turns of the event loop: about a millisecond of validation. */
const CHECK_CHUNK = 250;

/**
 * A turn of the event loop (a macrotask: awaiting a settled promise lets no
 * socket event in), so the batch being written meanwhile has its statements
 * sent and its answers taken while the next batch is checked.
 */
const letIoRun = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The batch of rows starting at `start`, validated: the good ones with their index in the call, and each bad field. */
async function checkBatch<T>(
  rows: readonly unknown[],
  start: number,
  parse: (row: unknown) => { success: true; data: T } | { success: false; issues: FieldIssue[] },
): Promise<{ valid: Array<{ index: number; row: unknown; value: T }>; rejected: ImportRejection[] }> {
  const valid: Array<{ index: number; row: unknown; value: T }> = [];
  const rejected: ImportRejection[] = [];
  const end = Math.min(rows.length, start + IMPORT_BATCH);
  for (let index = start; index < end; index++) {
    if (index > start && (index - start) % CHECK_CHUNK === 0) await letIoRun();
    const row = rows[index];
    const result = parse(row);
    if (result.success) valid.push({ index, row, value: result.data });
    else for (const issue of result.issues) rejected.push({ index, ...issue });
  }
  return { valid, rejected };
}

/**
 * Runs an import's batches as a two-stage pipeline: `prepare` checks batch
 * k + 1 and reads what it needs while `write` stores batch k. Writes run one
 * at a time and in order, and one batch is prepared meanwhile, so memory
 * holds two batches whatever the call's size. `prepare` may read before the
 * previous batch's write has landed: it must take that batch's rows from
 * memory (the callers keep them as `inFlight`). When a step fails, the write
 * in flight settles before the call fails, so nothing is still being written
 * once the caller sees the error.
 */
async function pipelined<T>(
  rowCount: number,
  prepare: (start: number) => Promise<T>,
  write: (prepared: T) => Promise<void>,
): Promise<void> {
  let writing: Promise<void> | null = null;
  try {
    for (let start = 0; start < rowCount; start += IMPORT_BATCH) {
      const prepared = await prepare(start);
      if (writing) await writing;
      writing = write(prepared);
      // Awaited at the next batch or at the end; this keeps a failure meanwhile from counting as unhandled.
      writing.catch(() => undefined);
    }
    if (writing) await writing;
  } catch (error) {
    await writing?.catch(() => undefined);
    throw error;
  }
}

/**
 * The address check of `subscriptions.add`, per row: an endpoint whose host resolves to a private,
 * loopback or link-local address is refused on its row. Resolutions are cached per host, so a
 * million rows on a handful of push services cost a handful of lookups.
 */
async function refuseUnsafeAddresses(
  valid: Array<{ index: number; row: unknown; value: ParsedSubscriptionInput }>,
  rejected: ImportRejection[],
  endpoints: EndpointPolicy,
): Promise<Array<{ index: number; row: unknown; value: ParsedSubscriptionInput }>> {
  const kept: typeof valid = [];
  for (const entry of valid) {
    if (entry.value.target !== 'webpush') {
      kept.push(entry);
      continue;
    }
    const check = await endpoints.checkAddress(entry.value.subscription.endpoint);
    if (check.ok) kept.push(entry);
    else rejected.push({ index: entry.index, path: 'subscription.endpoint', message: check.reason });
  }
  // Rejections stay in row order, whichever check refused them.
  rejected.sort((a, b) => a.index - b.index);
  return kept;
}

export function createImports(ctx: EngineContext, endpoints: EndpointPolicy) {
  return {
    async profiles(rows: readonly unknown[]): Promise<ImportResult> {
      if (!Array.isArray(rows)) return NOT_AN_ARRAY;
      const rejected: ImportRejection[] = [];
      let imported = 0;
      // The profiles of the batch being written: the next batch's read may not see them yet.
      let inFlight = new Map<string, Profile>();
      await pipelined(
        rows.length,
        async (start) => {
          const batch = await checkBatch(rows, start, (row) => parseStorableInput(ProfileInput, row));
          rejected.push(...batch.rejected);
          const now = ctx.clock.now();
          const stored = await ctx.storage.getProfiles(batch.valid.map(({ value }) => value.userId));
          const storedById = new Map(stored.map((profile) => [profile.userId, profile]));
          // Keyed by user: a user named twice gets the second row merged onto the first.
          const merged = new Map<string, Profile>();
          for (const { row, value } of batch.valid) {
            const existing =
              merged.get(value.userId) ?? inFlight.get(value.userId) ?? storedById.get(value.userId) ?? null;
            merged.set(value.userId, mergeProfile(row, value, existing, now));
          }
          inFlight = merged;
          imported += batch.valid.length;
          return [...merged.values()];
        },
        (profiles) => ctx.storage.upsertProfiles(profiles),
      );
      return { imported, rejected };
    },

    async subscriptions(rows: readonly unknown[]): Promise<ImportResult> {
      if (!Array.isArray(rows)) return NOT_AN_ARRAY;
      const rejected: ImportRejection[] = [];
      let imported = 0;
      // What the batch being written stores: the next batch's reads may not see it yet.
      let inFlight = { subscriptions: new Map<string, Subscription>(), profiles: new Map<string, Profile>() };
      await pipelined(
        rows.length,
        async (start) => {
          const batch = await checkBatch(rows, start, (row) => {
            const parsed = parseStorableInput(SubscriptionInput, row);
            if (!parsed.success || parsed.data.target !== 'webpush') return parsed;
            // The same endpoint check as `subscriptions.add`, reported on the row instead of thrown.
            const check = endpoints.check(parsed.data.subscription.endpoint);
            return check.ok
              ? parsed
              : { success: false, issues: [{ path: 'subscription.endpoint', message: check.reason }] };
          });
          const addressed = await refuseUnsafeAddresses(batch.valid, batch.rejected, endpoints);
          rejected.push(...batch.rejected);
          const now = ctx.clock.now();
          const built = addressed.map(({ value }) => subscriptionFromInput(value, now));
          const [storedSubscriptions, zones] = await Promise.all([
            ctx.storage.getSubscriptions(built.map((subscription) => subscription.id)),
            ctx.storage.getProfileZones(built.map((subscription) => subscription.userId)),
          ]);
          // Whole profiles only where one will change: a stored profile without a zone, given one now.
          const storedProfiles = await ctx.storage.getProfiles(
            built
              .filter(({ userId, timezone }) => zones.get(userId) === null && timezone)
              .map(({ userId }) => userId),
          );
          const createdAt = new Map(storedSubscriptions.map((stored) => [stored.id, stored.createdAt]));
          const subscriptions = new Map<string, Subscription>();
          for (const subscription of built) {
            const since =
              inFlight.subscriptions.get(subscription.id)?.createdAt ?? createdAt.get(subscription.id) ?? now;
            subscriptions.set(subscription.id, { ...subscription, createdAt: since });
          }
          const profiles = new Map(storedProfiles.map((profile) => [profile.userId, profile]));
          const newProfiles = new Map<string, Profile>();
          for (const { userId, timezone } of built) {
            const known = newProfiles.get(userId) ?? inFlight.profiles.get(userId) ?? profiles.get(userId);
            const storedZone = zones.get(userId);
            if (!known && storedZone !== undefined && storedProfileWillDo(storedZone, timezone)) continue;
            const profile = profileForSubscriber(userId, timezone, known ?? null, now);
            if (profile) newProfiles.set(userId, profile);
          }
          inFlight = { subscriptions, profiles: newProfiles };
          imported += addressed.length;
          // Keyed by id: an id given twice keeps the last row, as storage would.
          return { subscriptions: [...subscriptions.values()], profiles: [...newProfiles.values()] };
        },
        // One write: a batch's new profiles land with its subscriptions or not at all.
        ({ subscriptions, profiles }) => ctx.storage.upsertSubscriptions(subscriptions, { profiles }),
      );
      return { imported, rejected };
    },

    async events(rows: readonly unknown[], options: ImportEventsOptions = {}): Promise<ImportResult> {
      const { valid, rejected } = validate(rows, (row) => parseStorableInput(EventInput, row));
      for (const batch of batches(valid)) {
        const now = ctx.clock.now();
        const events: UserEvent[] = batch.map(({ value }) => ({ ...value, time: value.time ?? now }));
        await ctx.storage.appendEvents(events);
        if (!options.live) continue;
        // As `events.track` does: live campaigns react (the whole batch at once), then conversions.
        await armLiveTriggers(ctx, events);
        await attributeConversions(ctx, events);
      }
      return { imported: valid.length, rejected };
    },
  };
}

/**
 * Conversions of a batch: each user's events in order (a recipient converts on its first goal
 * event), users side by side so their reads and writes overlap.
 */
async function attributeConversions(ctx: EngineContext, events: readonly UserEvent[]): Promise<void> {
  const byUser = groupBy(events, (event) => event.userId);
  await mapLimit([...byUser.values()], 100, async (own) => {
    for (const event of own) await attributeConversion(ctx, event);
  });
}
