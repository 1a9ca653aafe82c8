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
import ece from 'http_ece';
import webPushLib from 'web-push';
import { selfSignedCertificate } from '../../packages/core/src/dev/self-signed.js';
import { decryptWebPush } from './decrypt.js';

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
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
}

export interface DeliveryBenchResult {
  n: number;
  baseline_msgs_per_s: number;
  limit_msgs_per_s: number;
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
  const service = await startService(identity, sampleEvery);
  const origin = `https://127.0.0.1:${service.port}`;
  try {
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
    const limitSeconds = skip ? Number.POSITIVE_INFINITY : await runLimit(subscribers);
    log(`    ${Math.round(n / limitSeconds)} msgs/s`);

    log('    and the HTTP/2 requests alone: node:http2, no encryption, no engine');
    const alone = skip ? null : await runTransportAlone(n, origin, identity.cert, concurrency, service);
    if (alone) log(`    client ${alone.clientUs} us + service ${alone.serviceUs} us of CPU a request`);

    log('3/3 Herald: campaign through the engine (memory storage and queue)');
    const herald = await runHerald(
      service,
      subscribers,
      origin,
      identity.cert,
      vapid,
      concurrency,
      options.encryptionWorkers,
      log,
    );
    log(`    ${Math.round(n / herald.seconds)} msgs/s, peak RSS ${herald.peakRssMb} MB`);
    const serviceCpu = await service.cpuSince(herald.serviceCpuBefore);

    const { samples, counts } = await service.samples();
    const checked = verifySamples(samples, subscribers);
    const expectedSamples = (skip ? 1 : 2) * Math.ceil(n / sampleEvery);
    const verified = checked.ok && checked.count === expectedSamples && herald.sent === n;
    if (!verified)
      log(
        `verification failed: ${checked.problems.slice(0, 5).join('; ')} (checked ${checked.count} of ${expectedSamples}, Herald sent ${herald.sent} of ${n})`,
      );

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
      baseline_msgs_per_s: Math.round(baselineRate),
      limit_msgs_per_s: Math.round(limitRate),
      herald_msgs_per_s: Math.round(heraldRate),
      ratio_baseline: skip ? 0 : round2(heraldRate / baselineRate),
      ratio_limit: skip ? 0 : round2(heraldRate / limitRate),
      ceiling_msgs_per_s: Math.round(ceilingRate),
      ratio_ceiling: skip ? 0 : round2(heraldRate / ceilingRate),
      peak_rss_mb: herald.peakRssMb,
      verified,
      samples_checked: checked.count,
      herald_sent: herald.sent,
      herald_h2_requests: counts.h2,
      herald_cpu_us_per_msg: herald.cpuUsPerMessage,
      service_cpu_us_per_msg: Math.round(serviceCpu / n),
      herald_main_thread_busy: herald.mainThreadBusy,
      transport_alone_client_us_per_msg: alone?.clientUs ?? 0,
      transport_alone_service_us_per_msg: alone?.serviceUs ?? 0,
      rss_before_send_mb: herald.rssBeforeMb,
      herald_main_heap_at_peak_mb: herald.memory.mainHeapAtPeakMb,
      herald_main_heap_used_at_peak_mb: herald.memory.mainHeapUsedAtPeakMb,
      herald_rest_at_peak_mb: herald.memory.restAtPeakMb,
      herald_main_heap_peak_mb: herald.memory.mainHeapPeakMb,
      sender_node_flags: senderFlags().join(' '),
      cores: availableParallelism(),
      cpu: cpus()[0]?.model ?? 'unknown',
      node: process.version,
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

/** RFC 8291 alone: each core's worker encrypts its share with web-push's routine; no I/O, no VAPID. */
async function runLimit(subscribers: Subscriber[]): Promise<number> {
  const cores = availableParallelism();
  const webPushPath = fileURLToPath(import.meta.resolve('web-push'));
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const webPush = require(workerData.webPushPath);
    parentPort.once('message', () => {
      for (const k of workerData.keys) {
        webPush.encrypt(k.p256dh, k.auth, Buffer.from(k.payload), 'aes128gcm');
      }
      parentPort.postMessage('done');
    });
    parentPort.postMessage('ready');
  `;
  const shares = Array.from({ length: cores }, (_, core) =>
    subscribers
      .filter((s) => s.index % cores === core)
      .map((s) => ({ ...s.keys, payload: baselinePayload(s.index) })),
  );
  const workers = shares.map((keys) => new Worker(source, { eval: true, workerData: { keys, webPushPath } }));
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

/** Herald's way, in its own process (herald-sender.mjs), so its peak RSS is its own. */
async function runHerald(
  service: ServiceProcess,
  subscribers: Subscriber[],
  origin: string,
  ca: string,
  vapid: { subject: string; publicKey: string; privateKey: string },
  concurrency: number,
  encryptionWorkers: number | undefined,
  log: (line: string) => void,
): Promise<HeraldRun> {
  const dir = await mkdtemp(join(tmpdir(), 'herald-bench-'));
  // One subscription per line, read one at a time by the sender, as a host receives them.
  const subscriptionsFile = join(dir, 'subscriptions.ndjson');
  await writeFile(
    subscriptionsFile,
    subscribers.map((s) => `${JSON.stringify([s.index, s.keys.p256dh, s.keys.auth])}\n`).join(''),
  );
  const serviceCpuBefore = await service.cpuSince(0);
  const child = fork(fileURLToPath(new URL('./herald-sender.mjs', import.meta.url)), [], {
    // Node flags for Herald's process only (e.g. V8 heap tuning), as a host would set them.
    execArgv: senderFlags(),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    const result = await new Promise<Omit<HeraldRun, 'serviceCpuBefore'>>((resolve, reject) => {
      child.on(
        'message',
        (message: { type: string; line?: string; result?: HeraldRun; message?: string }) => {
          if (message.type === 'progress') log(message.line ?? '');
          else if (message.type === 'done' && message.result) resolve(message.result);
          else reject(new Error(`herald-sender: ${message.message ?? 'no result'}`));
        },
      );
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`herald-sender exited with code ${code}`)));
      child.send({
        subscriptionsFile,
        origin,
        ca,
        vapid,
        concurrency,
        ...(encryptionWorkers !== undefined ? { encryptionWorkers } : {}),
      });
    });
    return { ...result, serviceCpuBefore };
  } finally {
    child.kill();
    await rm(dir, { recursive: true, force: true });
  }
}

interface HeraldRun {
  seconds: number;
  sent: number;
  peakRssMb: number;
  /** RSS once the subscriptions are stored, before the campaign starts. */
  rssBeforeMb: number;
  /** CPU of the sending process (all threads) per message, during the campaign. */
  cpuUsPerMessage: number;
  /** Share of the campaign's wall time the main thread's event loop was busy. */
  mainThreadBusy: number;
  /** Where the peak RSS went (herald-sender.mjs `memorySampler`). */
  memory: {
    mainHeapAtPeakMb: number;
    mainHeapUsedAtPeakMb: number;
    restAtPeakMb: number;
    mainHeapPeakMb: number;
  };
  /** The service's CPU µs used before Herald's process started (it receives nothing until the campaign). */
  serviceCpuBefore: number;
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
    else if (sample.phase === 'h' && !isHeraldMessageFor(byEce, `u${sample.index}`))
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
  samples(): Promise<{ samples: Sample[]; counts: { h2: number; h1: number } }>;
  /** The service process's CPU µs (user + system) since `before` µs. */
  cpuSince(before: number): Promise<number>;
  stop(): void;
}

function startService(identity: { key: string; cert: string }, sampleEvery: number): Promise<ServiceProcess> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./push-service.mjs', import.meta.url)), [], {
    env: { ...process.env, HERALD_BENCH_SERVICE: JSON.stringify({ ...identity, sampleEvery }) },
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
            child.once('message', (reply: { samples: Sample[]; counts: { h2: number; h1: number } }) =>
              done(reply),
            );
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
