/**
 * Getting data in, on the postgres stack (issue 19): the bulk imports and a
 * stream of tracked events with live campaigns armed.
 *
 *   npm run bench:import [-- --n 100000] [--events 20000] [--in-flight 50]
 *     [--rate 5000] [--seconds 10] [--find-max] [--from 4000] [--step 1000]
 *
 * 1. import: N profiles (`profiles.import`, with properties) and then their N
 *    Web Push subscriptions (`subscriptions.import`), rows handed over in
 *    chunks of 10,000 as a host streaming its users out of another system
 *    would. Target at N = 1,000,000: under two minutes for both.
 * 2. track, with no live campaign and then with ten armed (four on-event,
 *    three inaction, three date reminders; every event matches at least one
 *    of them), two ways: open loop (open-loop.ts: `--rate` events a second
 *    offered on schedule for `--seconds` after a 2 s warm-up, latency from
 *    each event's scheduled time, `sustained` by a stated rule), and the
 *    closed loop of `--in-flight` callers (each awaits its call, then calls
 *    again: `closed_loop_50`, kept for comparison; it understates what Herald
 *    sustains). Target: 5,000 events/s sustained open-loop with the ten.
 *    `--find-max` then offers `--from`, `--from` + `--step`, … with the ten
 *    until a rate is not sustained. From the difference with and without:
 *    the cost of one live campaign per event.
 *
 * Herald runs in this process on a pg Pool (postgresStorage +
 * postgresQueue + postgresCounters, a fresh schema dropped afterwards), on a
 * durable Postgres as production runs (`postgres_durability` in the JSON);
 * server CPU is read from /proc (bench/delivery/servers.ts). Progress goes
 * to stderr; the last stdout line is one JSON object.
 */
import { availableParallelism, cpus } from 'node:os';
import { migrate, postgresCounters, postgresQueue, postgresStorage } from '@herald/adapter-postgres';
import { createHerald, generateVapidKeys, type Herald, silentLogger, webPush } from '@herald/core';
import pg from 'pg';
import {
  describeDurability,
  postgresBackendsCpu,
  postgresDurability,
  postgresServerCpu,
} from '../delivery/servers.js';
import { option } from '../options.js';
import { openLoop, SUSTAINED_RULE } from './open-loop.js';

const N = option('n', 100_000);
const EVENTS = option('events', 20_000);
const IN_FLIGHT = option('in-flight', 50);
const RATE = option('rate', 5_000);
const SECONDS = option('seconds', 10);
const WARMUP_SECONDS = 2;
const FIND_MAX = process.argv.includes('--find-max');
const FIND_FROM = option('from', 4_000);
const FIND_STEP = option('step', 1_000);
/** Rows per import call: what a host reading an export would hand over at once. */
const CHUNK = 10_000;
const url = process.env.HERALD_TEST_PG_URL ?? '';
if (!url) throw new Error('Set HERALD_TEST_PG_URL (npm run bench:import starts a throwaway server)');
const log = (line: string) => process.stderr.write(`${line}\n`);

// One valid receiver key pair for every subscription: the import checks shapes, not uniqueness,
// and making a million P-256 key pairs would take longer than importing them.
const P256DH = 'BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM';
const AUTH = 'tBHItJI5svbpez7KI4CCXg';

const PLANS = ['free', 'pro', 'team'] as const;
const profileRow = (index: number) => ({
  userId: `user-${index}`,
  properties: { plan: PLANS[index % 3], signupYear: 2015 + (index % 10), country: index % 2 ? 'FR' : 'DE' },
  timezone: index % 2 ? 'Europe/Paris' : 'Europe/Berlin',
});
const subscriptionRow = (index: number) => ({
  userId: `user-${index}`,
  subscription: {
    endpoint: `https://fcm.googleapis.com/fcm/send/bench-${index}`,
    keys: { p256dh: P256DH, auth: AUTH },
  },
});

interface Phase {
  seconds: number;
  herald_cpu_us: number;
  postgres_cpu_us: number | null;
}

/** Wall time, this process's CPU and the Postgres server's CPU of one piece of work. */
async function measured(
  serverCpu: { read(): Promise<number | null> },
  work: () => Promise<void>,
): Promise<Phase> {
  const serverBefore = await serverCpu.read();
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  await work();
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const serverAfter = await serverCpu.read();
  return {
    seconds,
    herald_cpu_us: cpu.user + cpu.system,
    postgres_cpu_us: serverBefore === null || serverAfter === null ? null : serverAfter - serverBefore,
  };
}

