import { type ChildProcess, fork } from 'node:child_process';
import { createECDH, type ECDH, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http2 from 'node:http2';
import https from 'node:https';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
// Herald itself runs in herald-sender.mjs, on the published build (npm run bench:delivery builds
// it first) as a host runs it: its delivery workers are the built worker file.
import { generateVapidKeys, type HeraldPayload } from '@herald/core';
import { buildSync } from 'esbuild';
import ece from 'http_ece';
import webPushLib from 'web-push';
import { selfSignedCertificate } from '../../packages/core/src/dev/self-signed.js';
import { decryptWebPush } from './decrypt.js';
import {
  describeDurability,
  dropRedisPrefix,
  openServers,
  type PostgresDurability,
  postgresDurability,
  postgresServerCpu,
  redisServerCpu,
  type StatementFigure,
  settlePostgres,
  statementStats,
} from './servers.js';

export interface DeliveryBenchOptions {
  /** Messages (and distinct subscriptions) per way of sending. */
  n: number;
  /** Requests in flight for the baseline, and per delivery job for Herald. Default 100. */
  concurrency?: number;
  /** One body in this many is decrypted and checked. Default 100 (1%). */
  sampleEvery?: number;
  /** Herald's encryption workers: 0 encrypts on the main thread. Default: Herald's own default. */
  encryptionWorkers?: number;
  /** Only Herald's pipeline (for profiling it with --cpu-prof); the other figures are then 0. */
  heraldOnly?: boolean;
  /** Stacks to run, in this order. Default all three. */
  stacks?: readonly Stack[];
  /**
   * Runs of the whole stack list, interleaved (memory, postgres, postgres+redis, memory, …). Each
   * stack is then reported by its median run, and its ratio to memory is median over median: on a
   * shared VM one run's ratio spreads wider than the gaps to the targets. Default 1.
   */
  repeat?: number;
  /** Herald processes on one campaign for the shared stacks (memory is one process). Default 1. */
  processes?: number;
  /** The Postgres and Redis servers of the shared stacks (each run takes a fresh schema / key prefix). */
  pgUrl?: string;
  redisUrl?: string;
  /** Report each Postgres stack's top statements (pg_stat_statements, when preloaded). */
  pgStatements?: boolean;
  /**
   * Herald under global per-user caps (`limits.perUser`: 3 a day, 10 a week), as most deployments
   * run it: every user then takes a counter step before the send. Default false.
   */
  caps?: boolean;
  /**
   * How long the push service holds each answer back, in ms, as a real one's round trip does (a
   * data centre's tens of milliseconds; loopback answers at once). Default 0.
   */
  serviceLatencyMs?: number;
  /**
   * The share of subscriptions (0 to 1) the push service answers 410 Gone, as a real audience's
   * stale ones do. Default 0.
   */
  goneShare?: number;
  /**
   * The share of subscriptions (0 to 1) whose first request the push service answers 503 with
   * Retry-After: 0, and 201 the next: every one of them retried once. Default 0.
   */
  unavailableShare?: number;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
}

export interface DeliveryBenchResult {
  n: number;
  /** Whether Herald ran under global per-user caps (`--caps`). */
  caps: boolean;
  /** How long the push service held each answer back, in ms (`--service-latency`). */
  service_latency_ms: number;
  /** The share of subscriptions the push service answered 410 Gone (`--gone`). */
  gone_share: number;
  /** The share of subscriptions whose first request was answered 503 (`--unavailable`). */
  unavailable_share: number;
  /**
   * The Postgres server's commit durability (null without one): `npm run bench:delivery` starts it
   * durable (`HERALD_PG_DURABLE=1`), as production runs; a server of one's own is reported as it is.
   */
  postgres_durability: PostgresDurability | null;
  baseline_msgs_per_s: number;
  limit_msgs_per_s: number;
  /** Whose RFC 8291 routine set the limit: the faster of web-push's and Herald's. */
  limit_routine: 'web-push' | 'herald';
  herald_msgs_per_s: number;
  ratio_baseline: number;
  ratio_limit: number;
  peak_rss_mb: number;
  verified: boolean;
  samples_checked: number;
  herald_sent: number;
  herald_h2_requests: number;
  /** Where Herald's CPU went, per message: the sending process (all threads) and the loopback service. */
  herald_cpu_us_per_msg: number;
  service_cpu_us_per_msg: number;
  /** Share of Herald's run the main thread's event loop was busy (1 = it is the bottleneck). */
  herald_main_thread_busy: number;
  rss_before_send_mb: number;
  /**
   * Where Herald's peak RSS went: its main thread's V8 heap when the RSS
   * peaked (committed, and in use), the rest of the process then (delivery
   * workers' heaps, native memory, code), and the main heap's largest size.
   */
  herald_main_heap_at_peak_mb: number;
  herald_main_heap_used_at_peak_mb: number;
  herald_rest_at_peak_mb: number;
  herald_main_heap_peak_mb: number;
  /** Node flags Herald's process ran with (BENCH_SENDER_NODE_FLAGS); '' for none. */
  sender_node_flags: string;
  /** The experiment variables Herald's processes ran with (BENCH_TUNING, BENCH_SCHEMA_SQL, …), so a figure says what it measured; {} for none. */
  sender_experiments: Record<string, string>;
  /**
   * CPU a request costs with no encryption and no engine (node:http2 from one
   * thread to the same service), and the ceiling it implies with the limit's
   * encryption cost: cores / (encryption + client + service) per message.
   */
  transport_alone_client_us_per_msg: number;
  transport_alone_service_us_per_msg: number;
  ceiling_msgs_per_s: number;
  ratio_ceiling: number;
  cores: number;
  cpu: string;
  node: string;
  /** Every stack run, side by side; the top-level herald_* keys are the memory stack's (else the first stack's). */
  stacks: Partial<Record<Stack, StackFigures>>;
}

/** One stack's figures in the JSON line. */
export interface StackFigures {
  /** The median run's msgs/s (the lower middle of an even count); the other figures are that run's. */
  msgs_per_s: number;
  /** Every run of this stack, in the order they ran. */
  runs_msgs_per_s: number[];
  /** This stack's median msgs/s over the memory stack's median in the same invocation (null without a memory run). */
  ratio_to_memory: number | null;
  processes: number;
  /** CPU of the Herald processes (all threads, all processes) per message. */
  herald_cpu_us_per_msg: number;
  /** CPU of the Postgres and Redis servers per message (null: not measurable; 0: the stack has none). */
  server_cpu_us_per_msg: number | null;
  postgres_cpu_us_per_msg: number | null;
  redis_cpu_us_per_msg: number | null;
  /** Herald + servers: what a message costs the deployment (the loopback push service left out). */
  total_cpu_us_per_msg: number | null;
  push_service_cpu_us_per_msg: number;
  /** The largest peak RSS of one Herald process. */
  peak_rss_mb: number;
  rss_before_send_mb: number;
  /** Where the leader's peak RSS went: its main V8 heap then, and the rest (delivery workers, native memory). */
  main_heap_at_peak_mb: number;
  rest_at_peak_mb: number;
  main_thread_busy: number;
  verified: boolean;
  samples_checked: number;
  sent: number;
  /** Messages stored as gone (`goneShare`): sent + gone = N. */
  gone: number;
  top_statements?: StatementFigure[];
}

interface Subscriber {
  index: number;
  /** The receiver's P-256 private key: 32 bytes kept instead of an ECDH object (N of them count in the RSS). */
  privateKey: Buffer;
  auth: Buffer;
  keys: { p256dh: string; auth: string };
}

const VAPID_SUBJECT = 'mailto:bench@herald.dev';
/** The baseline's payload: 200 bytes of JSON, different per subscriber. */
function baselinePayload(index: number): string {
  const head = `{"title":"Spring sale #${index}","body":"`;
  return `${head}${'x'.repeat(200 - head.length - 2)}"}`;
}

export async function runDeliveryBench(options: DeliveryBenchOptions): Promise<DeliveryBenchResult> {
  const { n } = options;
  const concurrency = options.concurrency ?? 100;
  const sampleEvery = options.sampleEvery ?? 100;
  const log = options.log ?? (() => undefined);
  const identity = await selfSignedCertificate();
  const serviceLatencyMs = options.serviceLatencyMs ?? 0;
  const goneShare = options.goneShare ?? 0;
  const unavailableShare = options.unavailableShare ?? 0;
  const service = await startService({
    ...identity,
    sampleEvery,
    latencyMs: serviceLatencyMs,
    goneShare,
    unavailableShare,
  });
  const origin = `https://127.0.0.1:${service.port}`;
  try {
    const durability = options.pgUrl ? await postgresDurability(options.pgUrl) : null;
    if (durability) log(describeDurability(durability));
    if (serviceLatencyMs > 0) log(`the push service answers ${serviceLatencyMs} ms after each request`);
    if (goneShare > 0)
      log(`the push service answers 410 Gone to ${goneShare * 100} % of Herald's subscriptions`);
    if (unavailableShare > 0)
      log(
        `the push service answers 503 to the first request of ${unavailableShare * 100} % of Herald's subscriptions`,
      );
    log(`making ${n} P-256 subscriptions`);
    const subscribers = Array.from({ length: n }, (_, index) => makeSubscriber(index));
    const vapid = { subject: VAPID_SUBJECT, ...generateVapidKeys() };

    const skip = options.heraldOnly === true;
    log('1/3 baseline: web-push sendNotification, 100 in flight');
    const baseline = skip
      ? { seconds: Number.POSITIVE_INFINITY }
      : await measure(() => runBaseline(subscribers, origin, identity.cert, vapid, concurrency));
    log(`    ${Math.round(n / baseline.seconds)} msgs/s`);

    log(`2/3 limit: RFC 8291 work alone on ${availableParallelism()} cores`);
    const limit = skip
      ? { seconds: Number.POSITIVE_INFINITY, routine: 'web-push' as const }
      : await runLimit(subscribers);
    const limitSeconds = limit.seconds;
    log(`    ${Math.round(n / limitSeconds)} msgs/s (${limit.routine}'s routine, the faster)`);

    log('    and the HTTP/2 requests alone: node:http2, no encryption, no engine');
    const alone = skip ? null : await runTransportAlone(n, origin, identity.cert, concurrency, service);
    if (alone) log(`    client ${alone.clientUs} us + service ${alone.serviceUs} us of CPU a request`);
    const baselineSamples = await service.samples();
    const baselineChecked = verifySamples(baselineSamples.samples, subscribers);
    const baselineOk = skip || (baselineChecked.ok && baselineChecked.count === Math.ceil(n / sampleEvery));
    if (!baselineOk)
      log(`    baseline verification failed: ${baselineChecked.problems.slice(0, 5).join('; ')}`);

    const repeat = options.repeat ?? 1;
    const stacks = Array.from({ length: repeat }, () => options.stacks ?? STACKS).flat();
    const processes = options.processes ?? 1;
    const subscriptionsFile = await writeSubscriptions(subscribers);
    const runs: StackRun[] = [];
    const checks = new Map<Stack, { ok: boolean; count: number }>();
    const h2Requests = new Map<StackRun, number>();
    let h2Before = baselineSamples.counts.h2;
    let goneBefore = baselineSamples.counts.gone;
    try {
      for (const [position, stack] of stacks.entries()) {
        const count = stack === 'memory' ? 1 : processes;
        log(
          `3/3 Herald (${position + 1}/${stacks.length}): ${stack}, ${count} process${count === 1 ? '' : 'es'}`,
        );
        const run = await runStack({
          stack,
          processes: count,
          service,
          subscriptionsFile: subscriptionsFile.path,
          origin,
          ca: identity.cert,
          vapid,
          concurrency,
          encryptionWorkers: options.encryptionWorkers,
          pgUrl: options.pgUrl,
          redisUrl: options.redisUrl,
          pgStatements: options.pgStatements ?? false,
          caps: options.caps ?? false,
          unavailable: unavailableShare > 0,
          n,
          log,
        });
        runs.push(run);
        const { samples, counts } = await service.samples();
        h2Requests.set(run, counts.h2 - h2Before);
        h2Before = counts.h2;
        const goneAnswers = counts.gone - goneBefore;
        goneBefore = counts.gone;
        const checked = verifySamples(samples, subscribers);
        const expected = Math.ceil(n / sampleEvery);
        const ok =
          checked.ok &&
          checked.count === expected &&
          samples.every((sample) => sample.phase === PHASE[stack]) &&
          // Every message sent, but for the subscriptions the service answered gone: each stored as gone.
          run.sent + run.gone === n &&
          run.gone === goneAnswers;
        if (!ok)
          log(
            `    verification failed: ${checked.problems.slice(0, 5).join('; ')} (checked ${checked.count} of ${expected}, Herald sent ${run.sent} and stored ${run.gone} gone of ${n}; the service answered ${goneAnswers} gone)`,
          );
        // A stack that runs more than once is verified only if every run was.
        const before = checks.get(stack);
        checks.set(stack, { ok: ok && (before?.ok ?? true), count: (before?.count ?? 0) + checked.count });
        const serverUs = (run.postgresCpuUsPerMessage ?? 0) + (run.redisCpuUsPerMessage ?? 0);
        log(
          `    ${Math.round(n / run.seconds)} msgs/s, Herald ${run.cpuUsPerMessage} us + servers ${serverUs} us CPU a message, peak RSS ${run.peakRssMb} MB${ok ? '' : ', NOT VERIFIED'}`,
        );
        for (const statement of run.topStatements ?? [])
          log(`      ${statement.total_ms} ms  ${statement.calls} calls  ${statement.query.slice(0, 110)}`);
      }
    } finally {
      await subscriptionsFile.remove();
    }
    const medians = medianRuns(runs);
    /** Every run's msgs/s of one stack, in the order they ran. */
    const ratesOf = (stack: Stack) =>
      runs.filter((each) => each.stack === stack).map((each) => Math.round(n / each.seconds));
    if (repeat > 1)
      for (const [stack, run] of medians)
        log(`median ${stack}: ${Math.round(n / run.seconds)} msgs/s of ${ratesOf(stack).join(', ')}`);
    const herald = medians.get('memory') ?? (runs[0] as StackRun);
    const heraldCheck = checks.get(herald.stack) ?? { ok: false, count: 0 };
    const verified = runs.length > 0 && [...checks.values()].every((check) => check.ok) && baselineOk;
    const memoryRun = medians.get('memory');
    const stackFigures: Partial<Record<Stack, StackFigures>> = {};
    for (const run of medians.values()) {
      const rate = n / run.seconds;
      const server =
        run.stack === 'memory'
          ? 0
          : run.postgresCpuUsPerMessage === null
            ? null
            : run.postgresCpuUsPerMessage + (run.redisCpuUsPerMessage ?? 0);
      stackFigures[run.stack] = {
        msgs_per_s: Math.round(rate),
        runs_msgs_per_s: ratesOf(run.stack),
        ratio_to_memory: memoryRun ? round2(rate / (n / memoryRun.seconds)) : null,
        processes: run.processes,
        herald_cpu_us_per_msg: run.cpuUsPerMessage,
        server_cpu_us_per_msg: server,
        postgres_cpu_us_per_msg: run.postgresCpuUsPerMessage,
        redis_cpu_us_per_msg: run.redisCpuUsPerMessage,
        total_cpu_us_per_msg: server === null ? null : run.cpuUsPerMessage + server,
        push_service_cpu_us_per_msg: run.serviceCpuUsPerMessage,
        peak_rss_mb: run.peakRssMb,
        rss_before_send_mb: run.rssBeforeMb,
        main_heap_at_peak_mb: run.memory.mainHeapAtPeakMb,
        rest_at_peak_mb: run.memory.restAtPeakMb,
        main_thread_busy: run.mainThreadBusy,
        verified: checks.get(run.stack)?.ok ?? false,
        samples_checked: checks.get(run.stack)?.count ?? 0,
        sent: run.sent,
        gone: run.gone,
        ...(run.topStatements ? { top_statements: run.topStatements } : {}),
      };
    }

    const baselineRate = n / baseline.seconds;
    const limitRate = n / limitSeconds;
    const heraldRate = n / herald.seconds;
    // The most any sender could do here: every message needs its encryption, its
    // HTTP/2 request and the service's answer, all on the same cores.
    const cores = availableParallelism();
    const encryptionUs = (cores * 1e6) / limitRate;
    const ceilingRate = alone ? (cores * 1e6) / (encryptionUs + alone.clientUs + alone.serviceUs) : 0;
    return {
      n,
      caps: options.caps ?? false,
      service_latency_ms: serviceLatencyMs,
      gone_share: goneShare,
      unavailable_share: unavailableShare,
      postgres_durability: durability,
      baseline_msgs_per_s: Math.round(baselineRate),
      limit_msgs_per_s: Math.round(limitRate),
      limit_routine: limit.routine,
      herald_msgs_per_s: Math.round(heraldRate),
      ratio_baseline: skip ? 0 : round2(heraldRate / baselineRate),
      ratio_limit: skip ? 0 : round2(heraldRate / limitRate),
      ceiling_msgs_per_s: Math.round(ceilingRate),
      ratio_ceiling: skip ? 0 : round2(heraldRate / ceilingRate),
      peak_rss_mb: herald.peakRssMb,
      verified,
      samples_checked: baselineChecked.count + heraldCheck.count,
      herald_sent: herald.sent,
      herald_h2_requests: h2Requests.get(herald) ?? 0,
      herald_cpu_us_per_msg: herald.cpuUsPerMessage,
      service_cpu_us_per_msg: herald.serviceCpuUsPerMessage,
      herald_main_thread_busy: herald.mainThreadBusy,
      transport_alone_client_us_per_msg: alone?.clientUs ?? 0,
      transport_alone_service_us_per_msg: alone?.serviceUs ?? 0,
      rss_before_send_mb: herald.rssBeforeMb,
      herald_main_heap_at_peak_mb: herald.memory.mainHeapAtPeakMb,
      herald_main_heap_used_at_peak_mb: herald.memory.mainHeapUsedAtPeakMb,
      herald_rest_at_peak_mb: herald.memory.restAtPeakMb,
      herald_main_heap_peak_mb: herald.memory.mainHeapPeakMb,
      sender_node_flags: senderFlags().join(' '),
      sender_experiments: senderExperiments(),
      cores: availableParallelism(),
      cpu: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      stacks: stackFigures,
    };
  } finally {
    service.stop();
  }
}

function makeSubscriber(index: number): Subscriber {
  const receiver = createECDH('prime256v1');
  receiver.generateKeys();
  const auth = randomBytes(16);
  return {
    index,
    privateKey: receiver.getPrivateKey(),
    auth,
    keys: { p256dh: receiver.getPublicKey().toString('base64url'), auth: auth.toString('base64url') },
  };
}

async function measure<T>(run: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const start = process.hrtime.bigint();
  const value = await run();
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, value };
}

