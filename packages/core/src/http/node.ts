import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HeraldHttpHandler } from './handlers.js';

const MAX_BODY_BYTES = 64 * 1024;

/**
 * Adapts Herald's handlers to Node's http server (and to Express, which
 * passes the same objects): `app.use('/herald', toNodeListener(handler))`.
 * Reads a JSON body (or uses one a body parser already read).
 */
export function toNodeListener(handler: HeraldHttpHandler, options: { basePath?: string } = {}) {
  const base = (options.basePath ?? '').replace(/\/+$/, '');
  return async (request: IncomingMessage & { body?: unknown }, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://local');
    const path =
      base && url.pathname.startsWith(base) ? url.pathname.slice(base.length) || '/' : url.pathname;
    let body: unknown = request.body;
    if (body === undefined && request.method !== 'GET' && request.method !== 'HEAD') {
      const read = await readJson(request);
      if (!read.ok) {
        send(response, 400, { error: { code: 'validation_failed', message: read.message } });
        return;
      }
      body = read.value;
    }
    const result = await handler({ method: request.method ?? 'GET', path, headers: request.headers, body });
    send(response, result.status, result.body);
  };
}

function send(response: ServerResponse, status: number, body: unknown): void {
  if (body === undefined) {
    response.writeHead(status).end();
    return;
  }
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function readJson(
  request: IncomingMessage,
): Promise<{ ok: true; value: unknown } | { ok: false; message: string }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return { ok: false, message: `body over ${MAX_BODY_BYTES} bytes` };
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
  } catch {
    return { ok: false, message: 'body is not valid JSON' };
  }
}
