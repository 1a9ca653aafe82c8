import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDevPushService, type DevPushService } from '@herald/core/dev';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  Fleet,
  openStack,
  Receipts,
  recipientStates,
  requireBuild,
  requireEnv,
  type Stack,
  seedAudience,
  tearDown,
  waitFor,
} from './harness.js';

/**
 * Issue 15, test 5: three processes each run the scheduler (every `herald.start()` does) against a
 * daily campaign for a simulated week. The fake clock is shared through a file every process reads
 * as now; the test moves it in six-hour steps, so at each 10:00 all three schedulers find the
 * occurrence due within the same poll. Each occurrence must start exactly once: that is what the
 * scheduler's optimistic version check on the campaign row (and the start job's dedupe key) is for.
 */
vi.setConfig({ testTimeout: 240_000, hookTimeout: 120_000 });

const AUDIENCE = 40;
const DAYS = 7;
const STEP_MS = 6 * 3600_000;
/** 04:00: the steps land on 10:00, 16:00, 22:00 and 04:00 of each day. */
const WEEK_START = Date.parse('2026-03-02T04:00:00Z');
/** From WEEK_START to each day's 10:00. */
const TO_TEN_MS = 6 * 3600_000;

describe('schedulers in every process', () => {
  let service: DevPushService;
  let stack: Stack;
  let dir: string;
  let clockFile: string;
  const fleet = new Fleet();

  /** Moves every process's now at once: written aside and renamed, so no process reads half a date. */
  const setNow = (at: number) => {
    writeFileSync(`${clockFile}.next`, new Date(at).toISOString());
    renameSync(`${clockFile}.next`, clockFile);
  };
  const sharedClock = {
    now: () => new Date(readFileSync(clockFile, 'utf8').trim()),
    sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.min(ms, 200))),
  };

  beforeAll(async () => {
    requireBuild();
    dir = mkdtempSync(join(tmpdir(), 'herald-procs-clock-'));
    clockFile = join(dir, 'now');
    setNow(WEEK_START);
    service = createDevPushService({ tls: true });
    await service.start();
    stack = await openStack({
      kind: 'postgres',
      label: 'scheduler',
      pgUrl: requireEnv('HERALD_TEST_PG_URL'),
      service,
      clock: sharedClock,
    });
    await seedAudience(stack, service, AUDIENCE);
  });
  afterAll(async () => {
    await tearDown({ fleet, stack, service });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`a daily campaign over ${DAYS} simulated days: each occurrence starts exactly once`, async () => {
    const began = Date.now();
    const tuning = { concurrency: 2, batchSize: 20, sendConcurrency: 10, pollIntervalMs: 50 };
    for (const name of ['s1', 's2', 's3']) await fleet.start(stack.workerConfig(name, { tuning, clockFile }));
    const campaign = await stack.herald.campaigns.create({
      name: 'Daily digest',
      when: { schedule: { type: 'recurring', time: '10:00', every: { unit: 'day', interval: 1 } } },
      who: { segment: { type: 'all' } },
      what: { title: 'Your daily digest', deeplink: 'https://shop.example.com/digest' },
    });
    await stack.herald.campaigns.schedule(campaign.id);

    const receipts = new Receipts(service);
    const ofCampaign = () => receipts.update().all.filter((receipt) => receipt.campaignId === campaign.id);
    const end = WEEK_START + DAYS * 24 * 3600_000;
    let occurrences = 0;
    for (let at = WEEK_START + STEP_MS; at < end; at += STEP_MS) {
      setNow(at);
      if (new Date(at).getUTCHours() === 10) {
        occurrences++;
        // The occurrence goes out in full before time moves on (a job must not outlive its lease in
        // simulated time); more is checked below.
        await waitFor(
          `occurrence ${occurrences} delivered`,
          () => ofCampaign().length >= occurrences * AUDIENCE,
          {
            timeoutMs: 60_000,
            intervalMs: 50,
          },
        );
        await waitFor(
          'an empty queue',
          async () => {
            const counts = await stack.queue.counts();
            return counts.waiting === 0 && counts.active === 0;
          },
          { timeoutMs: 60_000, intervalMs: 50 },
        );
      } else {
        // Long enough for every process to look at the clock (its loop sleeps at most 200 ms).
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    }

    const starts = fleet.workers.flatMap((worker) =>
      worker.events.flatMap((event) =>
        event.type === 'occurrence-started' && event.campaignId === campaign.id
          ? [{ occurrence: event.occurrence, by: worker.name }]
          : [],
      ),
    );
    const expected = Array.from({ length: DAYS }, (_, day) =>
      new Date(WEEK_START + day * 24 * 3600_000 + TO_TEN_MS).toISOString(),
    );
    expect(starts.map((start) => start.occurrence).sort()).toEqual(expected);

    const perOccurrenceUser = new Map<string, number>();
    for (const receipt of ofCampaign()) {
      const key = `${receipt.occurrence}|${receipt.userId}`;
      perOccurrenceUser.set(key, (perOccurrenceUser.get(key) ?? 0) + 1);
    }
    expect(perOccurrenceUser.size).toBe(DAYS * AUDIENCE);
    expect([...perOccurrenceUser].filter(([, n]) => n !== 1)).toEqual([]);
    expect(Object.fromEntries(await recipientStates(stack, [campaign.id]))).toEqual({
      delivered: DAYS * AUDIENCE,
    });
    const after = await stack.herald.campaigns.get(campaign.id);
    expect(after.nextRunAt?.toISOString()).toBe(new Date(end + TO_TEN_MS).toISOString());

    const startedBy = new Map<string, number>();
    for (const start of starts) startedBy.set(start.by, (startedBy.get(start.by) ?? 0) + 1);
    const { cpuMs } = await fleet.stopAll();
    const figures = {
      test: 'scheduler',
      days: DAYS,
      occurrences: starts.length,
      started_by: Object.fromEntries(startedBy),
      wall_ms: Date.now() - began,
      workers_cpu_ms: cpuMs,
    };
    console.log(`figures ${JSON.stringify(figures)}`);
  });
});
