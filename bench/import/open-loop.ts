/**
 * An open-loop load of `events.track`: events offered at a fixed rate, each issued at its scheduled
 * time whether or not earlier calls have returned, as a site's web servers call track when their
 * requests arrive, independently of each other. A closed loop of K callers (each awaits its call,
 * then calls again) lets a slow Herald slow its own load and caps a coalesced group at K: it
 * understates what Herald sustains and hides the wait a late call causes (coordinated omission).
 * Here latency runs from each event's SCHEDULED time, so an event issued late because the process
 * was busy counts its wait too.
 */

/** What one open-loop phase measured. */
export interface OpenLoopResult {
  offered_per_s: number;
  /** Calls completed during the measured window, a second. */
  achieved_per_s: number;
  seconds: number;
  /** Latency of the events scheduled in the measured window, ms from their scheduled time to their answer. */
  latency_ms: { p50: number; p95: number; p99: number; max: number };
  /** Events scheduled by the end of the window and not answered then (issued late ones included). */
  backlog_at_end: number;
  failed: number;
  herald_cpu_us_per_event: number | null;
  /** The whole server's CPU: on a shared server, other clients' work is in it. */
  postgres_cpu_us_per_event: number | null;
  /** The CPU of the backends serving this benchmark's connections alone. */
  postgres_backends_cpu_us_per_event: number | null;
  statements_per_10k_events: number;
  sustained: boolean;
}

/** The rule for `sustained`, printed with the results. */
export const SUSTAINED_RULE =
  'achieved >= 0.99 x offered, p99 latency (from scheduled time) < 250 ms, backlog at the end < 1 s of events, no call failed';

export function isSustained(result: Omit<OpenLoopResult, 'sustained'>): boolean {
  return (
    result.achieved_per_s >= 0.99 * result.offered_per_s &&
    result.latency_ms.p99 < 250 &&
    result.backlog_at_end < result.offered_per_s &&
    result.failed === 0
  );
}

/** How often the schedule issues the events due by then: a web server's requests do not arrive in 2 ms lumps, but close. */
const TICK_MS = 2;

export interface OpenLoopOptions {
  /** Events offered a second. */
  rate: number;
  /** Length of the measured window. */
  seconds: number;
  /** Offered before the window at the same rate, not counted: the pool's connections open, the caches fill. */
  warmupSeconds: number;
  /** Issues the i-th event of the phase (track's promise). */
  issue: (index: number) => Promise<unknown>;
  /** CPU µs so far of the database server, or null when it cannot be read. */
  serverCpu: { read(): Promise<number | null> };
  /** CPU µs so far of the server's backends serving this process. */
  backendsCpu: { read(): Promise<number | null> };
  /** Statements sent to the database so far by this process. */
  statements: () => number;
}

export async function openLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const { rate, seconds, warmupSeconds, issue } = options;
  const intervalMs = 1000 / rate;
  const warmupCount = Math.round(warmupSeconds * rate);
  const measuredCount = Math.round(seconds * rate);
  const total = warmupCount + measuredCount;
  // Latency of each measured event (by index from the window's first), NaN until answered.
  const latencies = new Float64Array(measuredCount).fill(Number.NaN);
  let issued = 0;
  let answered = 0;
  let answeredInWindow = 0;
  let failed = 0;
  let windowOpen = false;
  const pending: Promise<void>[] = [];

  const start = performance.now();
  const scheduledAt = (index: number) => start + index * intervalMs;
  const windowStart = scheduledAt(warmupCount);
  const windowEnd = scheduledAt(total);

  let opened:
    | {
        cpu: NodeJS.CpuUsage;
        server: Promise<number | null>;
        backends: Promise<number | null>;
        statements: number;
      }
    | undefined;

  const call = (index: number) => {
    const scheduled = scheduledAt(index);
    return issue(index).then(
      () => {
        answered++;
        if (windowOpen) answeredInWindow++;
        if (index >= warmupCount) latencies[index - warmupCount] = performance.now() - scheduled;
      },
      () => {
        failed++;
        if (index >= warmupCount) latencies[index - warmupCount] = performance.now() - scheduled;
      },
    );
  };

  const closed = await new Promise<WindowClose>((resolve) => {
    const tick = () => {
      const now = performance.now();
      if (!opened && now >= windowStart) {
        windowOpen = true;
        opened = {
          cpu: process.cpuUsage(),
          statements: options.statements(),
          server: options.serverCpu.read(),
          backends: options.backendsCpu.read(),
        };
      }
      const due = Math.min(total, Math.floor((now - start) / intervalMs) + 1);
      while (issued < due) pending.push(call(issued++));
      if (opened && now >= windowEnd) {
        windowOpen = false;
        clearInterval(timer);
        resolve({
          heraldCpuUs: cpuTotal(process.cpuUsage(opened.cpu)),
          statements: options.statements() - opened.statements,
          server: Promise.all([opened.server, options.serverCpu.read()]),
          backends: Promise.all([opened.backends, options.backendsCpu.read()]),
          backlog: issued - answered - failed,
          answered: answeredInWindow,
        });
      }
    };
    const timer = setInterval(tick, TICK_MS);
    tick();
  });
  // Every measured event's answer, however late: its latency is part of the result.
  await Promise.all(pending);
  const [before, after] = await closed.server;
  const [backendsBefore, backendsAfter] = await closed.backends;
  const windowSeconds = (windowEnd - windowStart) / 1000;
  const perEvent = (us: number | null) =>
    us === null || closed.answered === 0 ? null : Math.round(us / closed.answered);
  const sorted = latencies.sort();
  const result = {
    offered_per_s: rate,
    achieved_per_s: Math.round(closed.answered / windowSeconds),
    seconds: Math.round(windowSeconds * 1000) / 1000,
    latency_ms: {
      p50: percentile(sorted, 0.5),
      p95: percentile(sorted, 0.95),
      p99: percentile(sorted, 0.99),
      max: round1(sorted[sorted.length - 1] ?? 0),
    },
    backlog_at_end: closed.backlog,
    failed,
    herald_cpu_us_per_event: perEvent(closed.heraldCpuUs),
    postgres_cpu_us_per_event: perEvent(before === null || after === null ? null : after - before),
    postgres_backends_cpu_us_per_event: perEvent(
      backendsBefore === null || backendsAfter === null ? null : backendsAfter - backendsBefore,
    ),
    statements_per_10k_events:
      closed.answered === 0 ? 0 : Math.round((closed.statements * 10_000) / closed.answered),
  };
  return { ...result, sustained: isSustained(result) };
}

/** What the measured window saw by its end. */
interface WindowClose {
  heraldCpuUs: number;
  statements: number;
  /** The server's CPU at the window's start and end. */
  server: Promise<[number | null, number | null]>;
  backends: Promise<[number | null, number | null]>;
  backlog: number;
  answered: number;
}

const cpuTotal = (usage: NodeJS.CpuUsage) => usage.user + usage.system;
const round1 = (value: number) => Math.round(value * 10) / 10;

/** Nearest-rank percentile of ascending values. */
function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return 0;
  return round1(sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] as number);
}
