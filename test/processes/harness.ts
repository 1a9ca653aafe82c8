import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrate, postgresCounters, postgresQueue, postgresStorage } from '@herald/adapter-postgres';
import { redisCounters, redisQueue } from '@herald/adapter-redis';
import {
  type Clock,
  type Counters,
  createHerald,
  generateVapidKeys,
  type Herald,
  type HeraldEvent,
  type Queue,
  webPush,
} from '@herald/core';
import type { DevPushService } from '@herald/core/dev';
import { Redis } from 'ioredis';
import pg from 'pg';

/**
 * Real processes for issue 15's tests: Herald workers forked from `worker.mjs` on the built packages,
 * a fresh Postgres schema (and Redis key prefix) per test, and the loopback push service of
 * `@herald/core/dev` in the test process counting what it receives per (campaign, occurrence, user)
 * and per sending process.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const WORKER_SCRIPT = fileURLToPath(new URL('./worker.mjs', import.meta.url));
const BUILT_PACKAGES = ['core', 'adapter-postgres', 'adapter-redis'];

/**
 * The workers run the builds, as a host does. Like test/packaging, this needs `npm run build` first
 * (scripts/test.sh and `npm run test:scale` build before the suites).
 */
export function requireBuild(): void {
  for (const name of BUILT_PACKAGES) {
    if (!existsSync(join(root, 'packages', name, 'dist', 'index.js')))
      throw new Error(`packages/${name}/dist is missing: run \`npm run build\` first`);
  }
}

export function requireEnv(name: 'HERALD_TEST_PG_URL' | 'HERALD_TEST_REDIS_URL'): string {
  const value = process.env[name];
  if (!value)
    throw new Error(`${name} is not set: run the suites with scripts/with-services.sh (npm test does)`);
  return value;
}

/** What worker.mjs reads from HERALD_WORKER. */
export interface WorkerConfig {
  /** Also the local part of the process's VAPID subject, which tells the push service who sent what. */
  name: string;
  pgUrl: string;
  schema: string;
  /** Set on the Redis stack: redisQueue + redisCounters on this server. */
  redisUrl?: string;
  redisPrefix?: string;
  pushServiceUrl: string;
  /** The push service's self-signed certificate (it serves HTTP/2 over TLS, like the real ones). */
  pushServiceCa: string;
  vapid: { publicKey: string; privateKey: string };
  reportSecret: string;
  tuning?: {
    concurrency?: number;
    batchSize?: number;
    sendConcurrency?: number;
    pageSize?: number;
    pollIntervalMs?: number;
    leaseMs?: number;
  };
  limits?: { perUser: { perDay?: number; perWeek?: number } };
  /** The first retry's delay of a job or send that failed (Herald's default is 30 s). */
  retryBaseMs?: number;
  /** The rest of the retry policy (attempts, backoff cap), when a test needs it. */
  retry?: { maxAttempts?: number; baseMs?: number; maxMs?: number };
  /** A file holding the instant every process reads as now (the shared fake clock). */
  clockFile?: string;
  poolSize?: number;
}

export interface LogLine {
  level: 'warn' | 'error';
  message: string;
  fields?: Record<string, unknown>;
  at: number;
}

type WorkerMessage =
  | { type: 'ready' }
  | { type: 'claimed'; ids: string[]; at: number }
  | { type: 'released'; id: string }
  | { type: 'event'; event: HeraldEvent }
  | { type: 'log'; level: 'warn' | 'error'; message: string; fields?: Record<string, unknown> }
  | ({ type: 'stopped' } & StopReport);

/** What a worker says when it stopped: messages it counted as sent (onEvent) and the CPU it used. */
export interface StopReport {
  sent: number;
  cpuMs: number;
}

