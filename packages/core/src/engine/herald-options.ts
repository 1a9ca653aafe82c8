import { z } from 'zod';
import { Target } from '../model/index.js';
import { callback, clockOption, loggerOption, objectOf as object } from '../option-kinds.js';

/**
 * The shape of `createHerald`'s options, checked when the engine is made. Every level is strict: a
 * misspelt key (`limit`, `DND`, `tuning.concurency`) would otherwise be dropped without a word and
 * switch off the caps, quiet hours or settings it was meant to set. The ports and callbacks are
 * checked for their kind only; `limits`, `dnd` and `defaultTimezone` are parsed by their own schemas
 * afterwards, with their own messages.
 */

const count = z.number().int().min(1);
const milliseconds = z.number().int().min(0);

/** A report secret: a string or bytes; a rotation list, newest first. */
const Secret = z.union([z.string().min(1), z.instanceof(Uint8Array)]);

/** An absolute http(s) URL: the payload's `reportUrl` must be one, or the service worker shows nothing. */
const AbsoluteHttpUrl = z.string().refine((value) => /^https?:\/\/[^/]/i.test(value) && URL.canParse(value), {
  message: 'must be an absolute http(s) URL, such as https://example.com/herald/reports',
});

export const HeraldOptionsShape = z.strictObject({
  storage: object('a Storage (memoryStorage(), postgresStorage(…))'),
  queue: object('a Queue (memoryQueue(), postgresQueue(…), redisQueue(…))'),
  counters: object('a Counters (postgresCounters(…), redisCounters(…))').optional(),
  providers: z.partialRecord(Target, object('a push provider (webPush(…), apns(…))')),
  clock: clockOption.optional(),
  logger: loggerOption.optional(),
  onEvent: callback.optional(),
  allowEndpoint: z
    .array(z.union([z.string(), z.instanceof(RegExp), callback]), {
      error: 'must be a list of URL prefixes, RegExps or functions',
    })
    .optional(),
  resolveHost: callback.optional(),
  reportSecret: z.union([Secret, z.array(Secret).min(1)]).optional(),
  reportUrl: AbsoluteHttpUrl.optional(),
  iconBaseUrl: z.string().optional(),
  renderTimeoutMs: z.number().positive().optional(),
  retry: z
    .strictObject({
      maxAttempts: count.optional(),
      baseMs: milliseconds.optional(),
      maxMs: milliseconds.optional(),
    })
    .optional(),
  tuning: z
    .strictObject({
      pageSize: count.optional(),
      batchSize: count.optional(),
      sendConcurrency: count.optional(),
      pollIntervalMs: milliseconds.optional(),
      reportTokenTtlMs: milliseconds.optional(),
      campaignRefreshMs: milliseconds.optional(),
      claimLimit: count.optional(),
      concurrency: count.optional(),
      leaseMs: milliseconds.optional(),
      maxJobAttempts: count.optional(),
      shutdownTimeoutMs: milliseconds.optional(),
    })
    .optional(),
  random: callback.optional(),
  limits: z.unknown().optional(),
  defaultTimezone: z.unknown().optional(),
  dnd: z.unknown().optional(),
});

/** Shorter than this, a report secret can be guessed offline from one token: worth a warning. */
export const WEAK_SECRET_LENGTH = 16;
