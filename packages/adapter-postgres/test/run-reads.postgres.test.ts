import type { CampaignId, UserId } from '@herald/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { postgresStorage, type SqlClient } from '../src/index.js';
import { type Backend, openBackend } from './helpers.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 120_000 });

/** A run as large as the one the delivery benchmark measured the wrong plan on. */
const RUN_SIZE = 50_000;
const CAMPAIGN = 'campaign-1' as CampaignId;
const OCCURRENCE = '2030-01-01T09:00:00.000Z';
/** One delivery job's users, from the middle of the run. */
const JOB_USERS = Array.from({ length: 250 }, (_, index) => userId(20_001 + index));

function userId(n: number): UserId {
  return `user-${String(n).padStart(6, '0')}` as UserId;
}

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Filter?: string;
  Plans?: PlanNode[];
}

function scans(node: PlanNode): PlanNode[] {
  const own = node['Node Type'].includes('Scan') && node['Node Type'] !== 'Function Scan' ? [node] : [];
  return [...own, ...(node.Plans ?? []).flatMap(scans)];
}

/**
 * The reads a delivery job makes of its own run (`getRecipients`, `listDeliveries`) on tables
 * autovacuum has not analyzed yet: the planner then believes a run holds one row, and a
 * `user_id = ANY(...)` filter on an index of (campaign_id, occurrence) read the whole run for
 * every job. Each read must probe by user whatever the statistics say.
 */
describe('reads of one run by user on never-analyzed tables (Postgres)', () => {
  let backend: Backend;
  const statements: { text: string; params: readonly unknown[] }[] = [];
  let storage: ReturnType<typeof postgresStorage>;

  beforeAll(async () => {
    backend = await openBackend('postgres', 'run_reads');
    // The real server, with every statement the storage sends kept for EXPLAIN.
    const recording: SqlClient = {
      query: (text, params = []) => {
        statements.push({ text, params });
        return backend.sql.query(text, params);
      },
      transaction: (fn) => backend.sql.transaction(fn),
    };
    storage = postgresStorage({ client: recording, schema: backend.schema });
    // Generated in SQL: the test is about reading, not about 100,000 rows written through the API.
    const schema = `"${backend.schema}"`;
    await backend.sql.query(
      `INSERT INTO ${schema}.recipients (campaign_id, occurrence, user_id, state, reason, created_at, updated_at)
       SELECT $1, $2, 'user-' || lpad(i::text, 6, '0'), 'delivered', NULL, $3::timestamptz, $3::timestamptz
       FROM generate_series(1, $4::int) AS i`,
      [CAMPAIGN, OCCURRENCE, OCCURRENCE, RUN_SIZE],
    );
    await backend.sql.query(
      `INSERT INTO ${schema}.deliveries (campaign_id, occurrence, subscription_id, user_id, status, status_code,
         reason, attempts, at)
       SELECT $1, $2, 'sub-' || i, 'user-' || lpad(i::text, 6, '0'), 'sent', 201, NULL, 1, $3::timestamptz
       FROM generate_series(1, $4::int) AS i`,
      [CAMPAIGN, OCCURRENCE, OCCURRENCE, RUN_SIZE],
    );
  });
  afterAll(() => backend.close());

  async function planOf(read: () => Promise<unknown>): Promise<PlanNode> {
    statements.length = 0;
    await read();
    const [statement] = statements;
    if (!statement || statements.length !== 1)
      throw new Error(`expected one statement, got ${statements.length}`);
    const { rows } = await backend.sql.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
      `EXPLAIN (FORMAT JSON) ${statement.text}`,
      statement.params,
    );
    return (rows[0] as { 'QUERY PLAN': [{ Plan: PlanNode }] })['QUERY PLAN'][0].Plan;
  }

  it('runs on tables the server has never analyzed (what this file is about)', async () => {
    const { rows } = await backend.sql.query<{ relname: string; reltuples: number }>(
      `SELECT relname, reltuples FROM pg_class
       WHERE relnamespace = $1::regnamespace AND relname IN ('recipients', 'deliveries') ORDER BY relname`,
      [`"${backend.schema}"`],
    );
    expect(rows).toEqual([
      { relname: 'deliveries', reltuples: -1 },
      { relname: 'recipients', reltuples: -1 },
    ]);
  });

  it('getRecipients probes the primary key once per user and returns them in the order asked', async () => {
    const plan = await planOf(() => storage.getRecipients(CAMPAIGN, OCCURRENCE, JOB_USERS));
    expect(scans(plan).map((scan) => [scan['Index Name'], scan['Index Cond']?.includes('user_id')])).toEqual([
      ['recipients_pkey', true],
    ]);
    const recipients = await storage.getRecipients(CAMPAIGN, OCCURRENCE, [...JOB_USERS].reverse());
    expect(recipients.map((recipient) => recipient.userId)).toEqual([...JOB_USERS].reverse());
    expect(recipients.every((recipient) => recipient.state === 'delivered')).toBe(true);
  });

  it('listDeliveries probes deliveries_recipient_idx once per user and returns them by user', async () => {
    const plan = await planOf(() => storage.listDeliveries(CAMPAIGN, OCCURRENCE, JOB_USERS));
    expect(scans(plan).map((scan) => [scan['Index Name'], scan['Index Cond']?.includes('user_id')])).toEqual([
      ['deliveries_recipient_idx', true],
    ]);
    const deliveries = await storage.listDeliveries(CAMPAIGN, OCCURRENCE, [...JOB_USERS].reverse());
    expect(deliveries.map((delivery) => delivery.userId)).toEqual(JOB_USERS);
    expect(deliveries[0]).toMatchObject({ subscriptionId: 'sub-20001', status: 'sent', statusCode: 201 });
  });
});
