import http from 'node:http';
import http2, { type ClientHttp2Stream } from 'node:http2';
import https from 'node:https';
import { isIP } from 'node:net';
import http2wrapper from 'http2-wrapper';
import { h2Sessions } from './h2-sessions.js';
import {
  collectBody,
  type HttpTransport,
  sendOverHttp1,
  type TransportResponse,
  timeoutError,
} from './http-transport.js';
import { withLostConnection } from './lost-connection.js';

/**
 * The production transport: one pool per push-service origin.
 *
 * - https origins are asked once which protocol they speak (ALPN, through
 *   http2-wrapper); `h2` origins get multiplexed node:http2 sessions, a
 *   second one only when the first has no free stream (`h2-sessions.ts`; a
 *   new one after a GOAWAY or an error), the others HTTP/1.1 keep-alive
 *   sockets.
 * - plain http (a loopback push service only; the endpoint policy refuses it
 *   elsewhere) uses HTTP/1.1 keep-alive.
 * - at most `maxInFlightPerOrigin` requests are in flight per origin; the
 *   rest wait their turn in order, so one slow service cannot take every
 *   socket and a burst cannot open hundreds of connections.
 * - each request has a deadline (`timeoutMs`) from the moment it leaves.
 * - a stream the server refused without processing it (RST_STREAM
 *   REFUSED_STREAM, or past the last stream id of a GOAWAY) is sent once
 *   more on a fresh stream: RFC 9113 §8.7 says it is safe. Any other reset
 *   rejects, which the provider turns into a `retry` outcome.
 */
export interface PooledTransportOptions {
  /**
   * Requests in flight per push-service origin (HTTP/2 streams or HTTP/1.1 sockets). Default 400,
   * the engine's own default in flight (`tuning.concurrency` 4 jobs × `sendConcurrency` 100): a
   * sender gets at most this many answers a round trip, so 400 carries 8,000 messages a second to
   * a service 50 ms away. HTTP/2 streams go over as many sessions as this takes at 100 streams each.
   */
  maxInFlightPerOrigin?: number;
  /** Extra certificate authorities to trust (a loopback TLS service in tests and benchmarks). */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Bytes of a response body kept for the failure reason. Default 4096. */
  maxBodyBytes?: number;
  /** Offer only HTTP/1.1 in ALPN (to compare, or for a service whose h2 is broken). Default false. */
  http1Only?: boolean;
}

export type NegotiatedProtocol = 'h2' | 'http/1.1';

export const DEFAULT_MAX_IN_FLIGHT_PER_ORIGIN = 400;

/**
 * A request already taken apart: what a delivery worker sends for each
 * message. Its origin and path come as strings (no URL to parse per
 * message) and its headers with lower-case names, as HTTP/2 sends them;
 * the headers object may be shared by many requests (it is not modified).
 */
export interface SplitRequest {
  /** An http: or https: origin, e.g. `https://push.example.com`. */
  origin: string;
  /** Path and query, e.g. `/push/abc`. */
  path: string;
  /** Lower-case names; no pseudo-headers, no content-length. */
  headers: Readonly<Record<string, string>>;
  body: Uint8Array;
}

export interface PooledHttpTransport extends HttpTransport {
  /** The protocol used so far with an origin, or undefined before its first request. */
  protocolOf(origin: string): NegotiatedProtocol | undefined;
}

const { NGHTTP2_REFUSED_STREAM, NGHTTP2_CANCEL } = http2.constants;

interface OriginPool {
  protocol: Promise<NegotiatedProtocol>;
  settled?: NegotiatedProtocol;
  slots: Semaphore;
}

/** Where a pooled transport keeps the options it was made with, for delivery workers to rebuild it. */
const OPTIONS = Symbol('herald.pooledTransportOptions');

/**
 * The options a `pooledHttpTransport` was made with, or null for any other
 * transport: the webPush provider gives them to its delivery workers, which
 * each build the same transport on their own thread.
 */
export function pooledTransportOptionsOf(transport: HttpTransport): PooledTransportOptions | null {
  const options = (transport as { [OPTIONS]?: PooledTransportOptions })[OPTIONS];
  return options ?? null;
}

/**
 * A pooled transport, and beside it `sendSplit`: the same pools and
 * sessions, for requests already taken apart (SplitRequest).
 */
