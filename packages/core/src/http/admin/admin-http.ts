import { z } from 'zod';
import type { Herald } from '../../engine/api.js';
import { internals } from '../../engine/internals.js';
import { silentLogger } from '../../engine/logger.js';
import { ConfigError, ConflictError, parseConfig, ValidationError } from '../../errors/index.js';
import { callback, loggerOption } from '../../option-kinds.js';
import type { Logger } from '../../ports/index.js';
import type { HttpRequest, HttpResponse } from '../handlers.js';
import { type AdminOperation, type Authorize, checkedDecision } from './auth.js';
import { AdminHttpError, adminErrorResponse } from './errors.js';
import { createIdempotency, type IdempotencyOptions } from './idempotency.js';
import { buildOpenApi } from './openapi.js';
import { type AdminRoute, adminRoutes, etagOf } from './route-table.js';
import { OpenApiDocument } from './schemas.js';

/** One admin change, as recorded: who, when, what, on which ids. Never a body. */
export interface AuditEntry {
  at: Date;
  principal: string;
  operation: string;
  method: string;
  /** The route template (`/campaigns/{id}/pause`) and the path called. */
  route: string;
  path: string;
  status: number;
  ids: Record<string, string>;
}

export interface AdminHttpOptions<Raw = unknown> {
  /**
   * Required: decides every request (the OpenAPI document aside, unless
   * `openapi: 'protected'`). Gets Herald's parsed request and the host
   * framework's own (`raw`: Express's `req` with `req.user`). `bearerToken(token)` is a ready one.
   */
  authorize: Authorize<Raw>;
  /** Where the handler is mounted (e.g. `/admin/api`): used in `Location` and the document's `servers`. */
  mountPath?: string;
  /** Largest body accepted, in bytes (default 64 KiB); also pass it to `toNodeListener`. */
  maxBodyBytes?: number;
  /** Cross-origin callers allowed (exact origins). No CORS headers at all unless set. */
  cors?: { origins: readonly string[]; maxAgeSeconds?: number };
  /** `public` (default): GET /openapi.json needs no authorisation; `protected`: it goes through `authorize`. */
  openapi?: 'public' | 'protected';
  idempotency?: IdempotencyOptions;
  /** Where changes are recorded besides the log (a host's own audit table). Errors it throws are logged, not answered. */
  audit?: (entry: AuditEntry) => void | Promise<void>;
  /** Defaults to the engine's logger. */
  logger?: Logger;
}

