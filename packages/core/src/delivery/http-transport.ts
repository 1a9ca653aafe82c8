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
      const client = protocol === 'https:' ? https : http;
      return new Promise<TransportResponse>((resolve, reject) => {
        const fail = (error: Error) =>
          reject(
            error.name === 'AbortError' || error.name === 'TimeoutError' ? timeoutError(timeoutMs) : error,
          );
        const req = client.request(
          request.url,
          {
            method: request.method,
            agent: agents[protocol],
            headers: { ...request.headers, 'Content-Length': String(request.body.byteLength) },
            // An I/O deadline, not domain time: it bounds a real socket.
            signal: AbortSignal.timeout(timeoutMs),
          },
          (res) => {
            const chunks: Buffer[] = [];
            let kept = 0;
            res.on('data', (chunk: Buffer) => {
              if (kept >= maxBodyBytes) return;
              chunks.push(chunk);
              kept += chunk.length;
            });
            res.on('end', () =>
              resolve({
                statusCode: res.statusCode ?? 0,
                headers: res.headers,
                body: Buffer.concat(chunks).subarray(0, maxBodyBytes).toString('utf8'),
              }),
            );
            res.on('error', fail);
          },
        );
        req.on('error', fail);
        req.end(request.body);
      });
    },
    async close() {
      agents['https:'].destroy();
      agents['http:'].destroy();
    },
  };
}

function timeoutError(timeoutMs: number): Error {
  const error = new Error(`no answer within ${timeoutMs} ms`);
  error.name = 'TimeoutError';
  return error;
}