/** One forked worker and what it told the test. */
export class WorkerProcess {
  readonly logs: LogLine[] = [];
  readonly events: HeraldEvent[] = [];
  /** Every claim, in order: a job claimed again after a lease lapsed shows twice. */
  readonly claims: Array<{ id: string; at: number }> = [];
  /** Jobs claimed and not yet completed, retried or failed by this process. */
  readonly held = new Set<string>();
  readonly exited: Promise<number | null>;
  /** When the test saw it exit (ms). */
  exitedAt: number | null = null;
  readonly ready: Promise<void>;
  private stopped: ((report: StopReport) => void) | null = null;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) =>
      child.once('exit', (code) => {
        this.exitedAt = Date.now();
        resolve(code);
      }),
    );
    this.ready = new Promise((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`worker ${name} exited (${code}) before it was ready`)));
      child.on('message', (message: WorkerMessage) => {
        if (message.type === 'ready') resolve();
        this.receive(message);
      });
    });
    // A worker that dies before `ready` rejects it; nobody may be awaiting that later.
    this.ready.catch(() => undefined);
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  private receive(message: WorkerMessage): void {
    switch (message.type) {
      case 'claimed':
        for (const id of message.ids) {
          this.claims.push({ id, at: message.at });
          this.held.add(id);
        }
        break;
      case 'released':
        this.held.delete(message.id);
        break;
      case 'event':
        this.events.push(message.event);
        break;
      case 'log':
        this.logs.push({
          level: message.level,
          message: message.message,
          fields: message.fields,
          at: Date.now(),
        });
        break;
      case 'stopped':
        this.stopped?.({ sent: message.sent, cpuMs: message.cpuMs });
        break;
      case 'ready':
        break;
    }
  }

  /** SIGKILL: no handler runs, nothing is flushed, as when a machine dies. Resolves once it is gone. */
  async kill(): Promise<void> {
    if (this.alive) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** `herald.stop()` in the worker, then exit. */
  async stop(): Promise<StopReport> {
    const stopped = new Promise<StopReport>((resolve) => {
      this.stopped = resolve;
    });
    this.child.send({ type: 'stop' });
    const report = await stopped;
    await this.exited;
    return report;
  }
}

/** The processes a test started; `killAll` in afterAll leaves no orphan, whatever failed. */
export class Fleet {
  readonly workers: WorkerProcess[] = [];

  async start(config: WorkerConfig): Promise<WorkerProcess> {
    const child = fork(WORKER_SCRIPT, [], {
      cwd: root,
      env: { ...process.env, HERALD_WORKER: JSON.stringify(config) },
      // Workers' stderr (their warnings) is the test's: a failing run shows what each process said.
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: [],
    });
    const worker = new WorkerProcess(config.name, child);
    this.workers.push(worker);
    await worker.ready;
    return worker;
  }

  byName(name: string): WorkerProcess {
    const worker = this.workers.find((candidate) => candidate.name === name);
    if (!worker) throw new Error(`no worker ${name}`);
    return worker;
  }

  /** Stops every live worker; returns the CPU the fleet used (ms), for the figures. */
  async stopAll(): Promise<{ cpuMs: number; reports: Map<string, StopReport> }> {
    const reports = new Map<string, StopReport>();
    const live = this.workers.filter((candidate) => candidate.alive);
    await Promise.all(live.map(async (worker) => reports.set(worker.name, await worker.stop())));
    return { cpuMs: [...reports.values()].reduce((sum, report) => sum + report.cpuMs, 0), reports };
  }

  async killAll(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.kill()));
  }
}

export type StackKind = 'postgres' | 'redis';

/**
 * One deployment's shared state, seen from the test: a fresh schema on the Postgres server and, on
 * the Redis stack, a fresh key prefix; a Herald on it in the test process that only creates
 * campaigns and reads stats (it never starts), and the config every worker of this stack gets.
 */
export interface Stack {
  kind: StackKind;
  pool: pg.Pool;
  schema: string;
  queue: Queue;
  counters: Counters;
  herald: Herald;
  workerConfig(name: string, extra?: Partial<WorkerConfig>): WorkerConfig;
  close(): Promise<void>;
}

