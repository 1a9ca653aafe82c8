import type { z } from 'zod';
import { parseStorableInput } from './storable-input.js';
import { describeValue, type FieldIssue, fieldIssues, parseWithIssues } from './zod-issues.js';

export {
  closestKey,
  type FieldIssue,
  fieldIssues,
  formatPath,
  keyAliases,
  type ParseOutcome,
  parseWithIssues,
  unknownKeyMessage,
} from './zod-issues.js';

/** Base class of every error Herald throws on purpose; `code` lets callers branch without instanceof. */
export abstract class HeraldError extends Error {
  abstract readonly code: string;
}

/** Input did not match its schema; `issues` lists every bad field by path. */
export class ValidationError extends HeraldError {
  readonly code = 'validation_failed';
  constructor(
    readonly what: string,
    readonly issues: FieldIssue[],
  ) {
    super(`Invalid ${what}: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`);
    this.name = 'ValidationError';
  }

  /** An error zod raised elsewhere; prefer `parseInput`, whose messages and key suggestions are richer. */
  static fromZod(what: string, error: z.ZodError): ValidationError {
    return new ValidationError(what, fieldIssues(error));
  }
}

/**
 * Parses input against its schema, or throws a ValidationError naming every bad field (see
 * zod-issues.ts), including any string or key in it that storage cannot hold (model/text.ts).
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = parseStorableInput(schema, input);
  if (!result.success) throw new ValidationError(what, result.issues);
  return result.data;
}

export class NotFoundError extends HeraldError {
  readonly code = 'not_found';
  readonly id: string;
  constructor(
    readonly kind: string,
    id: string,
  ) {
    // A JavaScript caller may pass anything as an id (an object without a prototype cannot even become a string).
    const shown = typeof id === 'string' ? id : describeValue(id);
    super(`${kind} ${shown} not found`);
    this.id = shown;
    this.name = 'NotFoundError';
  }
}

/** A request that conflicts with the current state (an invalid lifecycle transition, a segment in use). */
export class ConflictError extends HeraldError {
  readonly code = 'conflict';
  constructor(
    message: string,
    /**
     * `currentVersion`: the stored version when an expected version did not
     * match (the admin API answers 412 with it as the ETag); `field`: the
     * field a change was refused for.
     */
    readonly detail: { currentVersion?: number; field?: string } = {},
  ) {
    super(message);
    this.name = 'ConflictError';
  }
}

/** A subscription endpoint outside the allowed push services (SSRF guard). */
export class EndpointNotAllowedError extends HeraldError {
  readonly code = 'endpoint_not_allowed';
  constructor(
    readonly endpoint: string,
    readonly reason: string,
  ) {
    super(`Subscription endpoint refused: ${reason}`);
    this.name = 'EndpointNotAllowedError';
  }
}

/** A rendered payload that cannot fit in one Web Push record. */
export class PayloadTooLargeError extends HeraldError {
  readonly code = 'payload_too_large';
  constructor(
    readonly campaignId: string,
    readonly size: number,
    readonly limit: number,
  ) {
    super(`Campaign ${campaignId}: payload is ${size} bytes, over the ${limit}-byte Web Push limit`);
    this.name = 'PayloadTooLargeError';
  }
}

/** Herald was assembled with a configuration that cannot work (bad VAPID keys, a missing provider). */
export class ConfigError extends HeraldError {
  readonly code = 'config_invalid';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * A factory's options, parsed at the call, or a ConfigError naming every bad key by path
 * (`createHerald options: limit: unknown key; did you mean "limits"?`). Options are strict: a
 * misspelt key dropped without a word would switch off what it was meant to set.
 */
export function parseConfig<S extends z.ZodType>(schema: S, options: unknown, what: string): z.output<S> {
  const result = parseWithIssues(schema, options);
  if (result.success) return result.data;
  throw new ConfigError(
    `${what}: ${result.issues.map((issue) => `${issue.path || '(root)'}: ${issue.message}`).join('; ')}`,
  );
}

/** A row read back from storage that does not match its schema. */
export class CorruptRecordError extends HeraldError {
  readonly code = 'corrupt_record';
  constructor(
    readonly table: string,
    readonly id: string,
    readonly issues: FieldIssue[],
  ) {
    super(
      `Stored ${table} ${id} is malformed: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`,
    );
    this.name = 'CorruptRecordError';
  }
}

/** Storage or queue faults that a retry may fix (a dropped connection). */
export class TransientStorageError extends HeraldError {
  readonly code = 'storage_unavailable';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientStorageError';
  }
}

export function assertNever(value: never, what = 'value'): never {
  throw new Error(`Unhandled ${what}: ${JSON.stringify(value)}`);
}
