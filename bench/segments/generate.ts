/**
 * Test data for the segment benchmark, generated inside Postgres
 * (`INSERT ... SELECT FROM generate_series`), so a million profiles and ten
 * million events cost minutes, not the hours a client-side loader would.
 *
 * Everything is deterministic: values come from Postgres' own integer hash,
 * one stream per column, so every run of the same size sees the same data.
 * A marker table records the size and the generator's version; a rerun of
 * the same size on the same server reuses the data and costs seconds.
 *
 * The shape is meant to look like a product's: plans and countries with
 * realistic shares, ten event kinds of which `viewed` dominates, 90 days of
 * history arriving in time order (ids follow time, as appends do), and
 * activity skewed so a few users have hundreds of events and many have none.
 */
import { migrate } from '@herald/adapter-postgres';
import type pg from 'pg';

/** Bump when the generated data changes shape, so stored data of the same size is regenerated. */
const GENERATOR_VERSION = 3;
const DAY_S = 86_400;
const HISTORY_DAYS = 90;

const TABLES = ['profiles', 'subscriptions', 'events', 'latest_events'];

/** hashint8(x) as a bigint in 0 .. 2^32 - 1: one pseudo-random stream per expression. */
const h = (x: string) => `(hashint8(${x})::bigint + 2147483648)`;

export interface GenerateOptions {
  users: number;
  events: number;
  schema: string;
  now: Date;
  /** Regenerate even when data of this size is already stored. */
  fresh?: boolean;
  log?: (line: string) => void;
}

export interface Generated {
  /** Time spent generating (0 when stored data was reused). */
  ms: number;
  reused: boolean;
}

type Db = pg.PoolClient;

export async function generate(pool: pg.Pool, options: GenerateOptions): Promise<Generated> {
  // One session, so its maintenance_work_mem (index builds) holds for every statement.
  const db = await pool.connect();
  try {
    return await generateOn(db, options);
  } finally {
    db.release();
  }
}

