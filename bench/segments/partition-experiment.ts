/**
 * Experiment (issue 19, "Honest baselines"): would `profiles`, `events` and
 * `latest_events` HASH-partitioned by user into matching partitions bring the
 * behaviour segments under 3× the faster `count(*)`? Each parallel worker
 * could then merge its own pair of partitions (partition-wise joins) instead
 * of every worker rebuilding one set, which is why the adapter keeps
 * behaviour counts serial today (storage/audience.ts, countingQuery).
 *
 * Nothing here changes the adapter. The script copies the stored benchmark
 * data (bench_segments_<users>_<events>, made by generate.ts, read only) into
 * scratch schemas: `partition_experiment_flat` (the same tables unpartitioned,
 * a like-for-like copy for the write side) and `partition_experiment_<n>`
 * (the three tables partitioned by HASH (user_id) into n, with the
 * migrations' own indexes and triggers), then
 * - times `estimateReach`'s SQL for the five segments of run.ts (compiled by
 *   the adapter against the stored schema, the schema name swapped), median
 *   of BENCH_RUNS after a warm-up, interleaved round by round, with the
 *   adapter's planner settings and with parallel workers plus partition-wise
 *   join and aggregate, next to each schema's parallel and serial count;
 * - times the writes that partitioning could make dearer: appendEvents (the
 *   latest_events trigger included) and profile upserts, through the adapter,
 *   in small batches alternating between the flat and the partitioned copy;
 * - times a few audience pages (keyset, the fan-out's read) on each.
 * Prints one JSON line; BENCH_EXPLAIN=1 prints EXPLAIN (ANALYZE, BUFFERS) of
 * every segment query to stderr.
 *
 *   HERALD_TEST_PG_URL=postgres://... npx tsx bench/segments/partition-experiment.ts
 *   PARTITIONS=2,4     partition counts to try (default 2,4)
 *   BENCH_RUNS=5       timed runs per query after one warm-up
 *   WRITE_BATCHES=40   batches per write kind and schema
 *   PARTITION_KEEP=1   keep the scratch schemas (dropped by default); a rerun reuses them as the
 *                      writes left them (a few thousand rows more or changed, vacuumed)
 *   PARTITION_STEPS=reads,writes,pages   what to measure after copying (default all three)
 */
import { migrate, postgresStorage, type SqlClient, toSqlClient } from '@herald/adapter-postgres';
import type { Profile, UserEvent, UserId } from '@herald/core';
import pg from 'pg';
import { generate } from './generate.js';
import { SEGMENTS } from './segments.js';

const url = process.env.HERALD_BENCH_PG_URL ?? process.env.HERALD_TEST_PG_URL;
if (!url) throw new Error('Set HERALD_TEST_PG_URL');
const USERS = 1_000_000;
const EVENTS = 10_000_000;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const WRITE_BATCHES = Number(process.env.WRITE_BATCHES ?? 40);
const PARTITIONS = (process.env.PARTITIONS ?? '2,4').split(',').map(Number);
const EXPLAIN = Boolean(process.env.BENCH_EXPLAIN);
const KEEP = Boolean(process.env.PARTITION_KEEP);
const STEPS = new Set((process.env.PARTITION_STEPS ?? 'reads,writes,pages').split(','));
const SOURCE = `bench_segments_${USERS}_${EVENTS}`;
const NOW = new Date('2026-03-01T12:00:00Z');
const TABLES = ['profiles', 'events', 'latest_events'] as const;
/** Rows copied per INSERT … SELECT of events, so no statement runs for minutes on the shared server. */
const EVENT_CHUNK = 2_000_000;

const log = (line: string) => process.stderr.write(`partition-experiment ${line}\n`);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const round1 = (value: number) => Math.round(value * 10) / 10;
const scratchName = (partitions: number) => `partition_experiment_${partitions === 0 ? 'flat' : partitions}`;

