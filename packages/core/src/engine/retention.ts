import { z } from 'zod';
import { systemClock } from '../adapters/system-clock.js';
import { assertNever, parseInput } from '../errors/index.js';
import type { Campaign, CampaignStatus, SegmentDefinition } from '../model/index.js';
import type { Clock, Logger, PruneBatch, Queue, Storage } from '../ports/index.js';
import { resolveBound, windowRange } from '../segments/index.js';
import { resolveAudience } from './fanout/index.js';
import { consoleLogger } from './logger.js';

const SECOND = 1000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const AGE_UNITS = { s: SECOND, m: 60 * SECOND, h: HOUR, d: DAY, w: 7 * DAY } as const;
const DURATION_UNITS = { minutes: 60 * SECOND, hours: HOUR, days: DAY } as const;

/**
 * Slack added to every floor below: a timer or a goal event may be handled
 * late (a worker backlog, an event tracked with a past time), and it must
 * still find what its window reads.
 */
export const RETENTION_MARGIN_MS = DAY;

/** An age: milliseconds, or a number and a unit, `30d`, `12h`, `90m`, `45s`, `2w`. */
export const RetentionAge = z.union([
  z.number().int().positive(),
  z
    .string()
    .regex(/^[1-9][0-9]*(s|m|h|d|w)$/, 'must be a number and a unit (s, m, h, d, w), such as 30d or 12h'),
]);
export type RetentionAge = z.input<typeof RetentionAge>;

/** What a retention pass removes: each kind given is pruned, a kind left out is kept whole. */
export const PruneOptions = z.strictObject({
  olderThan: z.strictObject({
    /** Users' tracked events (`events.track`): behaviour segments, live triggers, explain read them. */
    events: RetentionAge.optional(),
    /** The decision log: `campaigns.explain` and conversion attribution read it; stats do not. */
    decisions: RetentionAge.optional(),
    /** Failed queue jobs, by the due instant of their last run (completed jobs are deleted when they complete). */
    jobs: RetentionAge.optional(),
  }),
  /** Rows per DELETE: each batch is its own short statement, so workers never wait long behind a prune. */
  batchSize: z.number().int().min(1).max(100_000).default(1000),
  /** Only compute and report the cutoffs; delete nothing. */
  dryRun: z.boolean().default(false),
});
export type PruneOptions = z.input<typeof PruneOptions>;
export type PruneKind = keyof PruneOptions['olderThan'];

export interface PruneKindResult {
  /** Rows older than this instant were removed (or, in a dry run, would be). */
  cutoff: Date;
  /**
   * True when live campaigns still read further back than the configured age,
   * so the cutoff was moved back to keep what they need (see docs/RETENTION.md).
   */
  keptForCampaigns: boolean;
  deleted: number;
  /** False when the signal stopped the pass before the last batch (run it again to finish). */
  complete: boolean;
}

/** One entry per kind asked for; a dry run reports cutoffs with nothing deleted. */
export type PruneResult = { dryRun: boolean } & Partial<Record<PruneKind, PruneKindResult>>;

/** `herald.prune`'s argument: the options, and a signal that stops the pass between two batches. */
export type PruneInput = PruneOptions & { signal?: AbortSignal };

export interface RetentionPorts {
  storage: Storage;
  queue: Queue;
  clock: Clock;
  logger: Logger;
}

/** Campaigns that may still start, send or arm timers, and so read events and decisions as they go. */
const LIVE_STATUSES: readonly CampaignStatus[] = ['draft', 'scheduled', 'running', 'paused'];

/**
 * One retention pass: for each kind asked for, deletes what is older than
 * its age in bounded batches until none is left (or `signal` aborts between
 * two batches), and logs how many went. Never removes what Herald still
 * needs:
 *
 * - events: not newer than the longest window a live campaign reads (an
 *   inaction trigger's `within`, a segment's `inLast` or `between`, a
 *   `lastTime … after` date), plus the margin;
 * - decisions: not newer than the longest conversion window of any campaign
 *   (attribution reads the sends it credits) nor than a live inaction
 *   window (its open window is a decision), plus the margin;
 * - jobs: only failed ones; waiting and running jobs are never touched.
 *
 * What nothing reads back for stats is all this removes: the figures of
 * `campaigns.stats`, `runs` and `timeline` come from recipients,
 * deliveries (through their tallies), reports, conversions and audience
 * pages, which retention keeps.
 */
