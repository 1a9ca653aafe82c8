/**
 * A delivery worker thread: RFC 8291 encryption (rfc8291.ts) and, when the
 * pool sends, the HTTP request too, on this thread's own pooled transport
 * (HTTP/2 sessions per origin). Moving the request
 * here takes Node's per-request HTTP/2 work — about as much CPU as the
 * encryption — off the engine's event loop.
 *
 * Results are posted back in batches: whatever finished in one turn of
 * this thread's event loop goes in one message, so a slow service does not
 * hold back answers that are ready.
 *
 * A message in flight keeps only its id, its body and its batch's shared
 * request shape alive: its keys and plaintext are garbage once it is
 * encrypted. What a request holds while it waits for its answer is what
 * each young-generation collection of this thread copies.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { lowerCase, pooledTransport, type SplitRequest } from '../pooled-transport.js';
import { encryptAes128gcm } from '../rfc8291.js';
import {
  type RequestShape,
  type ResultBatch,
  serializeError,
  type WorkBatch,
  type WorkerConfig,
  type WorkResult,
} from './protocol.js';

const port = parentPort;
if (!port) throw new Error('delivery-worker runs as a worker thread');
const config = workerData as WorkerConfig;
const transport = config.transport ? pooledTransport(config.transport) : null;

let ready: WorkResult[] = [];
let flushScheduled = false;
const post = (result: WorkResult) => {
  ready.push(result);
  if (flushScheduled) return;
  flushScheduled = true;
  setImmediate(() => {
    flushScheduled = false;
    const batch: ResultBatch = { results: ready };
    ready = [];
    const transfer = batch.results.flatMap((result) =>
      result.kind === 'encrypted' ? [result.body.buffer as ArrayBuffer] : [],
    );
    port.postMessage(batch, transfer);
  });
};

async function send(id: number, shape: RequestShape | undefined, path: string, body: Buffer): Promise<void> {
  try {
    // The pool sends only with transport options; inside the try, a slip is answered, never left hanging.
    if (!transport) throw new Error('this delivery pool only encrypts');
    if (!shape) throw new Error(`delivery worker: no request shape for message ${id}`);
    const request: SplitRequest = { origin: shape.origin, path, headers: shape.headers, body };
    const response = await transport.sendSplit(request, shape.timeoutMs);
    const retryAfter = response.headers['retry-after'];
    post(
      retryAfter === undefined
        ? { id, kind: 'response', statusCode: response.statusCode, body: response.body }
        : { id, kind: 'response', statusCode: response.statusCode, retryAfter, body: response.body },
    );
  } catch (error) {
    post({ id, kind: 'error', stage: 'network', error: serializeError(error) });
  }
}

/** A batch's request shape as this thread sends it: header names in lower case, once per batch. */
const shapeOf = (request: RequestShape): RequestShape => ({
  origin: request.origin,
  headers: lowerCase(request.headers),
  timeoutMs: request.timeoutMs,
});

port.on('message', ({ items, requests }: WorkBatch) => {
  const shapes = requests.map(shapeOf);
  for (const item of items) {
    let body: Buffer;
    try {
      body = encryptAes128gcm(item, item.plaintext);
    } catch (error) {
      post({ id: item.id, kind: 'error', stage: 'encrypt', error: serializeError(error) });
      continue;
    }
    if (item.path !== undefined) void send(item.id, shapes[item.request ?? -1], item.path, body);
    // A copy that owns its memory: a small body (Buffer.allocUnsafe) may sit in Node's shared pool buffer.
    else post({ id: item.id, kind: 'encrypted', body: new Uint8Array(body) });
  }
});