/** One way of running a counting statement: its schema and the planner settings of its transaction. */
interface Variant {
  name: string;
  schema: string;
  /** `adapter`: the settings countingQuery makes today; `partitionwise`: parallel workers and partition-wise plans. */
  settings: 'adapter' | 'partitionwise';
  /**
   * `compiled`: the adapter's SQL; `unordered sets`: its LEFT JOINed sets without their `ORDER BY 1`,
   * which keeps a subquery from being pulled up, and only a pulled-up latest_events can be joined
   * partition by partition.
   */
  sql: 'compiled' | 'unordered sets';
}

interface CompiledSegment {
  name: string;
  text: string;
  params: readonly unknown[];
  /** The adapter's own SET LOCALs before it (countingQuery's), replayed as they are for `adapter`. */
  settings: string[];
}

async function main() {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => undefined);
  const result: Record<string, unknown> = {
    bench: 'segments-partition-experiment',
    users: USERS,
    events: EVENTS,
  };
  try {
    await generate(pool, { users: USERS, events: EVENTS, schema: SOURCE, now: NOW, log });
    const builds: Record<string, unknown> = {};
    for (const partitions of [0, ...PARTITIONS])
      builds[scratchName(partitions)] = await copy(pool, partitions);
    result.copies = builds;
    for (const partitions of [0, ...PARTITIONS]) await settleCopy(pool, partitions);

    const compiled = await compileSegments(pool);
    const variants: Variant[] = [
      { name: 'stored', schema: SOURCE, settings: 'adapter', sql: 'compiled' },
      { name: 'flat copy', schema: scratchName(0), settings: 'adapter', sql: 'compiled' },
      ...PARTITIONS.flatMap((partitions): Variant[] => [
        {
          name: `${partitions} partitions, adapter settings`,
          schema: scratchName(partitions),
          settings: 'adapter',
          sql: 'compiled',
        },
        // The compiled SQL with partition-wise settings read "did A but not B" as an inner join with its
        // `added` set de-duplicated and sorted (6.9 s against 2.2 s, one EXPLAIN on 2 partitions): not timed.
        {
          name: `${partitions} partitions, partition-wise, unordered sets`,
          schema: scratchName(partitions),
          settings: 'partitionwise',
          sql: 'unordered sets',
        },
      ]),
    ];
    if (STEPS.has('reads')) result.reads = await timeReads(pool, compiled, variants);
    // Pages before writes: the writes change the copies' rows.
    if (STEPS.has('pages')) result.audiencePages = await timeAudiencePages(pool);
    if (STEPS.has('writes')) {
      result.writes = await timeWrites(pool);
      // The updates cleared visibility-map bits that every index-only scan reads; a rerun with
      // PARTITION_KEEP then finds the copies settled again (holding the rows written here).
      for (const partitions of [0, ...PARTITIONS]) {
        for (const table of TABLES) await pool.query(`VACUUM (ANALYZE) ${scratchName(partitions)}.${table}`);
      }
    }
  } finally {
    if (!KEEP) {
      for (const partitions of [0, ...PARTITIONS])
        await pool.query(`DROP SCHEMA IF EXISTS ${scratchName(partitions)} CASCADE`);
    }
    await pool.end();
  }
  console.log(JSON.stringify(result));
}

/**
 * The stored data copied into a scratch schema: Herald's migrations first (every function and
 * trigger function, bound to the scratch schema), then profiles, events and latest_events replaced
 * by tables of the same columns, partitioned by HASH (user_id) into `partitions` (none for 0), loaded
 * without secondary indexes or triggers, then given the migrations' own indexes and triggers
 * (events' primary key becomes (id, user_id): a partitioned table's unique keys must hold its
 * partition key). Reuses a copy already made (its marker), so a rerun with PARTITION_KEEP costs seconds.
 * Returns how long each step took: what a migration converting an install of this size would cost.
 */