export async function openStack(options: {
  kind: StackKind;
  label: string;
  pgUrl: string;
  redisUrl?: string;
  service: DevPushService;
  /** The test-side Herald's clock (campaigns.schedule reads it), when the workers run on a shared fake one. */
  clock?: Clock;
}): Promise<Stack> {
  const { kind, service } = options;
  const suffix = randomBytes(4).toString('hex');
  const schema = `procs_${options.label}_${suffix}`;
  const redisPrefix = `procs:${options.label}:${suffix}`;
  const pool = new pg.Pool({ connectionString: options.pgUrl, max: 6 });
  pool.on('error', () => undefined);
  await migrate({ client: pool, schema });
  let redis: Redis | null = null;
  if (kind === 'redis') {
    if (!options.redisUrl) throw new Error('the Redis stack needs a Redis URL');
    redis = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
    redis.on('error', () => undefined);
  }
  const queue = redis
    ? redisQueue({ connection: redis, prefix: redisPrefix })
    : postgresQueue({ client: pool, schema });
  const counters = redis
    ? redisCounters({ connection: redis, prefix: redisPrefix })
    : postgresCounters({ client: pool, schema });
  const vapid = generateVapidKeys();
  const reportSecret = randomBytes(32).toString('base64url');
  const herald = createHerald({
    storage: postgresStorage({ client: pool, schema }),
    queue,
    counters,
    providers: { webpush: webPush({ vapid: { subject: 'mailto:test@example.com', ...vapid } }) },
    allowEndpoint: [service.url],
    reportSecret,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  return {
    kind,
    pool,
    schema,
    queue,
    counters,
    herald,
    workerConfig: (name, extra = {}) => ({
      name,
      pgUrl: options.pgUrl,
      schema,
      ...(redis ? { redisUrl: options.redisUrl, redisPrefix } : {}),
      pushServiceUrl: service.url,
      pushServiceCa: service.ca ?? '',
      vapid,
      reportSecret,
      ...extra,
    }),
    async close() {
      await slowStepNoted('herald.stop() of the test side', () => herald.stop());
      if (redis) {
        const connection = redis;
        await slowStepNoted('deleting the Redis keys', async () => {
          const keys = await connection.keys(`${redisPrefix}:*`);
          if (keys.length > 0) await connection.del(...keys);
        });
        redis.disconnect();
      }
      await slowStepNoted('dropping the schema', () => dropSchema(pool, schema));
      await slowStepNoted('ending the pool', () => pool.end());
    },
  };
}

/**
 * Runs one teardown step; one still running after 15 s is said on stderr (and again when it ends), so
 * a hook that times out names the step it waited on.
 */
export async function slowStepNoted<T>(step: string, run: () => Promise<T>): Promise<T> {
  const began = Date.now();
  const timer = setTimeout(
    () => process.stderr.write(`teardown: ${step} still running after 15 s\n`),
    15_000,
  );
  try {
    return await run();
  } finally {
    clearTimeout(timer);
    const ms = Date.now() - began;
    if (ms >= 15_000) process.stderr.write(`teardown: ${step} took ${ms} ms\n`);
  }
}

/**
 * afterAll of a process test: kills what is left of the fleet, then closes the stack and the push
 * service, each step named on stderr if it is slow.
 */
export async function tearDown({
  fleet,
  stack,
  service,
}: {
  fleet?: Fleet;
  stack?: Stack;
  service?: DevPushService;
}): Promise<void> {
  if (fleet) await slowStepNoted('killing the workers', () => fleet.killAll());
  await stack?.close();
  if (service) await slowStepNoted('stopping the push service', () => service.stop());
}

/**
 * DROP SCHEMA waits for every lock on the schema's tables. A backend of a killed worker can hold one
 * until the server notices the connection is gone: wait up to 30 s, then say who holds what, and
 * leave the schema (the server is a throwaway one).
 */
async function dropSchema(pool: pg.Pool, schema: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query(`SET lock_timeout = '30s'`);
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } catch (error) {
    const { rows } = await client
      .query(
        `SELECT pid, state, wait_event_type, wait_event, now() - xact_start AS in_transaction, left(query, 120) AS query
         FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND datname = current_database() AND state <> 'idle'`,
      )
      .catch(() => ({ rows: [] }));
    process.stderr.write(
      `teardown: schema ${schema} left in place (${(error as Error).message}); busy backends: ${JSON.stringify(rows)}\n`,
    );
  } finally {
    client.release(true);
  }
}

/**
 * `count` users u00000… with one real subscription each on the push service. Rows go in one bulk
 * INSERT per table: 20,000 `subscriptions.add` calls would take a minute of a loaded CI machine
 * and prove nothing these tests are about. Returns the users' ids.
 */
export async function seedAudience(
  stack: Stack,
  service: DevPushService,
  count: number,
  prefix = 'u',
): Promise<string[]> {
  const users: string[] = [];
  const subscriptions: Array<Record<string, unknown>> = [];
  for (let i = 0; i < count; i++) {
    const userId = `${prefix}${String(i).padStart(5, '0')}`;
    const subscription = service.createSubscription();
    users.push(userId);
    subscriptions.push({
      id: stack.herald.subscriptions.idForEndpoint(subscription.endpoint),
      user_id: userId,
      endpoint: subscription.endpoint,
      keys: subscription.keys,
    });
  }
  const { schema } = stack;
  await stack.pool.query(
    `INSERT INTO ${schema}.profiles (user_id, properties, timezone, test, created_at, updated_at)
     SELECT user_id, '{}', 'UTC', false, now(), now() FROM unnest($1::text[]) AS user_id`,
    [users],
  );
  await stack.pool.query(
    `INSERT INTO ${schema}.subscriptions
       (id, user_id, target, endpoint, keys, expiration_time, device_token, timezone, created_at, updated_at)
     SELECT id, user_id, 'webpush', endpoint, keys, 'null'::jsonb, NULL, NULL, now(), now()
     FROM jsonb_to_recordset($1::jsonb) AS row(id text, user_id text, endpoint text, keys jsonb)`,
    [JSON.stringify(subscriptions)],
  );
  return users;
}

/** A one-time campaign to everyone, due now, scheduled: the workers' schedulers start it. */
export async function scheduleCampaignNow(stack: Stack, name: string): Promise<string> {
  const campaign = await stack.herald.campaigns.create({
    name,
    when: { schedule: { type: 'once', at: new Date().toISOString() } },
    who: { segment: { type: 'all' } },
    what: {
      title: name,
      body: 'Thirty percent off until Sunday.',
      deeplink: 'https://shop.example.com/sale',
    },
  });
  await stack.herald.campaigns.schedule(campaign.id);
  return campaign.id;
}

export interface Receipt {
  campaignId: string;
  occurrence: string;
  userId: string;
  /** The worker whose VAPID subject signed the request. */
  sender: string;
  at: number;
}

/** What the push service received, read incrementally from its log and keyed as the issue counts. */
export class Receipts {
  readonly all: Receipt[] = [];
  private read = 0;

  constructor(private readonly service: DevPushService) {}

  update(): this {
    const received = this.service.received;
    for (; this.read < received.length; this.read++) {
      const message = received[this.read]!;
      const payload = JSON.parse(message.plaintext) as {
        herald: { campaignId: string; occurrence: string; userId: string };
      };
      this.all.push({
        campaignId: payload.herald.campaignId,
        occurrence: payload.herald.occurrence,
        userId: payload.herald.userId,
        sender: message.vapid.sub.replace(/^mailto:worker-/, '').replace(/@example\.com$/, ''),
        at: message.receivedAt.getTime(),
      });
    }
    return this;
  }

  get count(): number {
    return this.update().all.length;
  }

  /** Receipts per (campaign, occurrence, user). */
  perMessage(): Map<string, Receipt[]> {
    const grouped = new Map<string, Receipt[]>();
    for (const receipt of this.update().all) {
      const key = messageKey(receipt);
      const list = grouped.get(key);
      if (list) list.push(receipt);
      else grouped.set(key, [receipt]);
    }
    return grouped;
  }

  perSender(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const receipt of this.update().all)
      counts.set(receipt.sender, (counts.get(receipt.sender) ?? 0) + 1);
    return counts;
  }

  perUser(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const receipt of this.update().all)
      counts.set(receipt.userId, (counts.get(receipt.userId) ?? 0) + 1);
    return counts;
  }
}

