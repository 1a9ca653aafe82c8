/**
 * Bulk entry points (`profiles.import`, `subscriptions.import`,
 * `events.import`): the rules of the single-row calls, applied to many rows
 * with a few storage round trips per batch instead of several per row.
 *
 * Every row is validated on its own: a bad row is reported by its index and
 * the good ones are still written. Rows go to storage in batches of
 * IMPORT_BATCH, one batch after the other, so a fault (the database going
 * away) fails the call with the earlier batches written; importing the same
 * rows again is safe, as every write is an upsert (events excepted: they are
 * a log, appended again).
 */
import type { z } from 'zod';
import type { EndpointPolicy } from '../delivery/endpoint-policy.js';
import { type FieldIssue, parseWithIssues } from '../errors/index.js';
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
  if (existing && (existing.timezone || !timezone)) return null;
  return {
    userId,
    properties: existing?.properties ?? {},
    test: existing?.test ?? false,
    ...(timezone ? { timezone } : {}),
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
  };
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
      const { valid, rejected } = validate(rows, (row) => parseWithIssues(ProfileInput, row));
      for (const batch of batches(valid)) {
        const now = ctx.clock.now();
        const stored = await ctx.storage.getProfiles(batch.map(({ value }) => value.userId));
        // Keyed by user: a user named twice in one batch gets the second row merged onto the first.
        const current = new Map<string, Profile>(stored.map((profile) => [profile.userId, profile]));
        for (const { row, value } of batch) {
          current.set(value.userId, mergeProfile(row, value, current.get(value.userId) ?? null, now));
        }
        await ctx.storage.upsertProfiles([...current.values()]);
      }
      return { imported: valid.length, rejected };
    },

    async subscriptions(rows: readonly unknown[]): Promise<ImportResult> {
      const { valid, rejected } = validate(rows, (row) => {
        const parsed = parseWithIssues(SubscriptionInput, row);
        if (!parsed.success || parsed.data.target !== 'webpush') return parsed;
        // The same endpoint check as `subscriptions.add`, reported on the row instead of thrown.
        const check = endpoints.check(parsed.data.subscription.endpoint);
        return check.ok
          ? parsed
          : { success: false, issues: [{ path: 'subscription.endpoint', message: check.reason }] };
      });
      const addressed = await refuseUnsafeAddresses(valid, rejected, endpoints);
      for (const batch of batches(addressed)) {
        const now = ctx.clock.now();
        const built = batch.map(({ value }) => subscriptionFromInput(value, now));
        const stored = await ctx.storage.getSubscriptions(built.map((subscription) => subscription.id));
        const createdAt = new Map(stored.map((subscription) => [subscription.id, subscription.createdAt]));
        const subscriptions = built.map((subscription) => ({
          ...subscription,
          createdAt: createdAt.get(subscription.id) ?? now,
        }));
        const profiles = new Map<string, Profile | null>(
          (await ctx.storage.getProfiles(subscriptions.map((subscription) => subscription.userId))).map(
            (profile) => [profile.userId, profile],
          ),
        );
        const newProfiles = new Map<string, Profile>();
        for (const subscription of subscriptions) {
          const existing = newProfiles.get(subscription.userId) ?? profiles.get(subscription.userId) ?? null;
          const profile = profileForSubscriber(subscription.userId, subscription.timezone, existing, now);
          if (profile) newProfiles.set(subscription.userId, profile);
        }
        await ctx.storage.upsertProfiles([...newProfiles.values()]);
        await ctx.storage.upsertSubscriptions(subscriptions);
      }
      return { imported: valid.length, rejected };
    },

    async events(rows: readonly unknown[], options: ImportEventsOptions = {}): Promise<ImportResult> {
      const { valid, rejected } = validate(rows, (row) => parseWithIssues(EventInput, row));
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