async function copy(pool: pg.Pool, partitions: number): Promise<Record<string, number> | 'reused'> {
  const schema = scratchName(partitions);
  const db = await pool.connect();
  try {
    const marker = await db.query(`SELECT to_regclass($1) IS NOT NULL AS present`, [
      `${schema}.experiment_marker`,
    ]);
    if (marker.rows[0]?.present) return 'reused';
    const steps: Record<string, number> = {};
    const step = async (what: string, text: string) => {
      const start = performance.now();
      await db.query(text);
      steps[what] = Math.round(performance.now() - start);
      log(`${schema} ${what}: ${steps[what]} ms`);
    };
    await db.query(`SET maintenance_work_mem = '512MB'`);
    await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await migrate({ client: db, schema });

    for (const table of TABLES) {
      const { rows: indexes } = await db.query<{ def: string; primary: boolean }>(
        `SELECT pg_get_indexdef(x.indexrelid) AS def, x.indisprimary AS primary
         FROM pg_index x WHERE x.indrelid = $1::regclass ORDER BY x.indexrelid`,
        [`${schema}.${table}`],
      );
      const { rows: triggers } = await db.query<{ def: string }>(
        `SELECT pg_get_triggerdef(oid) AS def FROM pg_trigger WHERE tgrelid = $1::regclass AND NOT tgisinternal ORDER BY oid`,
        [`${schema}.${table}`],
      );
      await db.query(`ALTER TABLE ${schema}.${table} RENAME TO ${table}_template`);
      // A partitioned table has no storage of its own: its partitions take the storage parameters.
      await db.query(
        partitions === 0
          ? `CREATE TABLE ${schema}.${table} (${like(schema, table)}) WITH (autovacuum_enabled = false)`
          : `CREATE TABLE ${schema}.${table} (${like(schema, table)}) PARTITION BY HASH (user_id)`,
      );
      for (let remainder = 0; remainder < partitions; remainder++) {
        await db.query(
          `CREATE TABLE ${schema}.${table}_p${remainder} PARTITION OF ${schema}.${table}
             FOR VALUES WITH (MODULUS ${partitions}, REMAINDER ${remainder}) WITH (autovacuum_enabled = false)`,
        );
      }
      await db.query(`DROP TABLE ${schema}.${table}_template`);

      const columns = await db.query<{ list: string }>(
        `SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) AS list FROM pg_attribute
         WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`,
        [`${schema}.${table}`],
      );
      const list = columns.rows[0]?.list ?? '';
      const insert = `INSERT INTO ${schema}.${table} (${list}) OVERRIDING SYSTEM VALUE SELECT ${list} FROM ${SOURCE}.${table}`;
      if (table === 'events') {
        for (let from = 0; from < EVENTS; from += EVENT_CHUNK) {
          await step(`copy events ${from}+`, `${insert} WHERE id > ${from} AND id <= ${from + EVENT_CHUNK}`);
        }
      } else {
        await step(`copy ${table}`, insert);
      }
      for (const index of indexes) {
        if (!index.primary) {
          await step(`index ${index.def.split(' ')[2]}`, index.def);
          continue;
        }
        // A partitioned table's primary key must hold the partition key: events' (id) becomes (id, user_id).
        const key =
          table === 'events' && partitions > 0
            ? '(id, user_id)'
            : index.def.slice(index.def.indexOf('(')).trim();
        await step(`primary key ${table}`, `ALTER TABLE ${schema}.${table} ADD PRIMARY KEY ${key}`);
      }
      for (const trigger of triggers) await db.query(trigger.def);
    }
    // Subscriptions are not partitioned; the reach trigger of a new profile reads them.
    await db.query(`ALTER TABLE ${schema}.subscriptions DISABLE TRIGGER USER`);
    await step(
      'copy subscriptions',
      `INSERT INTO ${schema}.subscriptions SELECT * FROM ${SOURCE}.subscriptions`,
    );
    await db.query(`ALTER TABLE ${schema}.subscriptions ENABLE TRIGGER USER`);
    await db.query(
      `SELECT setval(pg_get_serial_sequence('${schema}.events', 'id'), (SELECT max(id) FROM ${schema}.events))`,
    );
    for (const table of [...TABLES, 'subscriptions']) {
      await step(`vacuum analyze ${table}`, `VACUUM (ANALYZE) ${schema}.${table}`);
    }
    await db.query(`CREATE TABLE ${schema}.experiment_marker ()`);
    return steps;
  } finally {
    db.release();
  }
}