export const messageKey = (receipt: Pick<Receipt, 'campaignId' | 'occurrence' | 'userId'>): string =>
  `${receipt.campaignId}|${receipt.occurrence}|${receipt.userId}`;

export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
}

/** Recipient rows of these campaigns by state, read from the table. */
export async function recipientStates(stack: Stack, campaignIds: string[]): Promise<Map<string, number>> {
  const { rows } = await stack.pool.query<{ state: string; n: string }>(
    `SELECT state, count(*) AS n FROM ${stack.schema}.recipients WHERE campaign_id = ANY($1) GROUP BY state`,
    [campaignIds],
  );
  return new Map(rows.map((row) => [row.state, Number(row.n)]));
}

/**
 * Done: every expected recipient row exists and none is pending, and the queue holds nothing waiting
 * or running (a late duplicate job would still be there).
 */
export async function waitForCompletion(
  stack: Stack,
  campaignIds: string[],
  expectedRecipients: number,
  timeoutMs: number,
): Promise<void> {
  await waitFor(
    `${expectedRecipients} settled recipients and an empty queue`,
    async () => {
      const states = await recipientStates(stack, campaignIds).catch(() => null);
      if (!states) return false;
      const total = [...states.values()].reduce((sum, n) => sum + n, 0);
      if (total < expectedRecipients || (states.get('pending') ?? 0) > 0) return false;
      const counts = await stack.queue.counts().catch(() => null);
      return counts !== null && counts.waiting === 0 && counts.active === 0;
    },
    { timeoutMs, intervalMs: 250 },
  );
}

