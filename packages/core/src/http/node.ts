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
    let url: URL;
    try {
      url = new URL(request.url ?? '/', 'http://local');
    } catch {
      // An absolute-form request target that is not a URL (`GET http://[ HTTP/1.1`).
      send(response, {
        status: 400,
        body: { error: { code: 'bad_request', message: 'malformed request target' } },
      });
      return;
    }
    const path =
      base && url.pathname.startsWith(base) ? url.pathname.slice(base.length) || '/' : url.pathname;
    let body: unknown = request.body;
    if (body === undefined && request.method !== 'GET' && request.method !== 'HEAD') {
      let read: BodyRead;
      try {
        read = await readJson(request, maxBodyBytes);
      } catch {
        // The client went away mid-body (or the socket failed): nobody is left to answer. Left
        // to reject, this would be an unhandled rejection, which ends a plain Node server.
        request.destroy();
        return;
      }
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
      ...(request.socket?.remoteAddress ? { clientAddress: request.socket.remoteAddress } : {}),
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
 * The content types a JSON body may be declared as: JSON itself (and `+json` types), none, and
 * text/plain, which is what `navigator.sendBeacon` and a `keepalive` fetch with a string body
 * send. Anything else (a form, XML, an image) is refused with 415 before the body is read: those
 * are what an HTML form on another site can post, and never what Herald's SDK sends.
 */
const ACCEPTED_TYPE = /^(?:application\/(?:[\w.+-]+\+)?json|text\/plain)\s*(?:;|$)/i;

/** Refuses bytes that are not UTF-8 instead of turning them into U+FFFD and storing that. */
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads the body as JSON: at most `maxBodyBytes` (413 past it, said before reading when the
 * declared length is over), declared as JSON, text/plain or nothing (415 otherwise), valid UTF-8
 * and valid JSON (400 otherwise). An empty body is `undefined`, which the route then refuses.
 */
async function readJson(request: IncomingMessage, maxBodyBytes: number): Promise<BodyRead> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBodyBytes) return tooLarge(maxBodyBytes);
  const type = String(request.headers['content-type'] ?? '').trim();
  if (type !== '' && !ACCEPTED_TYPE.test(type)) {
    return {
      ok: false,
      status: 415,
      code: 'unsupported_media_type',
      message: `send the body as application/json (got ${type.slice(0, 100)})`,
    };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) return tooLarge(maxBodyBytes);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return { ok: true, value: undefined };
  let text: string;
  try {
    text = utf8.decode(Buffer.concat(chunks));
  } catch {
    return { ok: false, status: 400, code: 'malformed_json', message: 'body is not valid UTF-8' };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, status: 400, code: 'malformed_json', message: 'body is not valid JSON' };
  }
}

function tooLarge(maxBodyBytes: number): BodyRead {
  return {
    ok: false,
    status: 413,
    code: 'body_too_large',
    message: `body over the limit of ${maxBodyBytes} bytes`,
  };
}
