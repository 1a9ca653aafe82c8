import { availableParallelism } from 'node:os';
import type { ResourceLimits, Worker } from 'node:worker_threads';
import type { TransportRequest, TransportResponse } from './http-transport.js';
import { DEFAULT_MAX_IN_FLIGHT_PER_ORIGIN, type PooledTransportOptions } from './pooled-transport.js';
import {
  type RequestShape,
  type ResultBatch,
  revive,
  type WorkItem,
  type WorkResult,
} from './worker/protocol.js';
import { startDeliveryWorker } from './worker/start-worker.js';

/**
 * Web Push work on worker threads. Per message, RFC 8291 encryption costs
 * an ECDH key pair, an ECDH agreement, two HKDFs and AES-GCM (about 200 µs
 * of CPU), and Node's HTTP/2 client about half as much again; on the main
 * thread both compete with the engine for its event loop.
 *
 * - `encrypt` encrypts in a worker (rfc8291.ts) and hands the body back.
 * - `send` (a pool created with `transport` options) encrypts and makes the
 *   request in the worker, on that worker's own pooled transport, and hands
 *   back the service's answer.
 *
 * Work asked for in one turn of the event loop goes to the least busy
 * worker in batches (one postMessage per batch, not per message). A worker
 * keeps the process alive only while it has work; an idle pool never does.
 */
export interface DeliveryPool {
  /** aes128gcm body for one subscription (a fresh sender key pair and salt per message). */
  encrypt(keys: { p256dh: string; auth: string }, plaintext: string): Promise<Uint8Array>;
  /**
   * Encrypts `plaintext` for `keys` and sends it as the body of `request`
   * (whose own body is ignored). Resolves with any HTTP answer; rejects with
   * an `EncryptionError` when the keys or payload cannot be encrypted, and
   * with the network error (name and code kept) when the request failed.
   */
  send(
    keys: { p256dh: string; auth: string },
    plaintext: string,
    request: Omit<TransportRequest, 'body'>,
    timeoutMs: number,
  ): Promise<TransportResponse>;
  close(): Promise<void>;
}

export interface DeliveryPoolOptions {
  /** Worker threads. Default: the number of cores. */
  workers?: number;
  /** Messages per postMessage at most. Default 64. */
  maxBatch?: number;
  /**
   * Options of the pooled transport each worker builds to `send`; without
   * them the pool only encrypts. `maxInFlightPerOrigin` is shared out
   * between the workers.
   */
  transport?: PooledTransportOptions;
  /**
   * V8 heap limits of each worker: the fields given replace those of
   * {@link DEFAULT_DELIVERY_WORKER_LIMITS}; `false` leaves Node's own limits.
   * A worker that runs out stops with ERR_WORKER_OUT_OF_MEMORY: its messages
   * fail and are retried, and the next work starts a new worker.
   */
  resourceLimits?: ResourceLimits | false;
}

/**
 * Each delivery worker's V8 heap limits unless the host sets its own. What they protect: a
 * process's memory. A worker keeps little alive (6-7 MB after a full collection, measured
 * delivering 10,000 messages: its code, its HTTP/2 sessions, the messages in flight, at most a few
 * hundred), but with Node's limits V8 lets each worker's heap grow to 55-67 MB of young generation
 * and promoted garbage before collecting it, which with two workers was most of the 200 MB a
 * postgres-stack process held beyond its main heap. A small young generation is collected often
 * (each collection is cheap: it copies only the messages still in flight), and the old generation
 * limit keeps garbage from piling up between full collections while leaving three to four times
 * the live size; a worker that outgrows it anyway is replaced, its messages retried (see above).
 * Young 4 / old 24 MB rather than 8 / 32: each worker's heap peaks at 13-15 MB instead of 15-18,
 * and a postgres-stack process's peak RSS is 10-17 MB less with two workers, for twice the
 * scavenges and 1.5 times the full collections (CPU per message: -2 to +7 % on a shared machine,
 * bench/README.md).
 */
export const DEFAULT_DELIVERY_WORKER_LIMITS: Readonly<ResourceLimits> = Object.freeze({
  maxYoungGenerationSizeMb: 4,
  maxOldGenerationSizeMb: 24,
});

/** The keys or the payload of a message could not be encrypted: sending it again cannot help. */
export class EncryptionError extends Error {
  override readonly name = 'EncryptionError';
}

interface Job {
  item: WorkItem;
  /** What its request shares with others (send only); the batch it goes in carries each shape once. */
  shape?: RequestShape;
  resolve: (result: WorkResult) => void;
  reject: (error: Error) => void;
}

interface Lane {
  worker: Worker;
  /** Jobs given to this worker and not answered yet, by item id. */
  jobs: Map<number, Job>;
}

