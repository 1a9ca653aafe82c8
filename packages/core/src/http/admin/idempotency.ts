import { createHash } from 'node:crypto';
import { ValidationError } from '../../errors/index.js';
import type { Clock, Counters } from '../../ports/index.js';
import type { HttpResponse } from '../handlers.js';
import { AdminHttpError } from './errors.js';

export interface IdempotencyOptions {
  /** How long a key is remembered (default 24 hours). */
  ttlMs?: number;
  /** Answers kept in this process for replay, oldest dropped first (default 10,000). */
  maxEntries?: number;
}

interface Kept {
  fingerprint: string;
  response: HttpResponse;
  expiresAt: number;
}

/** What a request with an Idempotency-Key gets: the answer kept for it, or the right to run once. */
export type IdempotencyStart =
  | { kind: 'replay'; response: HttpResponse }
  | { kind: 'run'; finish: (response: HttpResponse) => Promise<void> };

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex');

/**
 * `Idempotency-Key` for POST /campaigns, in two layers, because the Storage
 * port has no place for arbitrary keys and this work must not change it:
 *
 * - The claim is taken with one atomic `Counters.consume` (limit 1, expiring
 *   after the TTL). With shared counters (Redis) that holds across processes:
 *   however many processes a retry reaches, only one request per key creates.
 * - The answer to replay is kept in this process's memory, bounded. A retry
 *   that reaches the process that ran the first request gets the same answer
 *   (same campaign, 201, `Idempotency-Replayed: true`); one that reaches
 *   another process gets 409 `idempotency_key_in_use` and creates nothing.
 *
 * What would make replays work across processes: an idempotency record in
 * Storage (key, body fingerprint, answer, expiry), e.g. `Storage.claimIdempotencyKey`.
 * Keys are scoped to the principal, so two callers cannot collide or read each other's answers.
 */
export function createIdempotency(
  deps: { counters: Counters; clock: Clock },
  options: IdempotencyOptions = {},
) {
  const ttlMs = options.ttlMs ?? 24 * 3600_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const kept = new Map<string, Kept>();

  function remember(scope: string, entry: Kept): void {
    kept.delete(scope);
    kept.set(scope, entry);
    while (kept.size > maxEntries) {
      const oldest = kept.keys().next().value as string;
      kept.delete(oldest);
    }
  }

  return {
    async start(input: { principal: string; key: string; body: unknown }): Promise<IdempotencyStart> {
      if (!KEY_PATTERN.test(input.key)) {
        throw new ValidationError('request headers', [
          {
            path: 'Idempotency-Key',
            message: 'must be 1 to 255 visible ASCII characters (a UUID is typical)',
          },
        ]);
      }
      const scope = sha256(`${input.principal}\u0000${input.key}`);
      const fingerprint = sha256(JSON.stringify(input.body ?? null));
      const now = deps.clock.now();
      const found = kept.get(scope);
      if (found && found.expiresAt > now.getTime()) {
        if (found.fingerprint !== fingerprint) {
          throw new AdminHttpError(
            'idempotency_key_reused',
            'this Idempotency-Key was used with a different body; use a new key for a new request',
          );
        }
        return {
          kind: 'replay',
          response: {
            ...found.response,
            headers: { ...found.response.headers, 'idempotency-replayed': 'true' },
          },
        };
      }
      if (found) kept.delete(scope);
      const counterKey = `herald:admin:idempotency:${scope}`;
      const claim = await deps.counters.consume(
        [{ key: counterKey, limit: 1, expiresAt: new Date(now.getTime() + ttlMs) }],
        now,
      );
      if (!claim.allowed) {
        throw new AdminHttpError(
          'idempotency_key_in_use',
          'a request with this Idempotency-Key is in progress or was answered by another server process; list the campaigns to find its result',
        );
      }
      return {
        kind: 'run',
        async finish(response: HttpResponse): Promise<void> {
          if (response.status < 300) {
            remember(scope, { fingerprint, response, expiresAt: now.getTime() + ttlMs });
          } else if (response.status < 500) {
            // Refused before anything was stored: the caller may fix the request and retry with the same key.
            await deps.counters.release([counterKey], deps.clock.now());
          }
          // A 5xx keeps the claim: whether the campaign was stored is unknown, and a second one must not be.
        },
      };
    },
  };
}