async function importRows(make: (index: number) => unknown, load: (rows: unknown[]) => Promise<number>) {
  for (let start = 0; start < N; start += CHUNK) {
    const rows = Array.from({ length: Math.min(CHUNK, N - start) }, (_, offset) => make(start + offset));
    const imported = await load(rows);
    if (imported !== rows.length) throw new Error(`imported ${imported} of ${rows.length}`);
    if ((start / CHUNK) % 20 === 19) log(`    ${start + rows.length} rows`);
  }
}

/** The ten live campaigns: every tracked event name below matches at least one. */
const LIVE_CAMPAIGNS = [
  { type: 'onEvent', event: { name: 'purchase' } },
  { type: 'onEvent', event: { name: 'purchase', where: [{ op: 'gt', property: 'amount', value: 100 }] } },
  { type: 'onEvent', event: { name: 'signup' } },
  {
    type: 'onEvent',
    event: { name: 'viewed_product', where: [{ op: 'eq', property: 'category', value: 'shoes' }] },
  },
  {
    type: 'inaction',
    event: { name: 'added_to_cart' },
    notFollowedBy: { name: 'purchase' },
    within: { amount: 1, unit: 'hours' },
  },
  {
    type: 'inaction',
    event: { name: 'viewed_product' },
    notFollowedBy: { name: 'added_to_cart' },
    within: { amount: 1, unit: 'days' },
  },
  {
    type: 'inaction',
    event: { name: 'signup' },
    notFollowedBy: { name: 'purchase' },
    within: { amount: 3, unit: 'days' },
  },
  {
    type: 'eventDate',
    event: { name: 'booked_trip' },
    property: 'departure',
    offset: { amount: -2, unit: 'days' },
    keyProperty: 'booking',
  },
  {
    type: 'eventDate',
    event: { name: 'booked_trip' },
    property: 'departure',
    offset: { amount: -2, unit: 'hours' },
  },
  {
    type: 'eventDate',
    event: { name: 'renewal_due' },
    property: 'due',
    offset: { amount: -7, unit: 'days' },
  },
] as const;

const EVENT_NAMES = [
  'viewed_product',
  'added_to_cart',
  'purchase',
  'signup',
  'booked_trip',
  'renewal_due',
] as const;

/** The i-th tracked event: names in rotation, properties the campaigns read, users spread over the N. */
function eventAt(index: number, now: number) {
  const name = EVENT_NAMES[index % EVENT_NAMES.length] as (typeof EVENT_NAMES)[number];
  const later = new Date(now + (10 + (index % 20)) * 86_400_000).toISOString();
  const properties: Record<string, unknown> = {
    viewed_product: { category: index % 2 ? 'shoes' : 'hats', sku: `sku-${index % 500}` },
    added_to_cart: { sku: `sku-${index % 500}` },
    purchase: { amount: index % 200 },
    signup: { source: 'ads' },
    booked_trip: { departure: later, booking: `b-${index}` },
    renewal_due: { due: later },
  }[name];
  return { userId: `user-${(index * 7919) % N}`, name, properties };
}

async function trackAll(herald: Herald, offset: number): Promise<void> {
  let next = 0;
  const now = Date.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < EVENTS) {
        const index = next++;
        await herald.events.track(eventAt(offset + index, now));
      }
    }),
  );
}

/**
 * Statements this process sends to Postgres, counted where every one passes (`pg`'s Client.query,
 * which a Pool's query calls too): the server here has no pg_stat_statements.
 */
let statementsSent = 0;
const clientQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function countedQuery(this: pg.Client, ...args: unknown[]) {
  statementsSent++;
  return (clientQuery as (...args: unknown[]) => unknown).apply(this, args);
} as typeof clientQuery;

const rate = (count: number, phase: Phase) => Math.round(count / phase.seconds);
const perItem = (us: number | null, count: number) => (us === null ? null : Math.round(us / count));