/**
 * What a copy keeps whether made now or reused: autovacuum back on (it was off while loading, as in
 * generate.ts), and on a partitioned copy every partition read whole by one process,
 * `parallel_workers = 0` on each partition (a storage parameter; no session setting does it, since
 * min_parallel_*_scan_size do not apply to partitions). Without it the planner split each
 * partition's profiles between the workers under a Parallel Append and every worker read and sorted
 * the partition's whole set again (loops=3 on the latest_events side, EXPLAIN on 2 partitions), the
 * very cost partitioning was meant to remove.
 */
async function settleCopy(pool: pg.Pool, partitions: number): Promise<void> {
  const schema = scratchName(partitions);
  const parents = TABLES.map((table) => `'${schema}.${table}'::regclass`).join(', ');
  const { rows } = await pool.query<{ name: string }>(
    `SELECT c.oid::regclass::text AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = ANY(ARRAY[${parents}])`,
  );
  if (partitions === 0) {
    for (const table of TABLES) await pool.query(`ALTER TABLE ${schema}.${table} RESET (autovacuum_enabled)`);
    return;
  }
  for (const { name } of rows) {
    await pool.query(`ALTER TABLE ${name} RESET (autovacuum_enabled)`);
    await pool.query(`ALTER TABLE ${name} SET (parallel_workers = 0)`);
  }
}

/** The columns, defaults, identity and checks of the migrations' table, for CREATE TABLE. */
const like = (schema: string, table: string) =>
  `LIKE ${schema}.${table}_template INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS`;

/** The statement `estimateReach` runs for each segment, as the adapter compiles it for the stored schema. */
async function compileSegments(pool: pg.Pool): Promise<CompiledSegment[]> {
  const compiled: CompiledSegment[] = [];
  for (const { name, segment } of SEGMENTS) {
    let captured: { text: string; params: readonly unknown[]; settings: string[] } | null = null;
    const recording = (target: SqlClient, settings: string[]): SqlClient =>
      Object.assign(
        {
          query<Row>(text: string, params: readonly unknown[] = []) {
            if (text.includes('set_config(')) settings.push(text);
            else captured = { text, params, settings: [...settings] };
            return target.query<Row>(text, params);
          },
          transaction<T>(fn: (tx: SqlClient) => Promise<T>) {
            return target.transaction((tx) => fn(recording(tx, [])));
          },
        },
        { [Symbol.for('herald.sqlClient')]: true },
      );
    const storage = postgresStorage({ client: recording(toSqlClient(pool), []), schema: SOURCE });
    await storage.estimateReach(segment, NOW);
    const statement = captured as { text: string; params: readonly unknown[]; settings: string[] } | null;
    if (!statement) throw new Error(`no statement captured for ${name}`);
    compiled.push({ name, text: statement.text, params: statement.params, settings: statement.settings });
  }
  return compiled;
}

/** A segment's statement for one variant: its schema, and its LEFT JOINed sets unordered when asked. */
function sqlFor(variant: Variant, text: string): string {
  const inSchema = text.replaceAll(`"${SOURCE}".`, `"${variant.schema}".`);
  return variant.sql === 'compiled' ? inSchema : inSchema.replaceAll(' ORDER BY 1)', ')');
}

/**
 * The SET LOCALs of one variant's transaction for one statement: the adapter's own, or JIT and hash
 * joins off as the adapter has them, parallel workers left to the server and partition-wise plans on.
 */
function settingsFor(variant: Variant, segment: CompiledSegment): string | null {
  if (variant.settings === 'adapter') return segment.settings.join(';\n') || null;
  return `SELECT set_config('jit', 'off', true), set_config('enable_hashjoin', 'off', true),
    set_config('enable_partitionwise_join', 'on', true), set_config('enable_partitionwise_aggregate', 'on', true)`;
}

