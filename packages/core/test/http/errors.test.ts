import { describe, expect, it } from 'vitest';
import * as errors from '../../src/errors/index.js';
import {
  ConfigError,
  ConflictError,
  CorruptRecordError,
  EndpointNotAllowedError,
  HeraldError,
  NotFoundError,
  PayloadTooLargeError,
  TransientStorageError,
  ValidationError,
} from '../../src/errors/index.js';
import { errorResponse, httpStatusOf } from '../../src/index.js';
import type { LogFields, Logger } from '../../src/ports/index.js';

/** A logger that keeps what was logged at error level, to check a 5xx is logged and a 4xx is not. */
function recordingLogger() {
  const logged: Array<{ message: string; fields?: LogFields }> = [];
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: (message, fields) => logged.push({ message, ...(fields ? { fields } : {}) }),
  };
  return { logger, logged };
}

/** One instance of every HeraldError class, with the status it must be answered with. */
const EXAMPLES: Array<[HeraldError, number]> = [
  [new ValidationError('campaign', [{ path: 'what.title', message: 'required' }]), 400],
  [new NotFoundError('campaign', 'cmp_1'), 404],
  [new ConflictError('a completed campaign cannot be paused'), 409],
  [new EndpointNotAllowedError('https://169.254.169.254/', 'not a push service'), 400],
  [new PayloadTooLargeError('cmp_1', 5000, 4078), 413],
  [new ConfigError('VAPID private key is not a valid P-256 private key'), 500],
  [new CorruptRecordError('campaigns', 'cmp_1', [{ path: 'status', message: 'invalid enum value' }]), 500],
  [new TransientStorageError('connection terminated'), 503],
];

describe('HTTP status of errors', () => {
  it('names a status for every HeraldError class the errors module exports', () => {
    const classes = (Object.values(errors) as unknown[]).filter(
      (value): value is typeof HeraldError =>
        typeof value === 'function' && value.prototype instanceof HeraldError,
    );
    expect(classes.length).toBeGreaterThan(0);
    for (const errorClass of classes) {
      expect(
        EXAMPLES.some(([error]) => error.constructor === errorClass),
        `${errorClass.name} has an example`,
      ).toBe(true);
    }
  });

  it.each(EXAMPLES.map(([error, status]) => ({ error, status, name: error.name })))(
    '$name → $status',
    ({ error, status }) => {
      expect(httpStatusOf(error)).toBe(status);
    },
  );

  it('answers anything that is not a HeraldError with 500', () => {
    expect(httpStatusOf(new TypeError('x is undefined'))).toBe(500);
    expect(httpStatusOf('a thrown string')).toBe(500);
    expect(httpStatusOf(undefined)).toBe(500);
  });
});

describe('error responses', () => {
  it('a 4xx says what was wrong, with every bad field of a validation error, and logs nothing', () => {
    const { logger, logged } = recordingLogger();
    expect(errorResponse(EXAMPLES[0]?.[0], logger)).toEqual({
      status: 400,
      body: {
        error: {
          code: 'validation_failed',
          message: 'Invalid campaign: what.title: required',
          issues: [{ path: 'what.title', message: 'required' }],
        },
      },
    });
    expect(errorResponse(new NotFoundError('campaign', 'cmp_1'), logger)).toEqual({
      status: 404,
      body: { error: { code: 'not_found', message: 'campaign cmp_1 not found' } },
    });
    expect(logged).toEqual([]);
  });

  it('an unexpected error is a 500 whose body says nothing of its cause, and is logged with it', () => {
    const { logger, logged } = recordingLogger();
    const response = errorResponse(new Error('password authentication failed for user "herald"'), logger);
    expect(response).toEqual({
      status: 500,
      body: { error: { code: 'internal', message: 'internal error' } },
    });
    expect(JSON.stringify(response)).not.toContain('password');
    expect(logged).toEqual([
      {
        message: 'herald request failed',
        fields: {
          status: 500,
          code: 'internal',
          name: 'Error',
          message: 'password authentication failed for user "herald"',
        },
      },
    ]);
  });

  it("the server's own faults keep their code but not their message; a transient one is 503", () => {
    const { logger, logged } = recordingLogger();
    const corrupt = errorResponse(
      new CorruptRecordError('campaigns', 'cmp_1', [{ path: 'status', message: 'bad' }]),
      logger,
    );
    expect(corrupt).toEqual({
      status: 500,
      body: { error: { code: 'corrupt_record', message: 'internal error' } },
    });
    expect(errorResponse(new TransientStorageError('connection terminated'), logger)).toEqual({
      status: 503,
      body: { error: { code: 'storage_unavailable', message: 'temporarily unavailable, retry later' } },
    });
    expect(logged.map((entry) => entry.fields?.message)).toEqual([
      'Stored campaigns cmp_1 is malformed: status: bad',
      'connection terminated',
    ]);
  });
});