export function pooledTransport(options: PooledTransportOptions = {}): {
  transport: PooledHttpTransport;
  sendSplit(request: SplitRequest, timeoutMs: number): Promise<TransportResponse>;
} {
  const maxInFlight = options.maxInFlightPerOrigin ?? DEFAULT_MAX_IN_FLIGHT_PER_ORIGIN;
  const maxBodyBytes = options.maxBodyBytes ?? 4096;
  const alpn: string[] = options.http1Only ? ['http/1.1'] : ['h2', 'http/1.1'];
  const tls = { ...(options.ca !== undefined ? { ca: options.ca } : {}) };
  const h2 = h2Sessions(tls, maxInFlight);
  const h1Agents = {
    'https:': new https.Agent({ keepAlive: true, maxSockets: maxInFlight, ...tls }),
    'http:': new http.Agent({ keepAlive: true, maxSockets: maxInFlight }),
  };
  const pools = new Map<string, OriginPool>();
  let closed = false;

  /** The origin's pool; `origin` is an http: or https: origin. */
  const poolOf = (origin: string): OriginPool => {
    let pool = pools.get(origin);
    if (!pool) {
      const url = new URL(origin);
      const created: OriginPool = {
        protocol: url.protocol === 'https:' ? negotiate(url) : Promise.resolve('http/1.1'),
        slots: new Semaphore(maxInFlight),
      };
      created.protocol.then(
        (protocol) => {
          created.settled = protocol;
        },
        // A failed negotiation (service down) is asked again on the next request.
        () => {
          if (pools.get(origin) === created) pools.delete(origin);
        },
      );
      pools.set(origin, created);
      pool = created;
    }
    return pool;
  };

  async function negotiate(url: URL): Promise<NegotiatedProtocol> {
    const host = hostOf(url);
    const { alpnProtocol } = await http2wrapper.auto.resolveProtocol({
      host,
      port: Number(url.port || 443),
      ALPNProtocols: [...alpn],
      servername: isIP(host) === 0 ? host : '',
      ...tls,
    } as Parameters<typeof http2wrapper.auto.resolveProtocol>[0]);
    return alpnProtocol === 'h2' ? 'h2' : 'http/1.1';
  }

  async function sendH2(
    request: SplitRequest,
    timeoutMs: number,
    again: boolean,
  ): Promise<TransportResponse> {
    const stream = h2.request(request.origin, {
      ...request.headers,
      ':method': 'POST',
      ':path': request.path,
      'content-length': String(request.body.byteLength),
    });
    try {
      return await readStream(stream, request.body, maxBodyBytes, timeoutMs);
    } catch (error) {
      if (!again && refusedUnprocessed(stream, error)) return sendH2(request, timeoutMs, true);
      throw withLostConnection(error, h2.lostSessionOf(stream));
    }
  }

  async function sendSplit(request: SplitRequest, timeoutMs: number): Promise<TransportResponse> {
    if (closed) throw new Error('transport closed');
    const pool = poolOf(request.origin);
    const negotiated = pool.settled ?? (await pool.protocol);
    await pool.slots.acquire();
    try {
      if (negotiated === 'h2') return await sendH2(request, timeoutMs, false);
      const url = new URL(request.path, request.origin);
      const agent = h1Agents[url.protocol as 'https:' | 'http:'];
      return await sendOverHttp1(
        { url, method: 'POST', headers: request.headers, body: request.body },
        agent,
        { timeoutMs, maxBodyBytes },
      );
    } finally {
      pool.slots.release();
    }
  }

  const transport: PooledHttpTransport = {
    async send(request, { timeoutMs }) {
      if (closed) throw new Error('transport closed');
      const protocol = request.url.protocol;
      if (protocol !== 'https:' && protocol !== 'http:') throw new Error(`unsupported protocol ${protocol}`);
      return sendSplit(
        {
          origin: request.url.origin,
          path: `${request.url.pathname}${request.url.search}`,
          headers: lowerCase(request.headers),
          body: request.body,
        },
        timeoutMs,
      );
    },
    protocolOf: (origin) => pools.get(origin)?.settled,
    async close() {
      closed = true;
      h2.close();
      h1Agents['https:'].destroy();
      h1Agents['http:'].destroy();
      pools.clear();
    },
  };
  Object.defineProperty(transport, OPTIONS, { value: { ...options } });
  return { transport, sendSplit };
}

/** Writes the body, then resolves with the status, headers and the start of the body. */
function readStream(
  stream: ClientHttp2Stream,
  body: Uint8Array,
  maxBodyBytes: number,
  timeoutMs: number,
): Promise<TransportResponse> {
  return new Promise((resolve, reject) => {
    // An I/O deadline, not domain time: it bounds a real stream. (The stream's
    // own timer, not an AbortSignal: binding a signal costs Node's http2 an
    // AsyncResource per request, visible in the benchmark's profile.)
    let timedOut = false;
    stream.setTimeout(timeoutMs, () => {
      timedOut = true;
      stream.close(NGHTTP2_CANCEL);
    });
    let status = 0;
    let headers: TransportResponse['headers'] = {};
    stream.once('response', (responseHeaders) => {
      status = Number(responseHeaders[':status'] ?? 0);
      headers = responseHeaders as TransportResponse['headers'];
    });
    collectBody(stream, maxBodyBytes).then((text) => {
      if (timedOut) reject(timeoutError(timeoutMs));
      // A stream closed with an error code and no answer is a reset, not a response.
      else if (status === 0) reject(resetError(stream));
      else resolve({ statusCode: status, headers, body: text });
    }, reject);
    stream.end(body);
  });
}

/** RFC 9113 §8.7: these streams were never processed, so sending again cannot duplicate a message. */
function refusedUnprocessed(stream: ClientHttp2Stream, error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return stream.rstCode === NGHTTP2_REFUSED_STREAM || code === 'ERR_HTTP2_GOAWAY_SESSION';
}

function resetError(stream: ClientHttp2Stream): Error {
  const error = new Error(
    `stream reset by the push service (HTTP/2 error code ${stream.rstCode ?? 'unknown'})`,
  );
  (error as NodeJS.ErrnoException).code = 'ERR_HTTP2_STREAM_RESET';
  return error;
}

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

/** The headers with lower-case names, as HTTP/2 sends them. */
export function lowerCase(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value;
  return out;
}

/** A counting semaphore whose waiters are served first come, first served. */
class Semaphore {
  private available: number;
  private readonly waiters: Array<() => void> = [];

  constructor(size: number) {
    this.available = size;
  }

  acquire(): Promise<void> | undefined {
    if (this.available > 0) {
      this.available -= 1;
      return undefined;
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.available += 1;
  }
}
