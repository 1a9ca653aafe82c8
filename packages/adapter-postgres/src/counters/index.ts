import type { ConsumeResult, CounterSpec, Counters } from '@herald/core';
import { checkCounterRequests, checkCounterSpecs, counterInstant } from '@herald/core';
import { z } from 'zod';
import { ClientOptions, parseOptions } from '../options.js';
import { type PostgresClient, type SqlClient, toSqlClient } from '../sql/client.js';
import { quoteSchema } from '../sql/identifiers.js';
import { iso } from '../storage/rows.js';

export interface PostgresCountersOptions {
  /** A `pg` Pool (or connected Client) or a PGlite instance. Herald never closes it. */
  client: PostgresClient | SqlClient;
  /** The schema holding the counters table, created by `migrate()`. Default `herald`. */
  schema?: string;
}

/**
 * How often (by the `now` consume is given) one adapter instance deletes
 * counters whose window has ended, and how many rows at most per statement.
 * One process's sweep then costs one bounded DELETE a minute; when a sweep
 * finds a full batch (a backlog, e.g. a million day caps ending at midnight)
 * the next runs a second later, so the backlog drains at 1,000 rows a second
 * per process without any one consume waiting on a long delete.
 */
const SWEEP_EVERY_MS = 60_000;
const SWEEP_BACKLOG_EVERY_MS = 1_000;
const SWEEP_BATCH = 1_000;
/**
 * A row is deleted only an hour after its window ended by the sweeper's
 * clock, so a process whose clock runs behind (skew, a fake clock in a
 * test) never sees a counter it still considers live disappear.
 */
const SWEEP_GRACE_MS = 3_600_000;

/** The counter column is an integer: a larger limit can never be reached, so it is the same limit. */
const MAX_COUNTER = 2_147_483_647;

const ConsumeReply = z.union([
  z.object({ blocked: z.null(), counts: z.array(z.number().int().min(1)) }),
  z.object({ blocked: z.number().int().min(1), counts: z.null() }),
]);
const ValueRow = z.object({ key: z.string(), value: z.number().int().min(0) });
const ConsumeEachReply = z.object({
  blocked: z.array(z.number().int().min(0)),
  counts: z.array(z.number().int().min(1).nullable()),
});

/**
 * The Counters port on Postgres, for deployments without Redis: one row per
 * counter in `counters` (migration 007). `consume` is one call of the
 * `consume_counters` function, which locks the named rows in key order,
 * reads them afresh, and writes all their increments or none; the migration
 * argues why that is exact under READ COMMITTED. Time is always the caller's `now`,
 * never SQL now(). Semantics follow core's memoryCounters, the port's
 * executable spec.
 *
 * Expired rows: a consume of an expired key resets it in place (lazily);
 * keys never consumed again are deleted by a bounded sweep that consume runs
 * at most once a minute per instance (see SWEEP_EVERY_MS).
 */