async function generateOn(pool: Db, options: GenerateOptions): Promise<Generated> {
  const { schema: s, users, events, now } = options;
  const log = options.log ?? (() => undefined);
  const marker = `${users}/${events}/${now.toISOString()}/v${GENERATOR_VERSION}`;
  if (!options.fresh && (await storedMarker(pool, s)) === marker) {
    // A newer adapter may have added migrations since the data was made; they run on the stored data,
    // which then settles as freshly generated data does.
    const { applied } = await migrate({ client: pool, schema: s });
    if (applied.length > 0) await settle(pool, s, log);
    return { ms: 0, reused: true };
  }

  const start = performance.now();
  const step = timedSteps(pool, log);
  await pool.query(`SET maintenance_work_mem = '1GB'`);
  await step('drop', `DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await migrate({ client: pool, schema: s });
  // Autovacuum would start on each table as soon as it is loaded and hold back the horizon the final
  // VACUUM needs to mark pages all-visible; it is switched back on at the end.
  for (const table of TABLES) await pool.query(`ALTER TABLE ${s}.${table} SET (autovacuum_enabled = false)`);

  await withoutSecondaryIndexes(pool, s, 'profiles', log, () =>
    step(
      'profiles',
      // plan: free 60 %, pro 25 %, team 10 %, enterprise 5 %; country: 10 values, FR ~12 %.
      `INSERT INTO ${s}.profiles (user_id, properties, created_at, updated_at)
       SELECT 'u' || lpad(i::text, 8, '0'),
              jsonb_build_object(
                'plan', (ARRAY['free','free','free','free','free','free','free','free','free','free','free','free',
                               'pro','pro','pro','pro','pro','team','team','enterprise'])[1 + ${h('i * 5 + 1')} % 20],
                'country', (ARRAY['US','US','FR','DE','GB','ES','IT','BR','IN','JP','CA','FR','US','DE','MX','NL'])[1 + ${h('i * 5 + 2')} % 16],
                'age', 18 + ${h('i * 5')} % 60,
                'newsletter', ${h('i * 5 + 3')} % 3 = 0,
                'signedUpAt', to_char(($1::timestamptz - (${h('i * 5 + 4')} % (720 * ${DAY_S})) * interval '1 second') AT TIME ZONE 'UTC',
                                      'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
              $1::timestamptz, $1::timestamptz
       FROM generate_series(1::bigint, $2::bigint) AS i`,
      [now.toISOString(), users],
    ),
  );

  // 70 % of users have a web push subscription, 5 % of those expired; 8 % have Safari.
  await withoutSecondaryIndexes(pool, s, 'subscriptions', log, () =>
    step(
      'subscriptions',
      `INSERT INTO ${s}.subscriptions (id, user_id, target, endpoint, keys, expiration_time, device_token, created_at, updated_at)
       SELECT 'wp' || i, 'u' || lpad(i::text, 8, '0'), 'webpush',
              'https://fcm.googleapis.com/fcm/send/' || md5(i::text) || md5((i + 1)::text),
              jsonb_build_object('p256dh', md5(i::text), 'auth', left(md5((i * 7)::text), 22)),
              CASE WHEN ${h('i * 3 + 1')} % 20 = 0 THEN to_jsonb(($1::float8 - 86400000)::bigint) END,
              NULL, $2::timestamptz, $2::timestamptz
       FROM generate_series(1::bigint, $3::bigint) AS i WHERE ${h('i * 3')} % 10 < 7
       UNION ALL
       SELECT 'sf' || i, 'u' || lpad(i::text, 8, '0'), 'safari', NULL, NULL, NULL, md5((i * 13)::text), $2::timestamptz, $2::timestamptz
       FROM generate_series(1::bigint, $3::bigint) AS i WHERE ${h('i * 3 + 2')} % 100 < 8`,
      [now.getTime(), now.toISOString(), users],
    ),
  );

  // Event i happens at a time growing with i (appends arrive in time order), by a user picked with a
  // skewed draw (rank = users * r^3, so low ranks are heavy users), scattered over the id space by a
  // multiplier coprime with every size we use (a prime above them). Names: viewed 30 %, added 15 %,
  // opened 15 %, charged 8 %, searched 10 %, shared 7 %, rated 5 %, and three rare ones.
  const NAMES = [
    ...Array(30).fill('viewed'),
    ...Array(15).fill('added'),
    ...Array(15).fill('opened'),
    ...Array(8).fill('charged'),
    ...Array(10).fill('searched'),
    ...Array(7).fill('shared'),
    ...Array(5).fill('rated'),
    ...Array(4).fill('invited'),
    ...Array(4).fill('refunded'),
    ...Array(2).fill('deleted'),
  ];
  await withoutSecondaryIndexes(pool, s, 'events', log, () =>
    step(
      'events',
      `INSERT INTO ${s}.events (user_id, name, "time", properties)
       SELECT 'u' || lpad((1 + (floor($3::float8 * power(${h('i * 4')}::float8 / 4294967296.0, 3))::bigint * 1000003) % $3::bigint)::text, 8, '0'),
              ($4::text[])[1 + ${h('i * 4 + 1')} % ${NAMES.length}],
              $1::timestamptz - ${HISTORY_DAYS * DAY_S} * interval '1 second'
                + ((i - 1) * ${HISTORY_DAYS * DAY_S}::float8 / $2::float8 + ${h('i * 4 + 2')} % 60) * interval '1 second',
              jsonb_build_object('amount', ${h('i * 4 + 3')} % 200, 'source', (ARRAY['web','ios','android'])[1 + ${h('i * 4 + 3')} % 3])
       FROM generate_series(1::bigint, $2::bigint) AS i`,
      [now.toISOString(), events, users, NAMES],
    ),
  );

  for (const table of TABLES) await pool.query(`ALTER TABLE ${s}.${table} RESET (autovacuum_enabled)`);
  await settle(pool, s, log);
  await pool.query(`CREATE TABLE ${s}.bench_marker (marker text NOT NULL)`);
  await pool.query(`INSERT INTO ${s}.bench_marker VALUES ($1)`, [marker]);
  return { ms: Math.round(performance.now() - start), reused: false };
}

/** Runs one statement, logging what it was and how long it took. */
function timedSteps(pool: Db, log: (line: string) => void) {
  return async (what: string, text: string, params: unknown[] = []): Promise<void> => {
    const t = performance.now();
    await pool.query(text, params);
    log(`${what}: ${Math.round(performance.now() - t)} ms`);
  };
}

/**
 * Loading subscriptions rewrote most profile rows (migration 005's trigger keeps their reach columns),
 * and a migration run on stored data may rewrite them too: compact the table, as a restored dump would
 * be. Then the visibility map must end up set, as autovacuum keeps it on a live system, or every
 * index-only scan (count(*) included) would visit the heap.
 */
async function settle(pool: Db, s: string, log: (line: string) => void): Promise<void> {
  const step = timedSteps(pool, log);
  await step('vacuum full profiles', `VACUUM (FULL) ${s}.profiles`);
  for (const table of TABLES) await step(`vacuum analyze ${table}`, `VACUUM (ANALYZE) ${s}.${table}`);
}

async function storedMarker(db: Db, s: string): Promise<string | null> {
  const { rows: found } = await db.query<{ exists: boolean }>(
    `SELECT to_regclass($1) IS NOT NULL AS exists`,
    [`${s}.bench_marker`],
  );
  if (!found[0]?.exists) return null;
  const { rows } = await db.query<{ marker: string }>(`SELECT marker FROM ${s}.bench_marker LIMIT 1`);
  return rows[0]?.marker ?? null;
}

/**
 * Bulk loading the way a DBA does it: drop the table's secondary indexes, load, rebuild them from
 * their own definitions (sorted builds, parallel where Postgres can), so the schema ends exactly as
 * the migrations made it. Primary keys stay: their keys arrive in order.
 */
async function withoutSecondaryIndexes(
  pool: Db,
  s: string,
  table: string,
  log: (line: string) => void,
  load: () => Promise<void>,
): Promise<void> {
  const { rows } = await pool.query<{ name: string; def: string }>(
    `SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS def
     FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
     WHERE x.indrelid = $1::regclass AND NOT x.indisprimary AND NOT EXISTS (
       SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)`,
    [`${s}.${table}`],
  );
  for (const { name } of rows) await pool.query(`DROP INDEX ${s}."${name}"`);
  await load();
  for (const { name, def } of rows) {
    const t = performance.now();
    await pool.query(def);
    log(`index ${name}: ${Math.round(performance.now() - t)} ms`);
  }
}
