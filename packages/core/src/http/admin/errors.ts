import { z } from 'zod';
import { HeraldError } from '../../errors/index.js';
import type { Logger } from '../../ports/index.js';
import { errorResponse } from '../errors.js';
import type { HttpResponse } from '../handlers.js';

/**
 * The codes only the admin API's HTTP layer raises, with their status. The
 * engine's own codes (validation_failed 400, not_found 404, conflict 409, …)
 * keep their status from `errorResponse` in http/errors.ts, the library's one
 * mapping; this is not a second copy of it.
 */
export const ADMIN_HTTP_ERRORS = {
  malformed_json: 400,
  unauthenticated: 401,
  forbidden: 403,
  route_not_found: 404,
  method_not_allowed: 405,
  idempotency_key_in_use: 409,
  version_mismatch: 412,
  body_too_large: 413,
  unsupported_media_type: 415,
  idempotency_key_reused: 422,
} as const;
export type AdminHttpErrorCode = keyof typeof ADMIN_HTTP_ERRORS;

/** A refusal of the HTTP layer (auth, headers, preconditions), answered with its own status. */
export class AdminHttpError extends HeraldError {
  readonly status: number;
  constructor(
    readonly code: AdminHttpErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'AdminHttpError';
    this.status = ADMIN_HTTP_ERRORS[code];
  }
}

/** The one error shape of every admin answer. */
export const ErrorBody = z.object({
  error: z.object({
    code: z.string().meta({ description: 'Stable, machine-readable: branch on this, not on message.' }),
    message: z.string(),
    issues: z
      .array(
        z.object({
          path: z.string().meta({ description: 'Where in the input, e.g. `what.actions[0].url`.' }),
          message: z.string(),
        }),
      )
      .optional()
      .meta({ description: 'One entry per bad field (validation_failed only).' }),
  }),
});

export function adminErrorResponse(error: unknown, logger: Logger): HttpResponse {
  if (error instanceof AdminHttpError) {
    return {
      status: error.status,
      headers: error.headers,
      body: { error: { code: error.code, message: error.message } },
    };
  }
  return errorResponse(error, logger);
}