interface CompiledRoute {
  route: AdminRoute;
  pattern: RegExp;
  names: string[];
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;
const ALLOWED_HEADERS = 'authorization, content-type, if-match, idempotency-key';

function compile(route: AdminRoute): CompiledRoute {
  const names: string[] = [];
  const source = route.path
    .split('/')
    .map((segment) => {
      const name = /^\{(\w+)\}$/.exec(segment)?.[1];
      if (!name) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(name);
      return '([^/]+)';
    })
    .join('/');
  return { route, pattern: new RegExp(`^${source}$`), names };
}

function header(request: HttpRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function parseWith<S extends z.ZodType>(schema: S | undefined, value: unknown, what: string): unknown {
  if (!schema) return undefined;
  const result = schema.safeParse(value);
  if (!result.success) throw ValidationError.fromZod(what, result.error);
  return result.data;
}

/** The version an If-Match header names when it names exactly one (`"3"` or `W/"3"`); undefined otherwise. */
function singleVersion(ifMatch: string): number | undefined {
  const match = /^\s*(?:W\/)?"(\d{1,9})"\s*$/.exec(ifMatch);
  return match ? Number(match[1]) : undefined;
}

/** True when the If-Match header names this version (or `*`). */
function ifMatchAllows(ifMatch: string, version: number): boolean {
  return ifMatch
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === '*' || tag === `"${version}"`);
}

/** Strict, as every options object: a misspelt `openapi` or `cors` would be dropped without a word. */
const AdminSettings = z.strictObject({
  authorize: callback,
  mountPath: z.string().optional(),
  maxBodyBytes: z.number().int().min(1).optional(),
  cors: z
    .strictObject({ origins: z.array(z.string()), maxAgeSeconds: z.number().int().min(0).optional() })
    .optional(),
  openapi: z.enum(['public', 'protected']).optional(),
  idempotency: z
    .strictObject({
      ttlMs: z.number().int().min(1).optional(),
      maxEntries: z.number().int().min(1).optional(),
    })
    .optional(),
  audit: callback.optional(),
  logger: loggerOption.optional(),
});

/**
 * The admin API, framework-neutral like `heraldHttp`: campaigns, segments,
 * profiles and events over JSON, described by an OpenAPI 3.1 document at
 * GET /openapi.json. Mount it with `toNodeListener`:
 * `app.use('/admin/api', toNodeListener(heraldAdminHttp(herald, { authorize: bearerToken(token) })))`.
 */
export function heraldAdminHttp<Raw = unknown>(herald: Herald, options: AdminHttpOptions<Raw>) {
  if (typeof options?.authorize !== 'function') {
    throw new ConfigError(
      'heraldAdminHttp needs an authorize function (e.g. bearerToken(process.env.ADMIN_TOKEN)): the admin API is never open',
    );
  }
  parseConfig(AdminSettings, options, 'heraldAdminHttp options');
  const engine = internals(herald);
  const logger = options.logger ?? engine.logger;
  const clock = engine.clock;
  const mountPath = (options.mountPath ?? '').replace(/\/+$/, '');
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024;
  const specIsPublic = (options.openapi ?? 'public') === 'public';
  const idempotency = createIdempotency({ counters: engine.counters, clock }, options.idempotency);
  let spec: Record<string, unknown> | null = null;

  const openApiRoute: AdminRoute = {
    operationId: 'getOpenApi',
    method: 'GET',
    path: '/openapi.json',
    tag: 'meta',
    summary: 'This API’s OpenAPI 3.1 document',
    description: specIsPublic
      ? 'Public: the routes are the same for every Herald install and reveal no data.'
      : 'Behind authorisation (`openapi: "protected"`).',
    response: { status: 200, schema: OpenApiDocument, description: 'The OpenAPI document.' },
    changes: false,
    public: specIsPublic,
    errors: [],
    async handle() {
      spec ??= buildOpenApi(routes, { mountPath, specIsPublic });
      return { body: spec };
    },
  };
  const routes: AdminRoute[] = [...adminRoutes, openApiRoute];
  // Literal segments before parameters, so POST /segments/reach is not read as /segments/{id}.
  const compiled = routes
    .map(compile)
    .sort((a, b) => a.names.length - b.names.length || b.route.path.length - a.route.path.length);

  function corsHeaders(request: HttpRequest): Record<string, string> {
    const origin = header(request, 'origin');
    if (!options.cors || !origin || !options.cors.origins.includes(origin)) return {};
    return {
      'access-control-allow-origin': origin,
      'access-control-expose-headers': 'etag, location, idempotency-replayed',
      vary: 'origin',
    };
  }

  async function record(entry: AuditEntry): Promise<void> {
    logger.info('herald admin change', {
      principal: entry.principal,
      operation: entry.operation,
      method: entry.method,
      route: entry.route,
      path: entry.path,
      status: entry.status,
      at: entry.at.toISOString(),
      ...entry.ids,
    });
    try {
      await options.audit?.(entry);
    } catch (error) {
      logger.error('herald admin audit hook failed', {
        operation: entry.operation,
        message: (error as Error).message,
      });
    }
  }

  async function dispatch(request: HttpRequest<Raw>): Promise<HttpResponse> {
    const method = request.method.toUpperCase();
    const path = request.path.replace(/\/+$/, '') || '/';
    const matching = compiled
      .map((entry) => ({ entry, match: entry.pattern.exec(path) }))
      .filter((candidate) => candidate.match !== null);

    if (method === 'OPTIONS' && options.cors && matching.length > 0) {
      const cors = corsHeaders(request);
      if (!cors['access-control-allow-origin'])
        return { status: 403, body: { error: { code: 'forbidden', message: 'origin not allowed' } } };
      return {
        status: 204,
        headers: {
          ...cors,
          'access-control-allow-methods': [...new Set(matching.map((c) => c.entry.route.method))].join(', '),
          'access-control-allow-headers': ALLOWED_HEADERS,
          'access-control-max-age': String(options.cors.maxAgeSeconds ?? 600),
        },
      };
    }
    const found = matching.find((candidate) => candidate.entry.route.method === method);
    if (!found) {
      if (matching.length > 0) {
        throw new AdminHttpError('method_not_allowed', `${method} is not allowed on ${path}`, {
          allow: [...new Set(matching.map((c) => c.entry.route.method))].join(', '),
        });
      }
      throw new AdminHttpError('route_not_found', `no route ${method} ${path}`);
    }
    const { route, names } = found.entry;
    const values = (found.match as RegExpExecArray).slice(1);

    const operation: AdminOperation = {
      id: route.operationId,
      method,
      path: route.path,
      changes: route.changes,
    };
    let principal = 'anonymous';
    if (!route.public) {
      const decision = checkedDecision(await options.authorize({ request, raw: request.raw, operation }));
      if (!decision.allow) {
        if (decision.reason === 'forbidden') {
          throw new AdminHttpError('forbidden', decision.message ?? `not allowed to ${route.operationId}`);
        }
        throw new AdminHttpError('unauthenticated', decision.message ?? 'authentication required', {
          'www-authenticate': 'Bearer',
        });
      }
      principal = decision.principal;
    }

    if (route.body) {
      const declared = Number(header(request, 'content-length'));
      if (Number.isFinite(declared) && declared > maxBodyBytes) {
        throw new AdminHttpError('body_too_large', `body over ${maxBodyBytes} bytes`);
      }
      const type = header(request, 'content-type') ?? '';
      if (!JSON_TYPE.test(type)) {
        throw new AdminHttpError(
          'unsupported_media_type',
          `send the body as application/json (got ${type || 'no content type'})`,
        );
      }
    }
    const rawParams = Object.fromEntries(names.map((name, i) => [name, safeDecode(values[i] ?? '')]));
    const params = parseWith(route.params, rawParams, 'path parameters');
    const query = parseWith(route.query, request.query ?? {}, 'query');
    const body = parseWith(route.body, request.body, 'body');

    // If-Match naming one version goes to the service as `expectedVersion`, checked atomically by the
    // storage's write; `*` asks only that the campaign exists; a list of tags is checked here first.
    const ifMatch = route.campaignVersion === 'if-match' ? header(request, 'if-match') : undefined;
    const expectedVersion = ifMatch === undefined ? undefined : singleVersion(ifMatch);
    if (ifMatch !== undefined && expectedVersion === undefined) {
      const current = await herald.campaigns.get((params as { id: string }).id);
      if (!ifMatchAllows(ifMatch, current.version)) {
        throw new AdminHttpError(
          'version_mismatch',
          `campaign ${current.id} is at version ${current.version}, not ${ifMatch}; reload it and decide again`,
          { etag: etagOf(current) },
        );
      }
    }

    const run = async (): Promise<HttpResponse> => {
      const result = await route
        .handle({
          herald,
          params: params as Record<string, unknown>,
          query: query as Record<string, unknown>,
          body,
          rawBody: request.body,
          request: request as HttpRequest,
          mountPath,
          principal,
          expectedVersion,
        })
        .catch((error: unknown) => {
          // The version the client named is not the stored one: a failed precondition, not a plain conflict.
          const current = error instanceof ConflictError ? error.detail.currentVersion : undefined;
          if (expectedVersion !== undefined && current !== undefined) {
            throw new AdminHttpError('version_mismatch', (error as Error).message, {
              etag: etagOf({ version: current }),
            });
          }
          throw error;
        });
      const status = result.status ?? route.response.status;
      const headers: Record<string, string> = { ...(result.headers ?? {}) };
      if (
        route.campaignVersion &&
        result.body &&
        typeof result.body === 'object' &&
        'version' in result.body
      ) {
        headers.etag = etagOf(result.body as { version: number });
      }
      if (route.changes) {
        await record({
          at: clock.now(),
          principal,
          operation: route.operationId,
          method,
          route: route.path,
          path,
          status,
          ids: { ...rawParams, ...(result.audit ?? {}) },
        });
      }
      return { status, headers, ...(result.body !== undefined ? { body: result.body } : {}) };
    };

    const key = route.idempotent ? header(request, 'idempotency-key') : undefined;
    if (key === undefined) return run();
    const started = await idempotency.start({ principal, key, body: request.body });
    if (started.kind === 'replay') return started.response;
    let response: HttpResponse;
    try {
      response = await run();
    } catch (error) {
      // Kept for a replay of the key; logged once, by handle, which gets the error next.
      await started.finish(adminErrorResponse(error, silentLogger));
      throw error;
    }
    await started.finish(response);
    return response;
  }

  return async function handle(request: HttpRequest<Raw>): Promise<HttpResponse> {
    let response: HttpResponse;
    try {
      response = await dispatch(request);
    } catch (error) {
      // A 5xx is logged once, by errorResponse, with the request it failed.
      const requestLogger: Logger = {
        ...logger,
        error: (message, fields) =>
          logger.error(message, { method: request.method, path: request.path, ...fields }),
      };
      response = adminErrorResponse(error, requestLogger);
    }
    const cors = corsHeaders(request);
    return Object.keys(cors).length > 0
      ? { ...response, headers: { ...(response.headers ?? {}), ...cors } }
      : response;
  };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export type HeraldAdminHandler = ReturnType<typeof heraldAdminHttp>;

/** The admin API's route table, for tools that list or document it. */
export { adminRoutes };
