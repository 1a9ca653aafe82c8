import {
  type ConfigError,
  type ConflictError,
  type CorruptRecordError,
  type EndpointNotAllowedError,
  type FieldIssue,
  HeraldError,
  type NotFoundError,
  type PayloadTooLargeError,
  type TransientStorageError,
  ValidationError,
} from '../errors/index.js';
import type { Logger } from '../ports/logger.js';

/** What an error is answered with: the body every Herald endpoint uses for a failure. */
export interface ErrorResponse {
  status: number;
  body: { error: { code: string; message: string; issues?: FieldIssue[] } };
}

/**
 * Every code a HeraldError carries. The record below must name each one; the http errors test
 * fails when errors/index.ts exports a class missing from this union.
 */
type HeraldErrorCode = (
  | ValidationError
  | NotFoundError
  | ConflictError
  | EndpointNotAllowedError
  | PayloadTooLargeError
  | ConfigError
  | CorruptRecordError
  | TransientStorageError
)['code'];

const STATUS_BY_CODE: Readonly<Record<HeraldErrorCode, number>> = {
  validation_failed: 400,
  not_found: 404,
  conflict: 409,
  // The request named a host outside the push services: bad input, like any other invalid field.
  endpoint_not_allowed: 400,
  payload_too_large: 413,
  // The server's own faults: the caller can do nothing about them, so their message stays in the log.
  config_invalid: 500,
  corrupt_record: 500,
  storage_unavailable: 503,
};

/**
 * The HTTP status of an error thrown by Herald: 4xx for what the caller sent,
 * 5xx for the server's own faults, 500 for anything that is not a HeraldError.
 */
export function httpStatusOf(error: unknown): number {
  if (!(error instanceof HeraldError)) return 500;
  return (STATUS_BY_CODE as Readonly<Record<string, number>>)[error.code] ?? 500;
}

/**
 * The response to an error, as Herald's handlers answer it and a host's own
 * routes can: a 4xx says what was wrong (with every bad field of a
 * ValidationError); a 5xx carries a generic message, since its own may name
 * tables, keys or internals, and is logged with the real one.
 */
export function errorResponse(error: unknown, logger: Logger): ErrorResponse {
  const status = httpStatusOf(error);
  if (error instanceof HeraldError && status < 500) {
    const issues = error instanceof ValidationError ? { issues: error.issues } : {};
    return { status, body: { error: { code: error.code, message: error.message, ...issues } } };
  }
  const code = error instanceof HeraldError ? error.code : 'internal';
  logger.error('herald request failed', {
    status,
    code,
    name: error instanceof Error ? error.name : typeof error,
    message: error instanceof Error ? error.message : String(error),
  });
  const message = status === 503 ? 'temporarily unavailable, retry later' : 'internal error';
  return { status, body: { error: { code, message } } };
}
