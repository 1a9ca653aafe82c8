import http from 'node:http';
import https from 'node:https';

/**
 * The one I/O step of delivery: POST bytes, get a status back. Kept behind
 * this small interface so that pooled HTTP/2 sessions (http2-wrapper) can
 * replace HTTP/1.1 keep-alive without touching request building or outcome
 * mapping.
 */
export interface TransportRequest {
  url: URL;
  method: 'POST';
  headers: Record<string, string>;
  body: Uint8Array;
}

export interface TransportResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  /** The start of the response body as text (at most `maxBodyBytes`); the rest is discarded. */
  body: string;
}

export interface TransportOptions {
  /** Gives up on a request after this long without a complete answer. */
  timeoutMs: number;
}

export interface HttpTransport {
  /** Resolves with any HTTP answer; rejects on network errors and timeouts. */
  send(request: TransportRequest, options: TransportOptions): Promise<TransportResponse>;
  close(): Promise<void>;
}

export interface NodeHttpTransportOptions {
  /** Connections kept per push-service origin. */
  maxSockets?: number;
  /** Bytes of a response body kept for the failure reason; push services' reasons are short. */
  maxBodyBytes?: number;
}

/** HTTP/1.1 with keep-alive agents, on Node's own http/https modules. */
export function nodeHttpTransport(options: NodeHttpTransportOptions = {}): HttpTransport {
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 50 };
  const agents = { 'https:': new https.Agent(agentOptions), 'http:': new http.Agent(agentOptions) };
  const maxBodyBytes = options.maxBodyBytes ?? 4096;

  return {
    send(request, { timeoutMs }) {
      const protocol = request.url.protocol;
      if (protocol !== 'https:' && protocol !== 'http:') {
        return Promise.reject(new Error(`unsupported protocol ${protocol}`));
      }
      return sendOverHttp1(request, agents[protocol], { timeoutMs, maxBodyBytes });
    },
    async close() {
      agents['https:'].destroy();
      agents['http:'].destroy();
    },
  };
}

/**
 * One request over HTTP/1.1 through `agent` (http or https, as the URL
 * says): resolves with the status, headers and the start of the body;
 * rejects on network errors, and with a TimeoutError when no complete
 * answer came within `timeoutMs`.
 */
export function sendOverHttp1(
  request: TransportRequest,
  agent: http.Agent,
  { timeoutMs, maxBodyBytes }: { timeoutMs: number; maxBodyBytes: number },
): Promise<TransportResponse> {
  const client = request.url.protocol === 'https:' ? https : http;
  return new Promise<TransportResponse>((resolve, reject) => {
    const fail = (error: Error) =>
      reject(error.name === 'AbortError' || error.name === 'TimeoutError' ? timeoutError(timeoutMs) : error);
    const req = client.request(
      request.url,
      {
        method: request.method,
        agent,
        headers: { ...request.headers, 'Content-Length': String(request.body.byteLength) },
        // An I/O deadline, not domain time: it bounds a real socket.
        signal: AbortSignal.timeout(timeoutMs),
      },
      (res) => {
        collectBody(res, maxBodyBytes).then(
          (body) => resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body }),
          fail,
        );
      },
    );
    req.on('error', fail);
    req.end(request.body);
  });
}

/** The start of a response body as text: at most `maxBodyBytes`, the rest read and dropped. */
export function collectBody(source: NodeJS.ReadableStream, maxBodyBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    source.on('data', (chunk: Buffer) => {
      if (kept >= maxBodyBytes) return;
      chunks.push(chunk);
      kept += chunk.length;
    });
    source.on('end', () => resolve(Buffer.concat(chunks).subarray(0, maxBodyBytes).toString('utf8')));
    source.on('error', reject);
  });
}

/** What a request that got no complete answer in time rejects with (the provider retries it). */
export function timeoutError(timeoutMs: number): Error {
  const error = new Error(`no answer within ${timeoutMs} ms`);
  error.name = 'TimeoutError';
  return error;
}