/** `sent` decisions per user of these campaigns: the decision log, read from its table. */
export async function sentDecisionsPerUser(
  stack: Stack,
  campaignIds: string[],
): Promise<Map<string, number>> {
  const { rows } = await stack.pool.query<{ user_id: string; n: string }>(
    `SELECT user_id, count(*) AS n FROM ${stack.schema}.decisions
     WHERE campaign_id = ANY($1) AND outcome = 'sent' GROUP BY user_id`,
    [campaignIds],
  );
  return new Map(rows.map((row) => [row.user_id, Number(row.n)]));
}

/** Which of these (campaign, occurrence, user) messages have an outcome recorded in the deliveries table. */
export async function recordedOutcomes(stack: Stack, keys: Receipt[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const { rows } = await stack.pool.query<{ campaign_id: string; occurrence: string; user_id: string }>(
    `SELECT d.campaign_id, d.occurrence, d.user_id FROM ${stack.schema}.deliveries d
     JOIN jsonb_to_recordset($1::jsonb) AS k(campaign_id text, occurrence text, user_id text)
       ON d.campaign_id = k.campaign_id AND d.occurrence = k.occurrence AND d.user_id = k.user_id`,
    [
      JSON.stringify(
        keys.map((key) => ({ campaign_id: key.campaignId, occurrence: key.occurrence, user_id: key.userId })),
      ),
    ],
  );
  return new Set(
    rows.map((row) =>
      messageKey({ campaignId: row.campaign_id, occurrence: row.occurrence, userId: row.user_id }),
    ),
  );
}
