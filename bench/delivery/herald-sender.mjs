// Herald's way of sending, in a process of its own (forked by bench.ts) so
// that its peak RSS is Herald's alone: the parent has by then made N key
// pairs and run the baseline, whose heap a shared process would keep.
// Plain ESM on the built package, as a host runs it (no TypeScript loader
// in this process either). One request over IPC, one answer:
//   in:  { subscriptionsFile, origin, ca, vapid, concurrency, encryptionWorkers? }
//   out: { seconds, sent, peakRssMb, rssBeforeMb, cpuUsPerMessage, mainThreadBusy, memory }
import { createReadStream } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import v8 from 'node:v8';
import { createHerald, memoryQueue, memoryStorage, pooledHttpTransport, webPush } from '@herald/core';

const AT = new Date('2030-01-01T09:00:00Z');
/** The campaign's instant, held still: the run sends one occurrence that is due at once. */
const clock = {
  now: () => new Date(AT),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

async function run({ subscriptionsFile, origin, ca, vapid, concurrency, encryptionWorkers }) {
  const provider = webPush({
    vapid,
    transport: pooledHttpTransport({ ca }),
    ...(encryptionWorkers !== undefined ? { encryptionWorkers } : {}),
  });
  const herald = createHerald({
    storage: memoryStorage(),
    queue: memoryQueue(),
    providers: { webpush: provider },
    clock,
    allowEndpoint: [origin],
    tuning: { sendConcurrency: concurrency },
  });
  try {
    // One [index, p256dh, auth] per line, stored as it is read: subscriptions reach a host one at a
    // time, and a parsed array of all N would sit in Herald's heap (RSS before sending at 100,000:
    // 243 MB that way, 168 MB this way).
    let n = 0;
    const lines = createInterface({ input: createReadStream(subscriptionsFile), crlfDelay: Infinity });
    for await (const line of lines) {
      const [index, p256dh, auth] = JSON.parse(line);
      await herald.subscriptions.add({
        userId: `u${index}`,
        subscription: { endpoint: `${origin}/push/h/${index}`, keys: { p256dh, auth } },
      });
      n++;
    }
    const campaign = await herald.campaigns.create({
      name: 'Benchmark',
      when: { schedule: { type: 'once', at: AT.toISOString() } },
      who: { segment: { type: 'all' } },
      what: {
        title: 'Spring sale',
        body: 'Thirty percent off every pair of shoes until Sunday, in store and online.',
        deeplink: 'https://shop.example.com/sale/shoes',
        ttlSeconds: 3600,
      },
    });
    await herald.campaigns.schedule(campaign.id);
    process.send({ type: 'progress', line: `    ${n} subscriptions stored; sending` });

    const rssBeforeMb = Math.round(process.memoryUsage.rss() / 1024 / 1024);
    let peak = process.memoryUsage.rss();
    const memory = memorySampler();
    const sampler = setInterval(() => {
      const rss = process.memoryUsage.rss();
      peak = Math.max(peak, rss);
      memory.sample(rss);
    }, 20);
    const cpuBefore = process.cpuUsage();
    const eluBefore = performance.eventLoopUtilization();
    const start = process.hrtime.bigint();
    for (;;) {
      const { started, jobs } = await herald.tick();
      if (started === 0 && jobs === 0) break;
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    clearInterval(sampler);
    // The whole process: main thread and delivery workers.
    const cpu = process.cpuUsage(cpuBefore);
    const mainThreadBusy = performance.eventLoopUtilization(eluBefore).utilization;
    peak = Math.max(peak, process.memoryUsage.rss());
    const stats = await herald.campaigns.stats(campaign.id);
    return {
      seconds,
      sent: stats.sent,
      peakRssMb: Math.round(peak / 1024 / 1024),
      rssBeforeMb,
      cpuUsPerMessage: Math.round((cpu.user + cpu.system) / n),
      mainThreadBusy: Math.round(mainThreadBusy * 100) / 100,
      memory: memory.report(),
    };
  } finally {
    await herald.stop();
  }
}

/**
 * Where the peak RSS went: the main thread's V8 heap (committed, and in use)
 * when the RSS peaked, and the rest of the process then (delivery workers'
 * heaps, native buffers, code). Also the main heap's largest committed size.
 */
function memorySampler() {
  const mb = (bytes) => Math.round(bytes / 1024 / 1024);
  let peakRss = 0;
  let atPeak = { total_heap_size: 0, used_heap_size: 0 };
  let heapPeak = 0;
  return {
    sample(rss) {
      const heap = v8.getHeapStatistics();
      heapPeak = Math.max(heapPeak, heap.total_heap_size);
      if (rss > peakRss) {
        peakRss = rss;
        atPeak = heap;
      }
    },
    report: () => ({
      mainHeapAtPeakMb: mb(atPeak.total_heap_size),
      mainHeapUsedAtPeakMb: mb(atPeak.used_heap_size),
      restAtPeakMb: mb(peakRss - atPeak.total_heap_size),
      mainHeapPeakMb: mb(heapPeak),
    }),
  };
}

process.once('message', (request) => {
  run(request).then(
    (result) => process.send({ type: 'done', result }, () => process.exit(0)),
    (error) => process.send({ type: 'error', message: String(error?.stack ?? error) }, () => process.exit(1)),
  );
});
