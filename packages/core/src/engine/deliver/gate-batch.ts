import type { Delivery, JsonValue, Profile, SkipReason, Subscription, UserId } from '../../model/index.js';
import type { ConsumeResult, CounterSpec, RecipientUpdate } from '../../ports/index.js';
import { groupBy } from '../collections.js';
import { capZoneOf, zoneOf } from '../schedule/index.js';
import { type BatchRun, recipientUpdate, renderFor, type Send } from './batch-run.js';
import { isThrottleKey, nextMinute } from './gates/throttle.js';
import { lateReason, ttlLapsed } from './gates/window.js';
import { zoneFactsAt } from './gates/zone-facts.js';
import { missingFacts } from './render.js';

type Facts = Record<string, JsonValue | undefined>;
type ZoneFactsAt = ReturnType<typeof zoneFactsAt>;

/**
 * The verdicts a batch reaches on users that will not be sent now: skips
 * (written in one call, each with its decision) and delays (re-queued by
 * due instant, logged: the row stays pending).
 */
function batchVerdicts(run: BatchRun) {
  const { campaign, dueAt, log } = run;
  const skips: RecipientUpdate[] = [];
  const delays = new Map<number, UserId[]>();
  const skip = (userId: UserId, reason: SkipReason, facts: Facts = {}) => {
    skips.push(recipientUpdate(run, 'skipped', reason, log.decision(userId, 'skipped', reason, facts)));
  };
  const delay = (userId: UserId, until: Date, why: string, facts: Facts) => {
    const late = lateReason(campaign, until, dueAt);
    if (late) return skip(userId, late, { ...facts, wouldWaitUntil: until.toISOString(), why });
    log.add(userId, 'delayed', why, { ...facts, until: until.toISOString() });
    const group = delays.get(until.getTime());
    if (group) group.push(userId);
    else delays.set(until.getTime(), [userId]);
  };
  return { skips, delays, skip, delay };
}
export type BatchVerdicts = ReturnType<typeof batchVerdicts>;

/** What a batch's gates work out once and fill in as they go: each zone's facts, and the verdicts reached. */
export interface BatchGates {
  zones: ZoneFactsAt;
  verdicts: BatchVerdicts;
}

export function openGates(run: BatchRun): BatchGates {
  return { zones: zoneFactsAt(run.ctx, run.campaign, run.now), verdicts: batchVerdicts(run) };
}

/** A user who passed the gates that need no counter, with the messages to send them. */
export interface Candidate {
  userId: UserId;
  zone: string;
  /** The zone the user's caps count days in (`capZoneOf`): not the campaign's for a zoneless user. */
  capZone: string;
  localTime: string;
  sends: Send[];
  /**
   * A subscription of theirs already has a `sent` outcome (a batch run again
   * after a kill): the run that sent it took their counters, so this one
   * takes none, and a cap their own message filled never skips them.
   */
  sentBefore: boolean;
}

/** What the batch read for its pending users. */
export interface BatchReads {
  profiles: readonly Profile[];
  subscriptions: readonly Subscription[];
  /** Deliveries with a final outcome already (a retried batch): those subscriptions are not sent again. */
  earlier: readonly Delivery[];
}

/**
 * The gates that need no counter, per user in batch order: a subscription
 * a provider can send to, Do-Not-Disturb in the user's zone, the TTL, and
 * the template rendering for them.
 */
export async function gateWithoutCounters(
  run: BatchRun,
  { zones, verdicts }: BatchGates,
  pending: readonly UserId[],
  reads: BatchReads,
): Promise<Candidate[]> {
  const { ctx, campaign, dueAt, now } = run;
  const profileOf = new Map(reads.profiles.map((profile) => [profile.userId, profile]));
  const alreadyFinal = new Set(reads.earlier.map((delivery) => delivery.subscriptionId));
  const sentBefore = new Set(
    reads.earlier.filter((delivery) => delivery.status === 'sent').map((delivery) => delivery.userId),
  );
  const subscriptionsOf = groupBy(reads.subscriptions, (subscription) => subscription.userId);
  const expired = ttlLapsed(campaign, dueAt, now);
  const ready: Candidate[] = [];
  for (const userId of pending) {
    const profile = profileOf.get(userId);
    const zone = zoneOf(campaign, profile?.timezone);
    const { localTime, dnd } = zones.of(zone);
    const own = (subscriptionsOf.get(userId) ?? []).filter(
      (subscription) => ctx.providers[subscription.target] !== undefined,
    );
    if (own.length === 0) {
      verdicts.skip(userId, 'no-subscription', { zone, localTime });
      continue;
    }
    if (dnd?.inside) {
      const window = zones.dndWindow;
      const facts = {
        zone,
        localTime,
        dnd: window ? `${window.start}–${window.end}` : undefined,
        dndEndsAt: dnd.endsAt.toISOString(),
      };
      if (dnd.action === 'discard') verdicts.skip(userId, 'dnd-discarded', facts);
      else verdicts.delay(userId, dnd.endsAt, 'dnd', facts);
      continue;
    }
    if (expired) {
      verdicts.skip(userId, 'expired', { zone, localTime, dueAt: dueAt.toISOString() });
      continue;
    }
    const rendered = await renderFor(run, userId, profile);
    if (!rendered.ok) {
      ctx.logger.info('recipient skipped: template did not render', {
        campaignId: campaign.id,
        userId,
        issues: rendered.issues,
      });
      verdicts.skip(userId, rendered.reason, { zone, ...missingFacts(rendered.missing) });
      continue;
    }
    const sends: Send[] = [];
    for (const subscription of own) {
      if (!alreadyFinal.has(subscription.id)) sends.push({ userId, subscription, message: rendered.message });
    }
    ready.push({
      userId,
      zone,
      capZone: capZoneOf(ctx.defaultTimezone, profile?.timezone),
      localTime,
      sends,
      sentBefore: sentBefore.has(userId),
    });
  }
  return ready;
}

