import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/**
 * RFC 8291 encryption on worker threads. Per message it costs an ECDH key
 * pair, an ECDH agreement, two HKDFs and AES-GCM — about 170 µs of CPU, the
 * largest share of a send once VAPID tokens are cached — and it runs on the
 * main thread's event loop unless moved here.
 *
 * Requests are gathered for one turn of the event loop and sent to the
 * least busy worker in batches (one postMessage per batch, not per
 * message); each batch's ciphertexts come back packed in one transferred
 * ArrayBuffer. Workers run web-push's own `encrypt`, the same routine as
 * on the main thread, and are `unref`'d so an idle pool never keeps a
 * process alive.
 */
export interface EncryptionPool {
  /** aes128gcm body for one subscription (a fresh sender key pair and salt per message). */
  encrypt(keys: { p256dh: string; auth: string }, plaintext: string): Promise<Buffer>;
  close(): Promise<void>;
}

export interface EncryptionPoolOptions {
  /** Worker threads. Default: the number of cores. */
  workers?: number;
  /** Messages per postMessage at most. Default 64. */
  maxBatch?: number;
}

interface Job {
  p256dh: string;
  auth: string;
  plaintext: string;
  resolve: (body: Buffer) => void;
  reject: (error: Error) => void;
}

interface Lane {
  worker: Worker;
  /** Messages sent to this worker and not answered yet. */
  outstanding: number;
  batches: Map<number, Job[]>;
}

interface BatchReply {
  id: number;
  buffer: ArrayBuffer;
  /** Byte length of each ciphertext in order; -1 where `errors` has the message. */
  lengths: number[];
  errors: (string | null)[];
}

// The worker is plain CommonJS evaluated from this string, so it runs the
// same from the ESM and CJS builds and from TypeScript sources under test.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const webPush = require(workerData.webPushPath);
parentPort.on('message', ({ id, items }) => {
  const bodies = [];
  const lengths = [];
  const errors = [];
  let total = 0;
  for (const item of items) {
    try {
      const { cipherText } = webPush.encrypt(item.p256dh, item.auth, Buffer.from(item.plaintext, 'utf8'), 'aes128gcm');
      bodies.push(cipherText);
      lengths.push(cipherText.length);
      errors.push(null);
      total += cipherText.length;
    } catch (error) {
      lengths.push(-1);
      errors.push(String(error && error.message ? error.message : error));
    }
  }
  const packed = new Uint8Array(total);
  let offset = 0;
  for (const body of bodies) {
    packed.set(body, offset);
    offset += body.length;
  }
  parentPort.postMessage({ id, buffer: packed.buffer, lengths, errors }, [packed.buffer]);
});
`;

export function createEncryptionPool(options: EncryptionPoolOptions = {}): EncryptionPool {
  const size = Math.max(1, options.workers ?? availableParallelism());
  const maxBatch = options.maxBatch ?? 64;
  const lanes: Lane[] = [];
  let pending: Job[] = [];
  let flushScheduled = false;
  let nextId = 1;
  let closed = false;

  const start = () => {
    const webPushPath = resolveWebPush();
    for (let i = 0; i < size; i++) {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { webPushPath } });
      worker.unref();
      const lane: Lane = { worker, outstanding: 0, batches: new Map() };
      worker.on('message', (reply: BatchReply) => settle(lane, reply));
      worker.on('error', (error) => failLane(lane, error));
      worker.on('exit', (code) => {
        if (!closed) failLane(lane, new Error(`encryption worker exited with code ${code}`));
      });
      lanes.push(lane);
    }
  };

  const settle = (lane: Lane, reply: BatchReply) => {
    const jobs = lane.batches.get(reply.id);
    if (!jobs) return;
    lane.batches.delete(reply.id);
    lane.outstanding -= jobs.length;
    const packed = Buffer.from(reply.buffer);
    let offset = 0;
    jobs.forEach((job, index) => {
      const length = reply.lengths[index] ?? -1;
      if (length < 0) {
        job.reject(new Error(reply.errors[index] ?? 'encryption failed'));
        return;
      }
      job.resolve(packed.subarray(offset, offset + length));
      offset += length;
    });
  };

  const failLane = (lane: Lane, error: Error) => {
    for (const jobs of lane.batches.values()) for (const job of jobs) job.reject(error);
    lane.batches.clear();
    lane.outstanding = 0;
    const index = lanes.indexOf(lane);
    if (index >= 0) lanes.splice(index, 1);
  };

  const flush = () => {
    flushScheduled = false;
    const jobs = pending;
    pending = [];
    if (lanes.length === 0) {
      const error = new Error('no encryption worker is running');
      for (const job of jobs) job.reject(error);
      return;
    }
    for (let start = 0; start < jobs.length; start += maxBatch) {
      const batch = jobs.slice(start, start + maxBatch);
      let lane = lanes[0] as Lane;
      for (const candidate of lanes) if (candidate.outstanding < lane.outstanding) lane = candidate;
      const id = nextId++;
      lane.batches.set(id, batch);
      lane.outstanding += batch.length;
      lane.worker.postMessage({
        id,
        items: batch.map(({ p256dh, auth, plaintext }) => ({ p256dh, auth, plaintext })),
      });
    }
  };

  return {
    encrypt(keys, plaintext) {
      if (closed) return Promise.reject(new Error('encryption pool closed'));
      if (lanes.length === 0) start();
      return new Promise<Buffer>((resolve, reject) => {
        pending.push({ p256dh: keys.p256dh, auth: keys.auth, plaintext, resolve, reject });
        if (pending.length >= maxBatch) flush();
        else if (!flushScheduled) {
          flushScheduled = true;
          // Gathers what this turn of the event loop asks for into one batch.
          setImmediate(flush);
        }
      });
    },
    async close() {
      closed = true;
      const running = lanes.splice(0);
      const error = new Error('encryption pool closed');
      for (const lane of running) {
        for (const jobs of lane.batches.values()) for (const job of jobs) job.reject(error);
      }
      for (const job of pending.splice(0)) job.reject(error);
      await Promise.all(running.map((lane) => lane.worker.terminate()));
    },
  };
}

/** web-push's entry file, for the worker to `require` (it cannot resolve from an eval'd source). */
function resolveWebPush(): string {
  if (typeof require === 'function') return require.resolve('web-push');
  return createRequire(import.meta.url).resolve('web-push');
}
