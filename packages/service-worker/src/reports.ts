import { ReportBody } from '@herald/core/payload';

/** A report waiting to be sent again. */
export interface PendingReport {
  reportId: string;
  url: string;
  body: ReportBody;
  attempts: number;
  queuedAt: number;
}

/** Where failed reports wait: IndexedDB in the service worker, memory in tests. */
export interface ReportStore {
  put(report: PendingReport): Promise<void>;
  all(): Promise<PendingReport[]>;
  delete(reportId: string): Promise<void>;
}

export type SendOutcome = 'sent' | 'queued' | 'dropped';

export interface FlushResult {
  sent: number;
  kept: number;
  dropped: number;
}

export interface ReporterOptions {
  fetch: (url: string, init: RequestInit) => Promise<Response>;
  store: ReportStore;
  now: () => number;
  /** Called after a report was queued (the service worker registers a Background Sync here). */
  onQueued?: () => void;
  onError?: (error: unknown, where: string) => void;
  /** Queued reports older than this are given up. Default 7 days. */
  maxAgeMs?: number;
  /** Attempts after which a report is given up. Default 20. */
  maxAttempts?: number;
}

export interface Reporter {
  /** Sends a report; on a network error or a 5xx/408/429 keeps it for later. Never throws. */
  send(url: string, body: ReportBody): Promise<SendOutcome>;
  /** Sends the queued reports again. Never throws. */
  flush(): Promise<FlushResult>;
}

/** What to do with a report after the host answered `status`. */
export function classifyStatus(status: number): 'sent' | 'retry' | 'drop' {
  if (status >= 200 && status < 300) return 'sent';
  if (status >= 500 || status === 408 || status === 429) return 'retry';
  // Any other 4xx: the host will never accept it (bad or expired token).
  return 'drop';
}

export function createReporter(options: ReporterOptions): Reporter {
  const maxAgeMs = options.maxAgeMs ?? 7 * 24 * 3600_000;
  const maxAttempts = options.maxAttempts ?? 20;
  const onError = options.onError ?? (() => {});
  let flushing: Promise<FlushResult> | null = null;

  async function attempt(url: string, body: ReportBody): Promise<'sent' | 'retry' | 'drop'> {
    try {
      const response = await options.fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        credentials: 'same-origin',
        keepalive: true,
      });
      return classifyStatus(response.status);
    } catch {
      return 'retry';
    }
  }

  async function keep(report: PendingReport): Promise<boolean> {
    try {
      await options.store.put(report);
      return true;
    } catch (error) {
      onError(error, 'queue report');
      return false;
    }
  }

  async function send(url: string, body: ReportBody): Promise<SendOutcome> {
    const parsed = ReportBody.safeParse(body);
    if (!parsed.success) {
      onError(parsed.error, 'invalid report');
      return 'dropped';
    }
    const outcome = await attempt(url, parsed.data);
    if (outcome === 'sent') return 'sent';
    if (outcome === 'drop') return 'dropped';
    const queued = await keep({
      reportId: body.reportId,
      url,
      body: parsed.data,
      attempts: 1,
      queuedAt: options.now(),
    });
    if (!queued) return 'dropped';
    options.onQueued?.();
    return 'queued';
  }

  async function flushOnce(): Promise<FlushResult> {
    const result: FlushResult = { sent: 0, kept: 0, dropped: 0 };
    let pending: PendingReport[];
    try {
      pending = await options.store.all();
    } catch (error) {
      onError(error, 'read queued reports');
      return result;
    }
    for (const report of pending) {
      const body = ReportBody.safeParse(report.body);
      const tooOld = options.now() - report.queuedAt > maxAgeMs;
      let outcome: 'sent' | 'retry' | 'drop' = 'drop';
      if (body.success && !tooOld && typeof report.url === 'string') {
        outcome = await attempt(report.url, body.data);
        if (outcome === 'retry' && report.attempts + 1 >= maxAttempts) outcome = 'drop';
      }
      try {
        if (outcome === 'retry') {
          await options.store.put({ ...report, attempts: report.attempts + 1 });
          result.kept++;
        } else {
          await options.store.delete(report.reportId);
          if (outcome === 'sent') result.sent++;
          else result.dropped++;
        }
      } catch (error) {
        onError(error, 'update queued report');
      }
    }
    return result;
  }

  return {
    send,
    flush() {
      if (!flushing) {
        flushing = flushOnce().finally(() => {
          flushing = null;
        });
      }
      return flushing;
    },
  };
}

/** A ReportStore in memory (tests, and the fallback when IndexedDB is unavailable). */
export function memoryReportStore(): ReportStore & { items: Map<string, PendingReport> } {
  const items = new Map<string, PendingReport>();
  return {
    items,
    async put(report) {
      items.set(report.reportId, structuredClone(report));
    },
    async all() {
      return [...items.values()].map((report) => structuredClone(report));
    },
    async delete(reportId) {
      items.delete(reportId);
    },
  };
}

const DB_NAME = 'herald-sw';
const STORE = 'reports';

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** A ReportStore in IndexedDB (database `herald-sw`, object store `reports`). */
export function indexedDbReportStore(factory: IDBFactory = indexedDB): ReportStore {
  let db: Promise<IDBDatabase> | null = null;
  const open = () => {
    if (!db) {
      const req = factory.open(DB_NAME, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'reportId' });
      db = request(req);
      db.catch(() => {
        db = null;
      });
    }
    return db;
  };
  const run = async <T>(
    mode: IDBTransactionMode,
    body: (store: IDBObjectStore) => IDBRequest<T>,
  ): Promise<T> => {
    const tx = (await open()).transaction(STORE, mode);
    const result = request(body(tx.objectStore(STORE)));
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
    return result;
  };
  return {
    async put(report) {
      await run('readwrite', (store) => store.put(report));
    },
    all: () => run('readonly', (store) => store.getAll() as IDBRequest<PendingReport[]>),
    async delete(reportId) {
      await run('readwrite', (store) => store.delete(reportId));
    },
  };
}