/** One statement in its own transaction after `settings`; returns wall ms and the first row. */
async function runOnce(
  pool: pg.Pool,
  statement: { settings: string | null; text: string; params: readonly unknown[] },
): Promise<{ ms: number; row: Record<string, unknown> | undefined }> {
  const client = await pool.connect();
  try {
    const start = performance.now();
    await client.query('BEGIN');
    if (statement.settings) await client.query(statement.settings);
    const { rows } = await client.query(statement.text, [...statement.params]);
    await client.query('COMMIT');
    return { ms: performance.now() - start, row: rows[0] };
  } finally {
    client.release();
  }
}

/**
 * Every (variant, query) once per round, rounds repeated: round 0 warms caches and is dropped, the
 * median of the others is reported, so load that comes and goes on the shared machine falls on every
 * variant alike. Each segment's `ratio` is against the faster of its own schema's two counts,
 * `ratioToStoredCount` against the stored schema's (the tables as they are today).
 */
async function timeReads(pool: pg.Pool, compiled: CompiledSegment[], variants: Variant[]) {
  const queries = (variant: Variant) => [
    {
      name: 'count (parallel)',
      settings: null,
      text: `SELECT count(*) FROM ${variant.schema}.profiles`,
      params: [],
    },
    {
      name: 'count (serial)',
      settings: `SELECT set_config('max_parallel_workers_per_gather', '0', true)`,
      text: `SELECT count(*) FROM ${variant.schema}.profiles`,
      params: [],
    },
    ...compiled.map((segment) => ({
      name: segment.name,
      settings: settingsFor(variant, segment),
      text: sqlFor(variant, segment.text),
      params: segment.params,
    })),
  ];
  const times = new Map<string, number[]>();
  const answers = new Map<string, unknown>();
  for (let round = 0; round <= RUNS; round++) {
    for (const variant of variants) {
      for (const query of queries(variant)) {
        const { ms, row } = await runOnce(pool, query);
        const key = `${variant.name}\u0000${query.name}`;
        if (round > 0) times.set(key, [...(times.get(key) ?? []), ms]);
        answers.set(key, row);
      }
    }
    log(`reads: round ${round} of ${RUNS} done`);
  }
  if (EXPLAIN) {
    for (const variant of variants) {
      for (const query of queries(variant).slice(2)) {
        log(`-- ${variant.name}: ${query.name}`);
        await explain(pool, query);
      }
    }
  }
  const msOf = (variant: Variant, name: string) =>
    round1(median(times.get(`${variant.name}\u0000${name}`) ?? []));
  const ratio = (ms: number, baseline: number) => Math.round((ms / baseline) * 100) / 100;
  // The count users compare with is the one on the tables as they are today (the stored schema's).
  const stored = variants[0];
  const storedBaseline = stored
    ? Math.min(msOf(stored, 'count (parallel)'), msOf(stored, 'count (serial)'))
    : Number.NaN;
  return variants.map((variant) => {
    const ms = (name: string) => msOf(variant, name);
    const countMs = ms('count (parallel)');
    const countSerialMs = ms('count (serial)');
    const baseline = Math.min(countMs, countSerialMs);
    return {
      variant: variant.name,
      schema: variant.schema,
      countMs,
      countSerialMs,
      segments: compiled.map((segment) => {
        const segmentMs = ms(segment.name);
        const answer = answers.get(`${variant.name}\u0000${segment.name}`) as
          | { qualified?: number }
          | undefined;
        return {
          name: segment.name,
          ms: segmentMs,
          ratio: ratio(segmentMs, baseline),
          ratioToStoredCount: ratio(segmentMs, storedBaseline),
          qualified: answer?.qualified,
        };
      }),
    };
  });
}

