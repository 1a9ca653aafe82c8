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
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { HttpTransport } from '../http-transport.js';
import { pooledHttpTransport } from '../pooled-transport.js';
import { encryptAes128gcm } from '../rfc8291.js';
import {
  type ResultBatch,
  serializeError,
  type WorkBatch,
  type WorkerConfig,
  type WorkItem,
  type WorkResult,
} from './protocol.js';

const port = parentPort;
if (!port) throw new Error('delivery-worker runs as a worker thread');
const config = workerData as WorkerConfig;
const transport: HttpTransport | null = config.transport ? pooledHttpTransport(config.transport) : null;

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

async function send(item: WorkItem, body: Buffer, request: NonNullable<WorkItem['request']>): Promise<void> {
  try {
    // The pool sends only with transport options; inside the try, a slip is answered, never left hanging.
    if (!transport) throw new Error('this delivery pool only encrypts');
    const response = await transport.send(
      { url: new URL(request.url), method: 'POST', headers: request.headers, body },
      { timeoutMs: request.timeoutMs },
    );
    // Only what outcome mapping reads crosses back: the status, Retry-After and the reason's text.
    // A push service's other headers (date, location, alt-svc, ...) would be cloned for nothing.
    const retryAfter = response.headers['retry-after'];
    post({
      id: item.id,
      kind: 'response',
      response: {
        statusCode: response.statusCode,
        headers: retryAfter === undefined ? {} : { 'retry-after': retryAfter },
        body: response.body,
      },
    });
  } catch (error) {
    post({ id: item.id, kind: 'error', stage: 'network', error: serializeError(error) });
  }
}

port.on('message', ({ items }: WorkBatch) => {
  for (const item of items) {
    let body: Buffer;
    try {
      body = encryptAes128gcm(item, Buffer.from(item.plaintext, 'utf8'));
    } catch (error) {
      post({ id: item.id, kind: 'error', stage: 'encrypt', error: serializeError(error) });
      continue;
    }
    if (item.request) void send(item, body, item.request);
    // A copy that owns its memory: a small body (Buffer.allocUnsafe) may sit in Node's shared pool buffer.
    else post({ id: item.id, kind: 'encrypted', body: new Uint8Array(body) });
  }
});