async function runBaseline(
  subscribers: Subscriber[],
  origin: string,
  ca: string,
  vapid: { subject: string; publicKey: string; privateKey: string },
  concurrency: number,
): Promise<void> {
  // Node 20's global agent keeps connections alive; this one does too, and trusts the loopback certificate.
  const agent = new https.Agent({ keepAlive: true, maxSockets: concurrency, ca });
  let next = 0;
  let failures = 0;
  const lane = async () => {
    while (next < subscribers.length) {
      const s = subscribers[next++] as Subscriber;
      await webPushLib
        .sendNotification(
          { endpoint: `${origin}/push/b/${s.index}`, keys: s.keys },
          baselinePayload(s.index),
          {
            vapidDetails: vapid,
            TTL: 60,
            agent,
          },
        )
        .catch(() => {
          failures += 1;
        });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  agent.destroy();
  if (failures > 0) throw new Error(`baseline: ${failures} sends failed`);
}

/**
 * RFC 8291 alone, no I/O, no VAPID: each core's worker encrypts its share,
 * once with web-push's routine and once with Herald's (packages/core's
 * rfc8291.ts, bundled here for a worker), and the faster sets the limit. A
 * bound measured with the slower routine would let Herald's own encryption
 * beat "the limit" and flatter the ceiling (bench/README.md, "Delivery": the limit).
 */
async function runLimit(subscribers: Subscriber[]): Promise<{ seconds: number; routine: LimitRoutine }> {
  const webPush = await encryptionSeconds(subscribers, 'web-push');
  const herald = await encryptionSeconds(subscribers, 'herald');
  return webPush <= herald
    ? { seconds: webPush, routine: 'web-push' }
    : { seconds: herald, routine: 'herald' };
}

type LimitRoutine = 'web-push' | 'herald';

/** Herald's encryption as CommonJS a worker can evaluate: the source itself, not a copy. */
function heraldEncryptionSource(): string {
  const entry = fileURLToPath(new URL('../../packages/core/src/delivery/rfc8291.ts', import.meta.url));
  const built = buildSync({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    write: false,
  });
  return built.outputFiles[0]?.text ?? '';
}

async function encryptionSeconds(subscribers: Subscriber[], routine: LimitRoutine): Promise<number> {
  const cores = availableParallelism();
  const encrypt =
    routine === 'web-push'
      ? `const webPush = require(${JSON.stringify(fileURLToPath(import.meta.resolve('web-push')))});
         const encrypt = (k) => webPush.encrypt(k.p256dh, k.auth, Buffer.from(k.payload), 'aes128gcm');`
      : `const module = { exports: {} };
         (function (module, exports) { ${heraldEncryptionSource()} })(module, module.exports);
         const encrypt = (k) => module.exports.encryptAes128gcm(k, Buffer.from(k.payload));`;
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    ${encrypt}
    parentPort.once('message', () => {
      for (const k of workerData.keys) encrypt(k);
      parentPort.postMessage('done');
    });
    parentPort.postMessage('ready');
  `;
  const shares = Array.from({ length: cores }, (_, core) =>
    subscribers
      .filter((s) => s.index % cores === core)
      .map((s) => ({ ...s.keys, payload: baselinePayload(s.index) })),
  );
  const workers = shares.map((keys) => new Worker(source, { eval: true, workerData: { keys } }));
  await Promise.all(workers.map((w) => once(w, 'ready')));
  const start = process.hrtime.bigint();
  for (const w of workers) w.postMessage('go');
  await Promise.all(workers.map((w) => once(w, 'done')));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await Promise.all(workers.map((w) => w.terminate()));
  return seconds;
}

/**
 * N POSTs over one node:http2 session, 'concurrency' in flight, with a body
 * and headers the size of Herald's (an encrypted ~450-byte payload, a VAPID
 * Authorization): what HTTP/2 alone costs the sender and the service.
 */
async function runTransportAlone(
  n: number,
  origin: string,
  ca: string,
  concurrency: number,
  service: ServiceProcess,
): Promise<{ clientUs: number; serviceUs: number }> {
  const session = http2.connect(origin, { ca, servername: '' });
  await new Promise((resolve, reject) => session.once('connect', resolve).once('error', reject));
  const body = randomBytes(560);
  const headers = {
    ':method': 'POST',
    ttl: '3600',
    urgency: 'normal',
    'content-encoding': 'aes128gcm',
    'content-type': 'application/octet-stream',
    authorization: `vapid t=${'x'.repeat(300)}, k=${'y'.repeat(87)}`,
    'content-length': String(body.length),
  };
  const post = (index: number) =>
    new Promise<void>((resolve, reject) => {
      // Not under /push/: the service keeps no sample of these.
      const stream = session.request({ ...headers, ':path': `/transport/${index}` }, { endStream: false });
      stream.once('response', (answer) => {
        if (answer[':status'] !== 201) reject(new Error(`transport alone: status ${answer[':status']}`));
      });
      stream.on('data', () => undefined);
      stream.once('end', resolve);
      stream.once('error', reject);
      stream.end(body);
    });
  const serviceBefore = await service.cpuSince(0);
  const cpuBefore = process.cpuUsage();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await post(next++);
    }),
  );
  const cpu = process.cpuUsage(cpuBefore);
  const serviceUs = await service.cpuSince(serviceBefore);
  session.close();
  return { clientUs: Math.round((cpu.user + cpu.system) / n), serviceUs: Math.round(serviceUs / n) };
}

function once(worker: Worker, expected: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown) => {
      if (message === expected) {
        worker.off('message', onMessage);
        resolve();
      }
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
  });
}

/** BENCH_SENDER_NODE_FLAGS, split on spaces: Node flags for Herald's process. */
export function senderFlags(): string[] {
  return (process.env.BENCH_SENDER_NODE_FLAGS ?? '').split(' ').filter((flag) => flag !== '');
}

/** The variables `herald-sender.mjs` reads to change what it runs (see bench/README.md), those that are set. */
export function senderExperiments(): Record<string, string> {
  const names = [
    'BENCH_TUNING',
    'BENCH_TRANSPORT',
    'BENCH_WORKER_LIMITS',
    'BENCH_PREPARED',
    'BENCH_SCHEMA_SQL',
  ];
  return Object.fromEntries(names.flatMap((name) => (process.env[name] ? [[name, process.env[name]]] : [])));
}

/** The subscriptions, one `[index, p256dh, auth]` per line, read one at a time by the leader as a host receives them. */
async function writeSubscriptions(
  subscribers: Subscriber[],
): Promise<{ path: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'herald-bench-'));
  const path = join(dir, 'subscriptions.ndjson');
  await writeFile(
    path,
    subscribers.map((s) => `${JSON.stringify([s.index, s.keys.p256dh, s.keys.auth])}\n`).join(''),
  );
  return { path, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Where Herald keeps its data and queue in a run. */
export type Stack = 'memory' | 'postgres' | 'postgres+redis';
export const STACKS: readonly Stack[] = ['memory', 'postgres', 'postgres+redis'];
/** Each stack's body samples come back under a path phase of their own (/push/<phase>/<index>). */
const PHASE: Record<Stack, string> = { memory: 'hm', postgres: 'hp', 'postgres+redis': 'hr' };

interface StackRunOptions {
  stack: Stack;
  processes: number;
  service: ServiceProcess;
  subscriptionsFile: string;
  origin: string;
  ca: string;
  vapid: { subject: string; publicKey: string; privateKey: string };
  concurrency: number;
  encryptionWorkers: number | undefined;
  pgUrl: string | undefined;
  redisUrl: string | undefined;
  /** Read pg_stat_statements for this run (when the server preloads it). */
  pgStatements: boolean;
  /** Global per-user caps on (DeliveryBenchOptions.caps). */
  caps: boolean;
  /** Some first requests answered 503: the engine's clock moves and retries after 100 ms. */
  unavailable: boolean;
  n: number;
  log: (line: string) => void;
}

interface SenderChild {
  child: ChildProcess;
  /** Resolves with the next message of this type (or rejects on an error message or exit). */
  next<T>(type: string): Promise<T>;
  outcomes: number;
}

function forkSender(log: (line: string) => void, onOutcomes: () => void): SenderChild {
  const child = fork(fileURLToPath(new URL('./herald-sender.mjs', import.meta.url)), [], {
    // Node flags for Herald's processes only (e.g. V8 heap tuning), as a host would set them.
    execArgv: senderFlags(),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map<string, { resolve: (value: never) => void; reject: (error: Error) => void }>();
  const failAll = (error: Error) => {
    for (const { reject } of waiting.values()) reject(error);
    waiting.clear();
  };
  const sender: SenderChild = {
    child,
    outcomes: 0,
    next: <T>(type: string) =>
      new Promise<T>((resolve, reject) =>
        waiting.set(type, { resolve: resolve as (value: never) => void, reject }),
      ),
  };
  child.on('message', (message: { type: string; line?: string; message?: string; count?: number }) => {
    if (message.type === 'progress') log(message.line ?? '');
    else if (message.type === 'outcomes') {
      sender.outcomes = message.count ?? 0;
      onOutcomes();
    } else if (message.type === 'error') failAll(new Error(`herald-sender: ${message.message}`));
    else {
      const waiter = waiting.get(message.type);
      waiting.delete(message.type);
      waiter?.resolve(message as never);
    }
  });
  child.once('exit', (code) => failAll(new Error(`herald-sender exited with code ${code}`)));
  return sender;
}

/**
 * One stack: `processes` Herald processes on one campaign. The first (the
 * leader) migrates a fresh schema, imports the N subscriptions and schedules
 * the campaign; then every process starts its engine (`herald.start()`, as a
 * host runs it) and the run lasts until the processes have reported N final
 * delivery outcomes between them. Server CPU (Postgres, Redis, the push
 * service) is read around the same span.
 */
async function runStack(options: StackRunOptions): Promise<StackRun> {
  const { stack, processes, service, n, log } = options;
  const runId = `${process.pid}_${Date.now()}`;
  const schema = `bench_delivery_${runId}`;
  const prefix = `bench-delivery-${runId}`;
  const servers = openServers(
    stack === 'memory' ? undefined : options.pgUrl,
    stack === 'postgres+redis' ? options.redisUrl : undefined,
  );
  const postgresCpu = servers.pool ? postgresServerCpu(servers.pool) : null;
  const redisCpu = servers.redis ? redisServerCpu(servers.redis) : null;
  const statements = servers.pool && options.pgStatements ? await statementStats(servers.pool) : null;
  if (options.pgStatements && servers.pool && !statements)
    log('    pg_stat_statements is not preloaded on this server: no statement figures');

  let allOutcomes: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    allOutcomes = resolve;
  });
  const senders: SenderChild[] = [];
  const onOutcomes = () => {
    if (senders.reduce((sum, sender) => sum + sender.outcomes, 0) >= n) allOutcomes();
  };
  try {
    const common = {
      stack,
      origin: options.origin,
      ca: options.ca,
      vapid: options.vapid,
      concurrency: options.concurrency,
      phase: PHASE[stack],
      ...(options.encryptionWorkers !== undefined ? { encryptionWorkers: options.encryptionWorkers } : {}),
      pgUrl: options.pgUrl,
      redisUrl: options.redisUrl,
      schema,
      prefix,
      caps: options.caps,
      unavailable: options.unavailable,
    };
    const leader = forkSender(log, onOutcomes);
    senders.push(leader);
    const leaderReady = leader.next<{ campaignId: string; rssBeforeMb: number }>('ready');
    leader.child.send({
      ...common,
      type: 'setup',
      role: 'leader',
      subscriptionsFile: options.subscriptionsFile,
    });
    const { campaignId, rssBeforeMb } = await leaderReady;
    for (let index = 1; index < processes; index += 1) {
      const follower = forkSender(log, onOutcomes);
      senders.push(follower);
      const ready = follower.next('ready');
      follower.child.send({ ...common, type: 'setup', role: 'follower' });
      await ready;
    }

    if (servers.pool) await settlePostgres(servers.pool, schema);
    await statements?.reset();
    const serviceBefore = await service.cpuSince(0);
    const postgresBefore = (await postgresCpu?.read()) ?? null;
    const redisBefore = (await redisCpu?.read()) ?? null;
    const start = process.hrtime.bigint();
    for (const sender of senders) sender.child.send({ type: 'go', campaignId });
    // A run that stops short of N (lost messages) ends after a minute without progress, unverified.
    let lastCount = -1;
    const stall = setInterval(() => {
      const count = senders.reduce((sum, sender) => sum + sender.outcomes, 0);
      if (count === lastCount) allOutcomes();
      lastCount = count;
    }, 60_000);
    await finished;
    clearInterval(stall);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const results = await Promise.all(
      senders.map((sender) => {
        const done = sender.next<{ result: SenderResult }>('done');
        sender.child.send({ type: 'finish', campaignId });
        return done.then((message) => message.result);
      }),
    );
    const serviceUs = await service.cpuSince(serviceBefore);
    // The processes closed their pools: their backends' time is the postmaster's once reaped.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const postgresUs = postgresBefore === null ? null : ((await postgresCpu?.read()) ?? 0) - postgresBefore;
    const redisUs = redisBefore === null ? null : ((await redisCpu?.read()) ?? 0) - redisBefore;
    const top = (await statements?.top(10)) ?? null;
    const [first] = results as [SenderResult];
    return {
      stack,
      processes,
      seconds,
      sent: first.sent ?? 0,
      gone: first.gone ?? 0,
      outcomes: results.reduce((sum, result) => sum + result.outcomes, 0),
      rssBeforeMb,
      peakRssMb: Math.max(...results.map((result) => result.peakRssMb)),
      cpuUsPerMessage: Math.round(results.reduce((sum, result) => sum + result.cpuUs, 0) / n),
      mainThreadBusy: first.mainThreadBusy,
      memory: first.memory,
      serviceCpuUsPerMessage: Math.round(serviceUs / n),
      postgresCpuUsPerMessage: postgresUs === null ? null : Math.round(postgresUs / n),
      redisCpuUsPerMessage: redisUs === null ? null : Math.round(redisUs / n),
      topStatements: top,
    };
  } finally {
    for (const sender of senders) sender.child.kill();
    if (servers.pool && stack !== 'memory')
      await servers.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    if (servers.redis) await dropRedisPrefix(servers.redis, prefix);
    await servers.close();
  }
}

interface SenderResult {
  /** The campaign's sent count (the leader reads it once every process has stopped). */
  sent?: number;
  /** The campaign's gone count, read with `sent`. */
  gone?: number;
  outcomes: number;
  peakRssMb: number;
  cpuUs: number;
  mainThreadBusy: number;
  memory: HeraldMemory;
}

/** Where the leader's peak RSS went (herald-sender.mjs `memorySampler`). */
interface HeraldMemory {
  mainHeapAtPeakMb: number;
  mainHeapUsedAtPeakMb: number;
  restAtPeakMb: number;
  mainHeapPeakMb: number;
}

interface StackRun {
  stack: Stack;
  processes: number;
  seconds: number;
  sent: number;
  /** Subscriptions stored as gone (the service answered 410: `--gone`). */
  gone: number;
  /** Final delivery outcomes the processes reported (sent, gone, failed). */
  outcomes: number;
  /** The leader's RSS once the subscriptions are stored, before the campaign starts. */
  rssBeforeMb: number;
  /** The largest peak RSS of the run's Herald processes. */
  peakRssMb: number;
  /** CPU of every Herald process (all threads) per message, during the campaign. */
  cpuUsPerMessage: number;
  /** Share of the campaign's wall time the leader's event loop was busy. */
  mainThreadBusy: number;
  memory: HeraldMemory;
  serviceCpuUsPerMessage: number;
  postgresCpuUsPerMessage: number | null;
  redisCpuUsPerMessage: number | null;
  topStatements: StatementFigure[] | null;
}

interface Sample {
  phase: string;
  index: number;
  body: string;
}

function verifySamples(samples: Sample[], subscribers: Subscriber[]) {
  const problems: string[] = [];
  for (const sample of samples) {
    const s = subscribers[sample.index];
    if (!s) {
      problems.push(`sample for unknown subscriber ${sample.index}`);
      continue;
    }
    const body = Buffer.from(sample.body, 'base64');
    const receiver = receiverOf(s);
    let byEce: string;
    let byOwn: string;
    try {
      byEce = ece
        .decrypt(body, { version: 'aes128gcm', privateKey: receiver, authSecret: s.auth })
        .toString('utf8');
      byOwn = decryptWebPush(body, receiver, s.auth).toString('utf8');
    } catch (error) {
      problems.push(`${sample.phase}/${sample.index}: ${(error as Error).message}`);
      continue;
    }
    if (byEce !== byOwn) problems.push(`${sample.phase}/${sample.index}: http_ece and node:crypto disagree`);
    else if (sample.phase === 'b' && byEce !== baselinePayload(sample.index))
      problems.push(`b/${sample.index}: not what was sent`);
    else if (sample.phase.startsWith('h') && !isHeraldMessageFor(byEce, `u${sample.index}`))
      problems.push(`h/${sample.index}: not the campaign's message for u${sample.index}`);
  }
  return { ok: problems.length === 0, count: samples.length, problems };
}

function receiverOf(s: Subscriber): ECDH {
  const receiver = createECDH('prime256v1');
  receiver.setPrivateKey(s.privateKey);
  return receiver;
}

function isHeraldMessageFor(json: string, userId: string): boolean {
  const payload = JSON.parse(json) as HeraldPayload;
  return (
    payload.web_push === 8030 &&
    payload.notification.title === 'Spring sale' &&
    payload.notification.navigate === 'https://shop.example.com/sale/shoes' &&
    payload.herald.userId === userId
  );
}

interface ServiceProcess {
  port: number;
  samples(): Promise<{ samples: Sample[]; counts: ServiceCounts }>;
  /** The service process's CPU µs (user + system) since `before` µs. */
  cpuSince(before: number): Promise<number>;
  stop(): void;
}

/** Requests the push service answered so far: h2 and HTTP/1.1 pushes, and of them 410 Gone. */
interface ServiceCounts {
  h2: number;
  h1: number;
  gone: number;
}

function startService(settings: {
  key: string;
  cert: string;
  sampleEvery: number;
  latencyMs: number;
  goneShare: number;
  unavailableShare: number;
}): Promise<ServiceProcess> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./push-service.mjs', import.meta.url)), [], {
    env: { ...process.env, HERALD_BENCH_SERVICE: JSON.stringify(settings) },
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('message', (message: { type: string; port: number }) => {
      resolve({
        port: message.port,
        samples: () =>
          new Promise((done) => {
            child.once('message', (reply: { samples: Sample[]; counts: ServiceCounts }) => done(reply));
            child.send({ type: 'samples' });
          }),
        cpuSince: (before) =>
          new Promise((done) => {
            child.once('message', (reply: { cpu: number }) => done(reply.cpu - before));
            child.send({ type: 'cpu' });
          }),
        stop: () => {
          child.send({ type: 'stop' });
          child.disconnect();
        },
      });
    });
  });
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Each stack's median run by msgs/s (the lower middle of an even count: the slower of the two). */
function medianRuns(runs: readonly StackRun[]): Map<Stack, StackRun> {
  const byStack = new Map<Stack, StackRun[]>();
  for (const run of runs) byStack.set(run.stack, [...(byStack.get(run.stack) ?? []), run]);
  const medians = new Map<Stack, StackRun>();
  for (const [stack, stackRuns] of byStack) {
    // Longest first: the lower middle of an even count is then the slower run.
    const ordered = [...stackRuns].sort((a, b) => b.seconds - a.seconds);
    medians.set(stack, ordered[Math.floor((ordered.length - 1) / 2)] as StackRun);
  }
  return medians;
}
