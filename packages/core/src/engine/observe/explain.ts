import { DateTime } from 'luxon';
import {
  type Campaign,
  type Decision,
  type DndWindow,
  isLive,
  type Profile,
  type UserId,
} from '../../model/index.js';
import { evaluateSegment } from '../../segments/index.js';
import { groupBy } from '../collections.js';
import type { EngineContext } from '../context.js';
import { capSpecs, checkDnd, dndWindowAround, inControlGroup } from '../deliver/index.js';
import { resolveAudience } from '../fanout/index.js';
import {
  actAtFor,
  capZoneOf,
  nextDueAt,
  occurrenceId,
  occurrenceInstant,
  seriesAnchor,
  zoneOf,
} from '../schedule/index.js';

export interface OccurrenceExplanation {
  occurrence: string;
  /**
   * Whether any decision reached this user. A started occurrence of a scheduled
   * campaign without one: the user was not in its audience when it ran, or their
   * part of the run (a later time zone, a later page) has not come yet.
   */
  reached: boolean;
  /** The recipient row: where this user stands for this occurrence (null: only log entries, e.g. a cancelled timer). */
  state: string | null;
  reason: string | null;
  /** Every decision, oldest first, with the facts it was based on (zone, local time, DND window, cap counters). */
  decisions: Decision[];
  deliveries: {
    subscriptionId: string;
    status: string;
    statusCode: number | null;
    reason: string | null;
    at: Date;
  }[];
}

export interface Explanation {
  campaignId: string;
  userId: string;
  campaignStatus: Campaign['status'];
  user: { known: boolean; zone: string; zoneFrom: 'profile' | 'campaign'; localNow: string };
  /** Whether the user matches the campaign's segment now (runs evaluate it at their own time). */
  segment: { matchesNow: boolean };
  controlGroup: { percent: number; member: boolean };
  /** `zone`: where the user's cap days are counted (their zone, else the engine's `defaultTimezone`). */
  caps: { applies: boolean; zone: string; counters: { key: string; count: number; limit: number }[] };
  dnd: {
    window: DndWindow | null;
    from: 'campaign' | 'global' | null;
    insideNow: boolean;
    /** When the window now in force ends, in the user's zone (DST applied). */
    endsAt: string | null;
    /** The window in force now, or the next one: instants and the user's local times (DST applied). */
    around: { from: string; to: string; fromLocal: string; toLocal: string } | null;
  };
  window: { start: string | null; end: string | null; cutoff: string | null };
  occurrences: OccurrenceExplanation[];
  /** The same, in sentences a support agent can read out. */
  summary: string[];
}

/** Why this user did or did not get this campaign, occurrence by occurrence. */
export async function explain(ctx: EngineContext, campaign: Campaign, userId: UserId): Promise<Explanation> {
  const now = ctx.clock.now();
  const [stored, events, subscriptions, decisions] = await Promise.all([
    ctx.storage.getProfile(userId),
    ctx.storage.listEvents({ userId }),
    ctx.storage.listSubscriptions([userId]),
    ctx.storage.listDecisions({ userId, campaignId: campaign.id }),
  ]);
  const profile: Profile = stored ?? { userId, properties: {}, test: false, createdAt: now, updatedAt: now };
  const zone = zoneOf(campaign, stored?.timezone);
  const localNow = DateTime.fromJSDate(now, { zone }).toFormat('yyyy-MM-dd HH:mm ZZZZ');
  const matchesNow = evaluateSegment(
    await resolveAudience(ctx.storage, campaign),
    { profile, events, subscriptions },
    now,
  );
  const member = inControlGroup(campaign.id, userId, campaign.setup.controlGroupPercent);
  const capZone = capZoneOf(ctx.defaultTimezone, stored?.timezone);
  const specs = campaign.setup.ignoreGlobalLimits ? [] : capSpecs(ctx.limits, userId, capZone, now);
  const counts = await ctx.counters.get(
    specs.map((spec) => spec.key),
    now,
  );
  const dndWindow = campaign.when.dnd ?? ctx.dnd ?? null;
  const dndCheck = dndWindow ? checkDnd(dndWindow, zone, now) : null;
  const around = dndWindow ? dndWindowAround(dndWindow, zone, now) : null;
  const localOf = (at: Date) => DateTime.fromJSDate(at, { zone }).toFormat('yyyy-MM-dd HH:mm ZZZZ');

  const occurrences: OccurrenceExplanation[] = [];
  for (const [occurrence, logged] of groupBy(decisions, (decision) => decision.occurrence)) {
    const [recipient] = await ctx.storage.getRecipients(campaign.id, occurrence, [userId]);
    const deliveries = await ctx.storage.listDeliveries(campaign.id, occurrence, [userId]);
    occurrences.push({
      occurrence,
      reached: true,
      state: recipient?.state ?? null,
      reason: recipient?.reason ?? null,
      decisions: logged,
      deliveries: deliveries.map((d) => ({
        subscriptionId: d.subscriptionId,
        status: d.status,
        statusCode: d.statusCode,
        reason: d.reason,
        at: d.at,
      })),
    });
  }

  const reached = new Set(occurrences.map((o) => o.occurrence));
  for (const occurrence of startedOccurrences(campaign, now)) {
    if (reached.has(occurrence)) continue;
    occurrences.push({
      occurrence,
      reached: false,
      state: null,
      reason: null,
      decisions: [],
      deliveries: [],
    });
  }
  occurrences.sort((a, b) => timeOf(a) - timeOf(b));

  const explanation: Explanation = {
    campaignId: campaign.id,
    userId,
    campaignStatus: campaign.status,
    user: { known: stored !== null, zone, zoneFrom: stored?.timezone ? 'profile' : 'campaign', localNow },
    segment: { matchesNow },
    controlGroup: { percent: campaign.setup.controlGroupPercent, member },
    caps: {
      applies: !campaign.setup.ignoreGlobalLimits && specs.length > 0,
      zone: capZone,
      counters: specs.map((spec, index) => ({ key: spec.key, count: counts[index] ?? 0, limit: spec.limit })),
    },
    dnd: {
      window: dndWindow,
      from: campaign.when.dnd ? 'campaign' : ctx.dnd ? 'global' : null,
      insideNow: dndCheck?.inside ?? false,
      endsAt: dndCheck?.inside ? dndCheck.endsAt.toISOString() : null,
      around: around
        ? {
            from: around.from.toISOString(),
            to: around.to.toISOString(),
            fromLocal: localOf(around.from),
            toLocal: localOf(around.to),
          }
        : null,
    },
    window: {
      start: campaign.when.start?.toISOString() ?? null,
      end: campaign.when.end?.toISOString() ?? null,
      cutoff: campaign.when.cutoff?.toISOString() ?? null,
    },
    occurrences,
    summary: [],
  };
  explanation.summary = summarise(explanation);
  return explanation;
}

