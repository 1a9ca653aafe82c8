/**
 * The dashboard's only way to the server: the admin API mounted under the dashboard, with the
 * CSRF token from the page's <meta> on every change. Errors come back as ApiError carrying the
 * API's stable `code` and its field `issues`, which the forms place next to their fields.
 */
const meta = (name: string) => document.querySelector(`meta[name="${name}"]`)?.getAttribute('content') ?? '';

export const API_BASE = meta('herald-api');
export const PRINCIPAL = meta('herald-principal');
const CSRF_TOKEN = meta('herald-csrf');
const CSRF_HEADER = meta('herald-csrf-header') || 'x-herald-csrf';

export interface FieldIssue {
  path: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: FieldIssue[] = [],
  ) {
    super(message);
  }
}

export interface ApiAnswer<T> {
  data: T;
  etag: string | null;
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | undefined>;
  ifMatch?: string | null;
  idempotencyKey?: string;
}

export async function call<T>(
  method: string,
  path: string,
  options: RequestOptions = {},
): Promise<ApiAnswer<T>> {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(options.query ?? {})) if (value) query.set(name, value);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') headers[CSRF_HEADER] = CSRF_TOKEN;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.ifMatch) headers['if-match'] = options.ifMatch;
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  const search = query.toString();
  const response = await fetch(`${API_BASE}${path}${search ? `?${search}` : ''}`, {
    method,
    headers,
    credentials: 'same-origin',
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await response.text();
  const parsed: unknown = text ? safeJson(text) : undefined;
  if (!response.ok) {
    const error = (parsed as { error?: { code?: string; message?: string; issues?: FieldIssue[] } })?.error;
    throw new ApiError(
      response.status,
      error?.code ?? 'http_error',
      error?.message ?? `the server answered ${response.status}`,
      error?.issues ?? [],
    );
  }
  return { data: parsed as T, etag: response.headers.get('etag') };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { error: { code: 'malformed_answer', message: text.slice(0, 200) } };
  }
}

export const get = async <T>(path: string, query?: Record<string, string | undefined>) =>
  (await call<T>('GET', path, query ? { query } : {})).data;

export const newIdempotencyKey = () => crypto.randomUUID();
