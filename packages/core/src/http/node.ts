import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpRequest, HttpResponse } from './handlers.js';

const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

export interface NodeListenerOptions {
  /** Path prefix to strip when the server does not strip it (Express's `app.use` does). */
  basePath?: string;
  /** Largest JSON body read, in bytes (default 64 KiB); a larger one is answered 413. */
  maxBodyBytes?: number;
}

/**
 * Adapts Herald's handlers (`heraldHttp`, `heraldAdminHttp`) to Node's http
 * server and to Express, which passes the same objects:
 * `app.use('/herald', toNodeListener(handler))`. Reads a JSON body (or uses
 * one a body parser already read) and hands the framework's own request to
 * the handler as `raw`, so `req.user` (Passport, express-session) is reachable.
 */
export function toNodeListener<Raw extends IncomingMessage = IncomingMessage>(
  handler: (request: HttpRequest<Raw>) => Promise<HttpResponse>,
  options: NodeListenerOptions = {},
) {
  const base = (options.basePath ?? '').replace(/\/+$/, '');
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  return async (request: Raw & { body?: unknown }, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://local');
    const path =
      base && url.pathname.startsWith(base) ? url.pathname.slice(base.length) || '/' : url.pathname;
    let body: unknown = request.body;
    if (body === undefined && request.method !== 'GET' && request.method !== 'HEAD') {
      const read = await readJson(request, maxBodyBytes);
      if (!read.ok) {
        send(response, { status: read.status, body: { error: { code: read.code, message: read.message } } });
        return;
      }
      body = read.value;
    }
    const result = await handler({
      method: request.method ?? 'GET',
      path,
      headers: request.headers,
      body,
      query: queryOf(url.searchParams),
      raw: request,
    });
    send(response, result);
  };
}

function queryOf(params: URLSearchParams): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const name of new Set(params.keys())) {
    const values = params.getAll(name);
    query[name] = values.length === 1 ? (values[0] as string) : values;
  }
  return query;
}

function send(response: ServerResponse, result: HttpResponse): void {
  const headers = { ...(result.headers ?? {}) };
  if (result.body === undefined) {
    response.writeHead(result.status, headers).end();
    return;
  }
  response
    .writeHead(result.status, { 'content-type': 'application/json', ...headers })
    .end(JSON.stringify(result.body));
}

type BodyRead = { ok: true; value: unknown } | { ok: false; status: number; code: string; message: string };

/**
 * Parses the body as JSON whatever its declared type (a `sendBeacon` posts
 * text/plain); a body that is not JSON is answered 415 when it was not
 * declared as JSON, 400 when it was.
 */
async function readJson(request: IncomingMessage, maxBodyBytes: number): Promise<BodyRead> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBodyBytes) return tooLarge(maxBodyBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) return tooLarge(maxBodyBytes);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
  } catch {
    const type = String(request.headers['content-type'] ?? '');
    return /json/i.test(type) || type === ''
      ? { ok: false, status: 400, code: 'malformed_json', message: 'body is not valid JSON' }
      : {
          ok: false,
          status: 415,
          code: 'unsupported_media_type',
          message: `expected an application/json body, got ${type}`,
        };
  }
}

function tooLarge(maxBodyBytes: number): BodyRead {
  return { ok: false, status: 413, code: 'body_too_large', message: `body over ${maxBodyBytes} bytes` };
}