/** The counted part of a batch: what to send, and what each send was decided on. */
export interface Counted {
  sends: Send[];
  /** The counter keys each sent user took, given back if nothing reaches them. */
  counterKeys: Map<UserId, string[]>;
  /** The facts of each `sent` decision (explain: "cap counters at the time"). */
  sentFacts: Map<UserId, Record<string, JsonValue>>;
  /** Users whose every subscription already has a final outcome (a retried batch): settled, not counted. */
  settleOnly: UserId[];
}

/**
 * Caps and throttle: one all-or-nothing counter step per user, in batch
 * order. A user over a cap is skipped; once the throttle is full, the rest
 * of the batch is spread over the coming minutes at its pace, so a big
 * campaign does not re-queue everyone every minute (the counter still decides).
 */
export async function takeCounters(
  run: BatchRun,
  { zones, verdicts }: BatchGates,
  ready: readonly Candidate[],
): Promise<Counted> {
  const { ctx, campaign, now } = run;
  const counted: Counted = { sends: [], counterKeys: new Map(), sentFacts: new Map(), settleOnly: [] };
  // Each user's counters, once: none for a user with nothing to send or counted by an earlier run.
  const specsByIndex = ready.map((candidate) =>
    candidate.sends.length === 0 || candidate.sentBefore
      ? []
      : zones.counterSpecs(candidate.userId, candidate.capZone),
  );
  const answers = await consumeAhead(run, specsByIndex);
  let throttledFrom = -1;
  for (const [index, candidate] of ready.entries()) {
    if (candidate.sends.length === 0) {
      counted.settleOnly.push(candidate.userId);
      continue;
    }
    if (candidate.sentBefore) {
      counted.sentFacts.set(candidate.userId, {
        zone: candidate.zone,
        localTime: candidate.localTime,
        counters: 'taken by an earlier run of this batch',
      });
      for (const send of candidate.sends) counted.sends.push(send);
      continue;
    }
    const specs = specsByIndex[index] ?? [];
    let counts: number[] = [];
    if (specs.length > 0) {
      const consumed = answers?.get(index) ?? (await ctx.counters.consume(specs, now));
      if (!consumed.allowed) {
        if (isThrottleKey(consumed.blockedBy)) {
          // Asked ahead, the users after this one were answered too, each blocked by the same full
          // throttle (every request of a batch names it, and nothing in one call frees it): nothing
          // was taken for them, and they are delayed below like the rest.
          throttledFrom = index;
          break;
        }
        const current = await ctx.counters.get(
          specs.map((spec) => spec.key),
          now,
        );
        verdicts.skip(candidate.userId, 'capped', {
          zone: candidate.zone,
          capZone: candidate.capZone,
          blockedBy: consumed.blockedBy,
          counters: counterFacts(specs, current),
        });
        continue;
      }
      counts = consumed.counts;
      counted.counterKeys.set(
        candidate.userId,
        specs.map((spec) => spec.key),
      );
    }
    counted.sentFacts.set(candidate.userId, {
      zone: candidate.zone,
      localTime: candidate.localTime,
      counters: counterFacts(specs, counts),
    });
    for (const send of candidate.sends) counted.sends.push(send);
  }
  if (throttledFrom >= 0) {
    const perMinute = campaign.when.throttlePerMinute ?? 1;
    for (const [place, candidate] of ready.slice(throttledFrom).entries()) {
      // The place in the throttled queue picks the minute: `perMinute` users per minute from the next one.
      const until = new Date(nextMinute(now).getTime() + Math.floor(place / perMinute) * 60_000);
      verdicts.delay(candidate.userId, until, 'throttle', {
        zone: candidate.zone,
        throttlePerMinute: campaign.when.throttlePerMinute ?? null,
      });
    }
  }
  return counted;
}

/**
 * Every counter step of the batch in one round trip, when the Counters has `consumeEach`: the
 * answers `consume` would give user by user, in batch order, by candidate index (a user without
 * counters is not asked). Null without it (the loop then asks per user). Under caps this is what
 * keeps a 250-user batch from making 250 sequential round trips to Postgres or Redis.
 */
async function consumeAhead(
  run: BatchRun,
  specsByIndex: readonly CounterSpec[][],
): Promise<Map<number, ConsumeResult> | null> {
  const { counters } = run.ctx;
  if (!counters.consumeEach) return null;
  const asked = [...specsByIndex.keys()].filter((index) => (specsByIndex[index]?.length ?? 0) > 0);
  if (asked.length === 0) return null;
  const requests = asked.map((index) => specsByIndex[index] as CounterSpec[]);
  const results = await counters.consumeEach(requests, run.now);
  if (results.length !== requests.length)
    throw new Error(`Counters.consumeEach answered ${results.length} requests of ${requests.length}`);
  return new Map(asked.map((index, place) => [index, results[place] as ConsumeResult]));
}

/** Each counter of a decision with its count then (explain: "cap counters at the time"). */
function counterFacts(specs: readonly CounterSpec[], counts: readonly number[]) {
  return specs.map((spec, index) => ({ key: spec.key, count: counts[index] ?? 0, limit: spec.limit }));
}

/** Counted messages that were not sent give their units back, so a failed send never uses up a cap. */
export async function releaseUnsent(
  run: BatchRun,
  unsent: readonly UserId[],
  counterKeysOf: ReadonlyMap<UserId, readonly string[]>,
): Promise<void> {
  const keys = unsent.flatMap((userId) => counterKeysOf.get(userId) ?? []);
  if (keys.length > 0) await run.ctx.counters.release(keys, run.now);
}