export function postgresCounters(options: PostgresCountersOptions): Counters {
  const { client, schema } = parseOptions(ClientOptions, options, 'postgresCounters');
  const sql = toSqlClient(client);
  const s = quoteSchema(schema ?? 'herald');
  let nextSweepAt = Number.NEGATIVE_INFINITY;

  /** Deletes at most SWEEP_BATCH expired rows, skipping rows a consume holds; never waits on a lock. */
  const sweep = async (now: Date): Promise<void> => {
    const { rows } = await sql.query(
      `DELETE FROM ${s}.counters WHERE expires_at <= $1::timestamptz AND key IN (
         SELECT key FROM ${s}.counters WHERE expires_at <= $1::timestamptz
         ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING 1`,
      [iso(new Date(now.getTime() - SWEEP_GRACE_MS)), SWEEP_BATCH],
    );
    if (rows.length === SWEEP_BATCH) nextSweepAt = now.getTime() + SWEEP_BACKLOG_EVERY_MS;
  };

  /** The limits (capped to what the column holds) and expiries of specs `checkCounterSpecs` passed. */
  const specColumns = (specs: readonly CounterSpec[]) => ({
    limits: specs.map((spec) => Math.min(spec.limit, MAX_COUNTER)),
    expiries: specs.map((spec) => iso(spec.expiresAt)),
  });

  // Before the count, so a failed sweep fails the call with nothing counted. Claimed before
  // awaiting, so concurrent calls in this process do not all sweep.
  const sweepIfDue = async (now: Date, nowMs: number): Promise<void> => {
    if (nowMs < nextSweepAt) return;
    nextSweepAt = nowMs + SWEEP_EVERY_MS;
    await sweep(now);
  };

  return {
    async consume(specs: readonly CounterSpec[], now: Date): Promise<ConsumeResult> {
      const nowMs = counterInstant(now, 'now');
      checkCounterSpecs(specs);
      if (specs.length === 0) return { allowed: true, counts: [] };
      const { limits, expiries } = specColumns(specs);
      await sweepIfDue(now, nowMs);
      const { rows: replies } = await sql.query(
        `SELECT blocked, counts
         FROM ${s}.consume_counters($1::text[], $2::integer[], $3::timestamptz[], $4::timestamptz)`,
        [specs.map((spec) => spec.key), limits, expiries, iso(now)],
      );
      const reply = ConsumeReply.parse(replies[0]);
      if (reply.blocked === null) return { allowed: true, counts: reply.counts };
      const blocked = specs[reply.blocked - 1];
      if (!blocked) throw new Error(`consume_counters blamed spec #${reply.blocked} of ${specs.length}`);
      return { allowed: false, blockedBy: blocked.key };
    },

    /** One call of `consume_counters_each` (migration 018) for the whole batch: one round trip. */
    async consumeEach(requests: readonly (readonly CounterSpec[])[], now: Date): Promise<ConsumeResult[]> {
      const nowMs = counterInstant(now, 'now');
      checkCounterRequests(requests);
      const specs = requests.flat();
      if (specs.length === 0) return requests.map(() => ({ allowed: true, counts: [] }));
      const keys = specs.map((spec) => spec.key);
      const { limits, expiries } = specColumns(specs);
      // Where each request's specs end in the flat arrays (the function's request_ends).
      let end = 0;
      const ends = requests.map((request) => (end += request.length));
      await sweepIfDue(now, nowMs);
      const { rows: replies } = await sql.query(
        `SELECT blocked, counts FROM ${s}.consume_counters_each($1::text[], $2::integer[], $3::integer[],
           $4::timestamptz[], $5::timestamptz)`,
        [keys, ends, limits, expiries, iso(now)],
      );
      const reply = ConsumeEachReply.parse(replies[0]);
      if (reply.blocked.length !== requests.length || reply.counts.length !== keys.length)
        throw new Error(
          `consume_counters_each answered ${reply.blocked.length} requests and ${reply.counts.length} counts for ${requests.length} and ${keys.length}`,
        );
      return requests.map((request, index): ConsumeResult => {
        const blockedAt = reply.blocked[index] ?? 0;
        if (blockedAt === 0) {
          const requestEnd = ends[index] ?? 0;
          return {
            allowed: true,
            counts: reply.counts.slice(requestEnd - request.length, requestEnd) as number[],
          };
        }
        const blocked = request[blockedAt - 1];
        if (!blocked)
          throw new Error(
            `consume_counters_each blamed spec #${blockedAt} of request ${index} (${request.length})`,
          );
        return { allowed: false, blockedBy: blocked.key };
      });
    },

    async release(keys: readonly string[], now: Date): Promise<void> {
      counterInstant(now, 'now');
      if (keys.length === 0) return;
      // Rows are locked in key order first, as consume_counters locks them, so a release and a
      // consume over the same keys queue instead of deadlocking. The lock re-checks the window
      // and the value on the row as committed, so a concurrent consume is never undone twice.
      await sql.query(
        `WITH named AS (
           SELECT key COLLATE "C" AS key, count(*)::integer AS times FROM unnest($1::text[]) AS k(key) GROUP BY 1
         ), locked AS MATERIALIZED (
           SELECT c.key FROM ${s}.counters c
           WHERE c.key = ANY($1::text[]) AND c.expires_at > $2::timestamptz AND c.value > 0
           ORDER BY c.key FOR UPDATE
         )
         UPDATE ${s}.counters c SET value = greatest(0, c.value - named.times)
         FROM locked JOIN named ON named.key = locked.key
         WHERE c.key = ANY($1::text[]) AND c.key = locked.key`,
        [keys, iso(now)],
      );
    },

    async get(keys: readonly string[], now: Date): Promise<number[]> {
      counterInstant(now, 'now');
      if (keys.length === 0) return [];
      const { rows } = await sql.query(
        `SELECT key, CASE WHEN expires_at > $2::timestamptz THEN value ELSE 0 END AS value
         FROM ${s}.counters WHERE key = ANY($1::text[])`,
        [keys, iso(now)],
      );
      const values = new Map(rows.map((row) => ValueRow.parse(row)).map((row) => [row.key, row.value]));
      return keys.map((key) => values.get(key) ?? 0);
    },
  };
}