/** How many past occurrences of a recurring campaign explain lists at most. */
const MAX_OCCURRENCES = 100;

/**
 * The occurrences of a scheduled campaign that have started by `now` (the
 * most recent MAX_OCCURRENCES), counted from `runsFrom`: after a resume that
 * skipped runs, the runs before the pause are listed only where they reached
 * the user (their decisions), never the skipped ones.
 */
function startedOccurrences(campaign: Campaign, now: Date): string[] {
  if (isLive(campaign.when.schedule) || campaign.status === 'draft') return [];
  const started: string[] = [];
  for (
    let nominal = nextDueAt(campaign.when, null, seriesAnchor(campaign));
    nominal !== null;
    nominal = nextDueAt(campaign.when, nominal, seriesAnchor(campaign))
  ) {
    const actAt = actAtFor(campaign.when, nominal);
    if (actAt > now || (campaign.nextRunAt !== null && actAt >= campaign.nextRunAt)) break;
    started.push(occurrenceId(nominal));
  }
  return started.slice(-MAX_OCCURRENCES);
}

/** Scheduled occurrences sort by their instant, live ones (named by their trigger) by their first decision. */
function timeOf(explained: OccurrenceExplanation): number {
  return occurrenceInstant(explained.occurrence)?.getTime() ?? explained.decisions[0]?.at.getTime() ?? 0;
}

function summarise(explanation: Explanation): string[] {
  const lines = [
    `User ${explanation.userId} is read in ${explanation.user.zone} (from the ${explanation.user.zoneFrom}); local time now ${explanation.user.localNow}.`,
    explanation.segment.matchesNow
      ? 'They match the campaign segment now.'
      : 'They do not match the campaign segment now.',
  ];
  if (explanation.controlGroup.percent > 0) {
    lines.push(
      explanation.controlGroup.member
        ? `They are in the ${explanation.controlGroup.percent}% control group: they never receive this campaign.`
        : `They are not in the ${explanation.controlGroup.percent}% control group.`,
    );
  }
  if (explanation.caps.applies) {
    lines.push(
      `Global caps now: ${explanation.caps.counters.map((counter) => `${counter.key.split(':')[2] === 'd' ? 'today' : 'this week'} ${counter.count}/${counter.limit}`).join(', ')}.`,
    );
  } else {
    lines.push('Global caps do not apply to this campaign.');
  }
  if (explanation.dnd.window) {
    lines.push(
      `Do-Not-Disturb (${explanation.dnd.from}) ${explanation.dnd.window.start}–${explanation.dnd.window.end} ${explanation.user.zone}, action ${explanation.dnd.window.action}` +
        (explanation.dnd.insideNow
          ? `; inside it now, until ${explanation.dnd.endsAt}`
          : '; not inside it now') +
        (explanation.dnd.around
          ? ` (${explanation.dnd.insideNow ? 'this' : 'next'} window: ${explanation.dnd.around.fromLocal} to ${explanation.dnd.around.toLocal}).`
          : '.'),
    );
  }
  if (explanation.window.cutoff) lines.push(`Cut-off: ${explanation.window.cutoff}.`);
  if (explanation.occurrences.length === 0) {
    lines.push(
      'No decision recorded: no run has reached this user (not in the audience when it ran, or no run yet).',
    );
  }
  for (const explained of explanation.occurrences) {
    if (!explained.reached) {
      lines.push(
        `Occurrence ${explained.occurrence}: no decision for this user — not in the audience when it ran, or their part of the run has not come yet.`,
      );
      continue;
    }
    const last = explained.decisions.at(-1);
    const detail = last
      ? `${last.outcome}${last.reason ? ` (${last.reason})` : ''} at ${last.at.toISOString()}`
      : 'no decision';
    lines.push(
      `Occurrence ${explained.occurrence}: ${explained.state ?? 'no recipient row'}${explained.reason ? ` (${explained.reason})` : ''}; last decision ${detail}.`,
    );
  }
  return lines;
}