export async function pruneHistory(
  ports: RetentionPorts,
  { signal, ...input }: PruneInput,
): Promise<PruneResult> {
  const options = parseInput(PruneOptions, input, 'prune');
  const now = ports.clock.now();
  const floors = await retentionFloors(ports.storage, now);
  const result: PruneResult = { dryRun: options.dryRun };
  const kinds: { kind: PruneKind; floor: number; prune: (batch: PruneBatch) => Promise<number> }[] = [
    { kind: 'events', floor: floors.events, prune: (batch) => ports.storage.pruneEvents(batch) },
    { kind: 'decisions', floor: floors.decisions, prune: (batch) => ports.storage.pruneDecisions(batch) },
    { kind: 'jobs', floor: 0, prune: (batch) => ports.queue.pruneFailed(batch) },
  ];
  for (const { kind, floor, prune } of kinds) {
    const age = options.olderThan[kind];
    if (age === undefined) continue;
    const wanted = now.getTime() - ageMs(age);
    const cutoff = new Date(Math.min(wanted, now.getTime() - floor));
    const entry: PruneKindResult = {
      cutoff,
      keptForCampaigns: cutoff.getTime() < wanted,
      deleted: 0,
      complete: true,
    };
    result[kind] = entry;
    if (options.dryRun) continue;
    for (;;) {
      if (signal?.aborted) {
        entry.complete = false;
        break;
      }
      const deleted = await prune({ before: cutoff, limit: options.batchSize });
      entry.deleted += deleted;
      if (deleted < options.batchSize) break;
    }
    ports.logger.info('retention: pruned', {
      kind,
      deleted: entry.deleted,
      cutoff: cutoff.toISOString(),
      keptForCampaigns: entry.keptForCampaigns,
      complete: entry.complete,
    });
  }
  return result;
}

/**
 * A retention pass without an engine, for a cron job or the `herald-prune`
 * bin: the same pass as `herald.prune`, on the storage and queue given.
 */
export function prune(
  options: PruneInput & { storage: Storage; queue: Queue; clock?: Clock; logger?: Logger },
): Promise<PruneResult> {
  const { storage, queue, clock, logger, ...input } = options;
  return pruneHistory(
    { storage, queue, clock: clock ?? systemClock(), logger: logger ?? consoleLogger('info') },
    input,
  );
}

export function ageMs(age: RetentionAge): number {
  const parsed = parseInput(RetentionAge, age, 'age');
  if (typeof parsed === 'number') return parsed;
  const unit = parsed.slice(-1) as keyof typeof AGE_UNITS;
  return Number(parsed.slice(0, -1)) * AGE_UNITS[unit];
}

/** How far back (ms before now) events and decisions must be kept for the campaigns stored now. */
export async function retentionFloors(
  storage: Storage,
  now: Date,
): Promise<{ events: number; decisions: number }> {
  const campaigns = await storage.listCampaigns();
  let events = 0;
  let decisions = 0;
  for (const campaign of campaigns) {
    const goal = campaign.setup.conversion;
    // Any status: a completed campaign's sends still earn conversions until its window closes.
    if (goal) decisions = Math.max(decisions, goal.windowHours * HOUR);
    if (!LIVE_STATUSES.includes(campaign.status)) continue;
    const within = inactionWindow(campaign);
    events = Math.max(events, within, await segmentLookback(storage, campaign, now));
    decisions = Math.max(decisions, within);
  }
  return {
    events: events > 0 ? events + RETENTION_MARGIN_MS : 0,
    decisions: decisions > 0 ? decisions + RETENTION_MARGIN_MS : 0,
  };
}

function inactionWindow(campaign: Campaign): number {
  const schedule = campaign.when.schedule;
  if (schedule.type !== 'inaction') return 0;
  const { amount, unit } = schedule.within;
  return amount * DURATION_UNITS[unit];
}

async function segmentLookback(storage: Storage, campaign: Campaign, now: Date): Promise<number> {
  let segment: SegmentDefinition;
  try {
    segment = await resolveAudience(storage, campaign);
  } catch {
    // A saved segment deleted under a draft: it reads nothing until it is fixed.
    return 0;
  }
  return Math.max(0, now.getTime() - earliestRead(segment, now));
}

/**
 * The earliest event instant a segment's bounded windows read at `now`
 * (Infinity when it has none). Conditions over all time (no window,
 * `firstTime`, `lastTime … before`) read whatever retention keeps: they
 * cannot be protected by a finite cutoff, so they are left out.
 */
function earliestRead(segment: SegmentDefinition, now: Date): number {
  switch (segment.type) {
    case 'all':
    case 'property':
    case 'reachable':
    case 'firstTime':
      return Number.POSITIVE_INFINITY;
    case 'lastTime':
      return segment.op === 'after' ? resolveBound(segment.date, now) : Number.POSITIVE_INFINITY;
    case 'did':
    case 'didNot':
      return segment.window ? windowRange(segment.window, now).from : Number.POSITIVE_INFINITY;
    case 'and':
    case 'or':
      return Math.min(Number.POSITIVE_INFINITY, ...segment.of.map((part) => earliestRead(part, now)));
    case 'not':
      return earliestRead(segment.of, now);
    default:
      return assertNever(segment, 'segment');
  }
}