async function explain(
  pool: pg.Pool,
  query: { settings: string | null; text: string; params: readonly unknown[] },
) {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    if (query.settings) await client.query(query.settings);
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (ANALYZE, BUFFERS) ${query.text}`,
      [...query.params],
    );
    for (const row of rows) log(row['QUERY PLAN']);
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}

/**
 * Writes through the adapter itself, committed, alternating between the flat copy and each
 * partitioned one batch by batch: appendEvents of 1 and of 100 events (existing users, now: each
 * raises its latest_events pair through the trigger), upsertProfiles of 1 and of 100 existing
 * users (updates) and of new users (inserts, whose reach trigger reads subscriptions).
 * Reports the median µs per row of each kind.
 */
async function timeWrites(pool: pg.Pool) {
  const schemas = [scratchName(0), ...PARTITIONS.map(scratchName)];
  const storages = schemas.map((schema) => postgresStorage({ client: pool, schema }));
  const user = (n: number) => `u${String(n).padStart(8, '0')}` as UserId;
  let drawn = 0;
  // A fixed stride over the id space (a prime), so batches touch users spread across partitions.
  const nextUser = () => user(1 + ((drawn++ * 7919) % USERS));
  const names = ['viewed', 'added', 'charged', 'searched'];
  const kinds: Array<{
    name: string;
    rows: number;
    write: (storage: (typeof storages)[number], batch: number) => Promise<void>;
  }> = [];
  for (const rows of [1, 100]) {
    kinds.push({
      name: `appendEvents, ${rows} a batch`,
      rows,
      write: (storage) =>
        storage.appendEvents(
          Array.from(
            { length: rows },
            (_, index): UserEvent => ({
              userId: nextUser(),
              name: names[index % names.length] ?? 'viewed',
              time: NOW,
              properties: { amount: index },
            }),
          ),
        ),
    });
    kinds.push({
      name: `upsertProfiles (existing users), ${rows} a batch`,
      rows,
      write: (storage) => storage.upsertProfiles(Array.from({ length: rows }, () => profile(nextUser()))),
    });
    kinds.push({
      name: `upsertProfiles (new users), ${rows} a batch`,
      rows,
      // Ids above the stored users', the same in every schema (each schema is its own table).
      write: (storage, batch) =>
        storage.upsertProfiles(
          Array.from({ length: rows }, (_, index) =>
            profile(user(2 * USERS + rows * 1000 + batch * rows + index)),
          ),
        ),
    });
  }
  const results = [];
  for (const kind of kinds) {
    const perSchema = schemas.map(() => [] as number[]);
    for (let batch = 0; batch <= WRITE_BATCHES; batch++) {
      for (const [index, storage] of storages.entries()) {
        const start = performance.now();
        await kind.write(storage, batch);
        if (batch > 0) perSchema[index]?.push(((performance.now() - start) * 1000) / kind.rows);
      }
    }
    results.push({
      write: kind.name,
      usPerRow: Object.fromEntries(
        schemas.map((schema, index) => [schema, Math.round(median(perSchema[index] ?? []))]),
      ),
    });
    log(`writes: ${kind.name} done`);
  }
  return results;
}

function profile(userId: UserId): Profile {
  return {
    userId,
    properties: { plan: 'pro', country: 'FR', age: 30 },
    test: false,
    createdAt: NOW,
    updatedAt: NOW,
  } as Profile;
}

/** Keyset pages of 1,000 of a property and a behaviour segment: the fan-out's read, probing events per profile. */
async function timeAudiencePages(pool: pg.Pool) {
  const schemas = [SOURCE, scratchName(0), ...PARTITIONS.map(scratchName)];
  const pages = 20;
  const results = [];
  for (const { name, segment } of [SEGMENTS[0], SEGMENTS[2]].filter((entry) => entry !== undefined)) {
    const perSchema = schemas.map(() => [] as number[]);
    for (let run = 0; run <= 3; run++) {
      for (const [index, schema] of schemas.entries()) {
        const storage = postgresStorage({ client: pool, schema });
        const start = performance.now();
        let after: UserId | null = null;
        for (let page = 0; page < pages; page++) {
          const ids: UserId[] = await storage.selectAudience(segment, { after, limit: 1000, now: NOW });
          after = ids[ids.length - 1] ?? null;
        }
        if (run > 0) perSchema[index]?.push((performance.now() - start) / pages);
      }
    }
    results.push({
      segment: name,
      msPerPage: Object.fromEntries(
        schemas.map((schema, index) => [schema, round1(median(perSchema[index] ?? []))]),
      ),
    });
  }
  return results;
}

await main();