async function main(): Promise<void> {
  const schema = `bench_import_${process.pid}_${Date.now()}`;
  // Named, and never closed while idle, so the CPU of its own backends can be read (backendsCpu).
  const pool = new pg.Pool({
    connectionString: url,
    max: 20,
    application_name: schema,
    idleTimeoutMillis: 0,
  });
  pool.on('error', () => undefined);
  const serverCpu = postgresServerCpu(pool);
  const backendsCpu = postgresBackendsCpu(pool, schema);
  try {
    const durability = await postgresDurability(url);
    log(describeDurability(durability));
    await migrate({ client: pool, schema });
    const herald = createHerald({
      storage: postgresStorage({ client: pool, schema }),
      queue: postgresQueue({ client: pool, schema }),
      counters: postgresCounters({ client: pool, schema }),
      providers: {
        webpush: webPush({ vapid: { subject: 'mailto:bench@herald.dev', ...generateVapidKeys() } }),
      },
      reportSecret: 'bench-report-secret-of-32-bytes!',
      logger: silentLogger,
    });

    log(`1/2 import: ${N} profiles, then their ${N} subscriptions, ${CHUNK} rows a call`);
    const profiles = await measured(serverCpu, () =>
      importRows(profileRow, async (rows) => (await herald.profiles.import(rows as never)).imported),
    );
    log(`    profiles: ${rate(N, profiles)}/s, ${profiles.seconds.toFixed(1)} s`);
    const subscriptions = await measured(serverCpu, () =>
      importRows(
        subscriptionRow,
        async (rows) => (await herald.subscriptions.import(rows as never)).imported,
      ),
    );
    log(`    subscriptions: ${rate(N, subscriptions)}/s, ${subscriptions.seconds.toFixed(1)} s`);

    // Open-loop phases take their events after the closed-loop and import ones (3 × EVENTS).
    let openLoopEvents = 3 * EVENTS;
    const offered = async (offeredRate: number, label: string) => {
      const first = openLoopEvents;
      openLoopEvents += (WARMUP_SECONDS + SECONDS) * offeredRate;
      const now = Date.now();
      log(`    open loop, ${label}: ${offeredRate}/s offered for ${SECONDS} s after ${WARMUP_SECONDS} s`);
      const result = await openLoop({
        rate: offeredRate,
        seconds: SECONDS,
        warmupSeconds: WARMUP_SECONDS,
        issue: (index) => herald.events.track(eventAt(first + index, now)),
        serverCpu,
        backendsCpu,
        statements: () => statementsSent,
      });
      const { p50, p99, max } = result.latency_ms;
      log(
        `      ${result.achieved_per_s}/s answered, p50 ${p50} p99 ${p99} max ${max} ms, ` +
          `backlog ${result.backlog_at_end}, sustained: ${result.sustained}`,
      );
      return result;
    };

    log(`2/2 track, no live campaign: ${EVENTS} events from ${IN_FLIGHT} closed-loop callers`);
    const bare = await measured(serverCpu, () => trackAll(herald, 0));
    log(`    ${rate(EVENTS, bare)} events/s`);
    const openWithout = await offered(RATE, 'no live campaign');
    for (const [index, schedule] of LIVE_CAMPAIGNS.entries()) {
      const campaign = await herald.campaigns.create({
        name: `Live ${index + 1} (${schedule.type})`,
        when: { schedule: schedule as never },
        who: { segment: { type: 'all' } },
        what: { title: 'Hello', deeplink: 'https://shop.example.com/' },
      });
      await herald.campaigns.schedule(campaign.id);
    }
    log(`    and with ${LIVE_CAMPAIGNS.length} live campaigns armed, closed loop`);
    const armed = await measured(serverCpu, () => trackAll(herald, EVENTS));
    log(`    ${rate(EVENTS, armed)} events/s`);
    const openWith = await offered(RATE, `${LIVE_CAMPAIGNS.length} live`);
    // The highest offered rate sustained with the ten, stepping up until one is not.
    const steps = [];
    if (FIND_MAX) {
      for (let stepRate = FIND_FROM; ; stepRate += FIND_STEP) {
        const step = await offered(stepRate, `${LIVE_CAMPAIGNS.length} live, finding the max`);
        steps.push(step);
        if (!step.sustained) break;
      }
    }
    // The bulk path for a stream: events.import in batches of 500 (a host's queue consumer), live as track.
    log(`    and the same stream through events.import, 500 a call, live: true`);
    const batched = await measured(serverCpu, async () => {
      const now = Date.now();
      for (let start = 0; start < EVENTS; start += 500) {
        const rows = Array.from({ length: Math.min(500, EVENTS - start) }, (_, offset) =>
          eventAt(2 * EVENTS + start + offset, now),
        );
        await herald.events.import(rows, { live: true });
      }
    });
    log(`    ${rate(EVENTS, batched)} events/s`);
    const jobs = await pool.query<{ count: number }>(`SELECT count(*)::int AS count FROM "${schema}".jobs`);

    const total = profiles.seconds + subscriptions.seconds;
    const cost = (phase: Phase) => ({
      events_per_s: rate(EVENTS, phase),
      wall_us_per_event: Math.round((phase.seconds * 1e6) / EVENTS),
      herald_cpu_us_per_event: perItem(phase.herald_cpu_us, EVENTS),
      postgres_cpu_us_per_event: perItem(phase.postgres_cpu_us, EVENTS),
    });
    const withLive = cost(armed);
    const without = cost(bare);
    const perCampaign = (a: number | null, b: number | null) =>
      a === null || b === null ? null : Math.round(((a - b) / LIVE_CAMPAIGNS.length) * 10) / 10;
    const result = {
      n: N,
      postgres_durability: durability,
      import_seconds: Math.round(total * 10) / 10,
      import_target_met: N < 1_000_000 ? null : total < 120,
      profiles_per_s: rate(N, profiles),
      subscriptions_per_s: rate(N, subscriptions),
      import_herald_cpu_us_per_row: perItem(profiles.herald_cpu_us + subscriptions.herald_cpu_us, 2 * N),
      import_postgres_cpu_us_per_row:
        profiles.postgres_cpu_us === null || subscriptions.postgres_cpu_us === null
          ? null
          : perItem(profiles.postgres_cpu_us + subscriptions.postgres_cpu_us, 2 * N),
      events: EVENTS,
      in_flight: IN_FLIGHT,
      track_without_live: without,
      track_with_live: withLive,
      import_live_with_live: cost(batched),
      live_campaigns: LIVE_CAMPAIGNS.length,
      // Open loop, as a site's requests arrive (the closed-loop figures are kept for comparison).
      track_target_met: openWith.sustained && openWith.offered_per_s >= 5000,
      closed_loop_50: { in_flight: IN_FLIGHT, without_live: without, with_live: withLive },
      open_loop: {
        sustained_rule: SUSTAINED_RULE,
        warmup_seconds: WARMUP_SECONDS,
        without_live: openWithout,
        with_live: openWith,
        per_live_campaign_per_event: {
          herald_cpu_us: perCampaign(openWith.herald_cpu_us_per_event, openWithout.herald_cpu_us_per_event),
          postgres_cpu_us: perCampaign(
            openWith.postgres_cpu_us_per_event,
            openWithout.postgres_cpu_us_per_event,
          ),
          postgres_backends_cpu_us: perCampaign(
            openWith.postgres_backends_cpu_us_per_event,
            openWithout.postgres_backends_cpu_us_per_event,
          ),
        },
      },
      find_max: FIND_MAX
        ? {
            max_sustained_per_s:
              steps
                .filter((step) => step.sustained)
                .reduce((best, step) => Math.max(best, step.offered_per_s), 0) || null,
            steps: steps.map(({ offered_per_s, achieved_per_s, latency_ms, backlog_at_end, sustained }) => ({
              offered_per_s,
              achieved_per_s,
              p99_ms: latency_ms.p99,
              backlog_at_end,
              sustained,
            })),
          }
        : null,
      timer_jobs_queued: jobs.rows[0]?.count ?? 0,
      per_live_campaign_per_event: {
        wall_us: perCampaign(withLive.wall_us_per_event, without.wall_us_per_event),
        herald_cpu_us: perCampaign(withLive.herald_cpu_us_per_event, without.herald_cpu_us_per_event),
        postgres_cpu_us: perCampaign(withLive.postgres_cpu_us_per_event, without.postgres_cpu_us_per_event),
      },
      cores: availableParallelism(),
      cpu: cpus()[0]?.model ?? 'unknown',
      node: process.version,
    };
    await herald.stop();
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  }
}

await main();