export function createDeliveryPool(options: DeliveryPoolOptions = {}): DeliveryPool {
  const size = Math.max(1, options.workers ?? availableParallelism());
  const resourceLimits = workerLimits(options.resourceLimits);
  const maxBatch = options.maxBatch ?? 64;
  const transport = options.transport
    ? {
        ...options.transport,
        maxInFlightPerOrigin: Math.max(
          1,
          Math.ceil((options.transport.maxInFlightPerOrigin ?? DEFAULT_MAX_IN_FLIGHT_PER_ORIGIN) / size),
        ),
      }
    : null;
  const lanes: Lane[] = [];
  let queued: Job[] = [];
  let flushScheduled = false;
  let nextId = 1;
  let closed = false;

  /**
   * Starts workers until there are `size`: the first work starts them all,
   * and work after a worker died (out of memory, a crash) starts its
   * replacement. Not at the moment it dies: a worker that cannot start at
   * all would otherwise be restarted in a loop with no work to do.
   */
  const topUp = () => {
    while (lanes.length < size) {
      const worker = startDeliveryWorker({ transport }, resourceLimits);
      worker.unref();
      const lane: Lane = { worker, jobs: new Map() };
      worker.on('message', (batch: ResultBatch) => settle(lane, batch));
      worker.on('error', (error) => failLane(lane, error));
      worker.on('exit', (code) => {
        if (!closed) failLane(lane, new Error(`delivery worker exited with code ${code}`));
      });
      lanes.push(lane);
    }
  };

  const settle = (lane: Lane, batch: ResultBatch) => {
    for (const result of batch.results) {
      const job = lane.jobs.get(result.id);
      if (!job) continue;
      lane.jobs.delete(result.id);
      job.resolve(result);
    }
    // Idle again: the pool must not keep the process alive.
    if (lane.jobs.size === 0) lane.worker.unref();
  };

  const failLane = (lane: Lane, error: Error) => {
    for (const job of lane.jobs.values()) job.reject(error);
    lane.jobs.clear();
    const index = lanes.indexOf(lane);
    if (index >= 0) lanes.splice(index, 1);
  };

  const flush = () => {
    flushScheduled = false;
    const jobs = queued;
    queued = [];
    if (lanes.length === 0) {
      const error = new Error('no delivery worker is running');
      for (const job of jobs) job.reject(error);
      return;
    }
    for (let first = 0; first < jobs.length; first += maxBatch) {
      const batch = jobs.slice(first, first + maxBatch);
      let lane = lanes[0] as Lane;
      for (const candidate of lanes) if (candidate.jobs.size < lane.jobs.size) lane = candidate;
      // Busy: the process waits for this worker's answers.
      if (lane.jobs.size === 0) lane.worker.ref();
      const requests: RequestShape[] = [];
      const items = batch.map((job) => {
        lane.jobs.set(job.item.id, job);
        if (job.shape) job.item.request = shapeIndex(requests, job.shape);
        return job.item;
      });
      lane.worker.postMessage({ items, requests });
    }
  };

  const submit = (item: WorkItem, shape?: RequestShape): Promise<WorkResult> => {
    if (closed) return Promise.reject(new Error('delivery pool closed'));
    if (lanes.length < size) topUp();
    return new Promise<WorkResult>((resolve, reject) => {
      queued.push(shape ? { item, shape, resolve, reject } : { item, resolve, reject });
      if (queued.length >= maxBatch) flush();
      else if (!flushScheduled) {
        flushScheduled = true;
        // Gathers what this turn of the event loop asks for into one batch.
        setImmediate(flush);
      }
    });
  };

  return {
    async encrypt(keys, plaintext) {
      const result = await submit({ id: nextId++, p256dh: keys.p256dh, auth: keys.auth, plaintext });
      if (result.kind === 'encrypted') return result.body;
      throw resultError(result);
    },
    async send(keys, plaintext, request, timeoutMs) {
      if (!transport) throw new Error('this delivery pool only encrypts (created without transport options)');
      const { url } = request;
      const result = await submit(
        {
          id: nextId++,
          p256dh: keys.p256dh,
          auth: keys.auth,
          plaintext,
          path: `${url.pathname}${url.search}`,
        },
        { origin: url.origin, headers: request.headers, timeoutMs },
      );
      if (result.kind === 'response') {
        const headers = result.retryAfter === undefined ? {} : { 'retry-after': result.retryAfter };
        return { statusCode: result.statusCode, headers, body: result.body };
      }
      throw resultError(result);
    },
    async close() {
      closed = true;
      const running = lanes.splice(0);
      const error = new Error('delivery pool closed');
      for (const lane of running) for (const job of lane.jobs.values()) job.reject(error);
      for (const job of queued.splice(0)) job.reject(error);
      await Promise.all(running.map((lane) => lane.worker.terminate()));
    },
  };
}

/**
 * The index of `shape` in a batch's `requests`, added when new. Requests share a shape when they
 * go to one origin with the same headers object and timeout: the webPush provider hands the pool
 * one headers object per Authorization, TTL, Urgency and Topic, so a batch usually has one shape.
 */
function shapeIndex(requests: RequestShape[], shape: RequestShape): number {
  for (let index = requests.length - 1; index >= 0; index -= 1) {
    const known = requests[index] as RequestShape;
    if (
      known.headers === shape.headers &&
      known.origin === shape.origin &&
      known.timeoutMs === shape.timeoutMs
    )
      return index;
  }
  return requests.push(shape) - 1;
}

/** The limits a delivery worker starts with: the defaults, with the host's fields over them; undefined for Node's own. */
export function workerLimits(option: ResourceLimits | false | undefined): ResourceLimits | undefined {
  return option === false ? undefined : { ...DEFAULT_DELIVERY_WORKER_LIMITS, ...option };
}

function resultError(result: WorkResult): Error {
  if (result.kind !== 'error') return new Error(`unexpected ${result.kind} result from a delivery worker`);
  return result.stage === 'encrypt' ? new EncryptionError(result.error.message) : revive(result.error);
}
