import type {
  CampaignId,
  Delivery,
  InsertedRecipients,
  Interaction,
  Recipient,
  RecipientInsert,
  RecipientUpdate,
  StoredCampaignTallies,
  UserId,
} from '@herald/core';
import { Delivery as DeliverySchema, Recipient as RecipientSchema, RecipientState } from '@herald/core';
import type { SqlClient } from '../sql/client.js';
import { decisionRow } from './decisions.js';
import { iso, parseRow, unique } from './rows.js';

interface RecipientRow {
  campaign_id: string;
  occurrence: string;
  user_id: string;
  state: string;
  reason: string | null;
  created_at: Date;
  updated_at: Date;
}

interface DeliveryRow {
  campaign_id: string;
  occurrence: string;
  user_id: string;
  subscription_id: string;
  status: string;
  status_code: number | null;
  reason: string | null;
  attempts: number;
  at: Date;
  browser: string | null;
  browser_target: string | null;
}

interface InteractionRow {
  report_id: string;
  campaign_id: string;
  occurrence: string;
  user_id: string;
  kind: Interaction['kind'];
  action: string | null;
  at: Date;
}

const toRecipient = (row: RecipientRow): Recipient =>
  parseRow(RecipientSchema, 'recipients', `${row.campaign_id}/${row.occurrence}/${row.user_id}`, {
    campaignId: row.campaign_id,
    occurrence: row.occurrence,
    userId: row.user_id,
    state: row.state,
    reason: row.reason,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });

const toDelivery = (row: DeliveryRow): Delivery =>
  parseRow(DeliverySchema, 'deliveries', `${row.campaign_id}/${row.occurrence}/${row.subscription_id}`, {
    campaignId: row.campaign_id,
    occurrence: row.occurrence,
    userId: row.user_id,
    subscriptionId: row.subscription_id,
    status: row.status,
    statusCode: row.status_code,
    reason: row.reason,
    attempts: row.attempts,
    at: row.at,
    browser: row.browser === null ? null : { name: row.browser, target: row.browser_target },
  });

/**
 * Per-recipient decisions, per-subscription outcomes and reports (recorded,
 * and read back as a user's history). Batches
 * go in as one statement each: the rows travel as one JSON array parameter
 * (`jsonb_to_recordset`), so a batch of thousands is one round trip and
 * never hits the 65,535 bind-parameter limit. Primary keys with
 * ON CONFLICT DO NOTHING make every write idempotent.
 */
export function outcomes(sql: SqlClient, schema: string) {
  return {
    async insertRecipients(recipients: readonly RecipientInsert[]): Promise<InsertedRecipients> {
      if (recipients.length === 0) return { inserted: 0, insertedUserIds: [] };
      const rows = recipients.map((recipient) => ({
        campaign_id: recipient.campaignId,
        occurrence: recipient.occurrence,
        user_id: recipient.userId,
        state: recipient.state,
        reason: recipient.reason,
        created_at: iso(recipient.createdAt),
        updated_at: iso(recipient.updatedAt),
        decision: recipient.decision === undefined ? null : decisionRow(recipient.decision),
      }));
      // The new rows' user ids as one array value, not a row each: a batch of thousands stays one small result.
      // A row's decision goes in with it, in the same statement, only if the row is new (RETURNING).
      const decided = rows.some((row) => row.decision !== null);
      const result = await sql.query<{ users: UserId[] }>(
        `WITH r AS (
           SELECT * FROM ROWS FROM (jsonb_to_recordset($1::text::jsonb) AS (campaign_id text, occurrence text,
             user_id text, state text, reason text, created_at timestamptz, updated_at timestamptz, decision jsonb))
             WITH ORDINALITY AS r(campaign_id, occurrence, user_id, state, reason, created_at, updated_at, decision, ord)),
         added AS (
           INSERT INTO ${schema}.recipients (campaign_id, occurrence, user_id, state, reason, created_at, updated_at)
           SELECT campaign_id, occurrence, user_id, state, reason, created_at, updated_at FROM r
           ON CONFLICT DO NOTHING RETURNING campaign_id, occurrence, user_id)${
             decided
               ? `,
         logged AS (
           INSERT INTO ${schema}.decisions (campaign_id, occurrence, user_id, at, outcome, reason, facts)
           SELECT d.campaign_id, d.occurrence, d.user_id, d.at, d.outcome, d.reason, d.facts
           FROM added JOIN r USING (campaign_id, occurrence, user_id)
             CROSS JOIN LATERAL jsonb_to_record(r.decision) AS d(campaign_id text, occurrence text, user_id text,
               at timestamptz, outcome text, reason text, facts jsonb)
           WHERE r.decision IS NOT NULL
           ORDER BY r.ord)`
               : ''
           }
         SELECT coalesce(array_agg(user_id), '{}') AS users FROM added`,
        [JSON.stringify(rows)],
        { prepare: true },
      );
      const insertedUserIds = result.rows[0]?.users ?? [];
      return { inserted: insertedUserIds.length, insertedUserIds };
    },

    async getRecipients(
      campaignId: CampaignId,
      occurrence: string,
      userIds: readonly UserId[],
    ): Promise<Recipient[]> {
      const ids = unique(userIds);
      if (ids.length === 0) return [];
      const { rows } = await sql.query<RecipientRow>(
        recipientsOfUsersSql(schema),
        [campaignId, occurrence, ids],
        { prepare: true },
      );
      const byId = new Map(rows.map((row) => [row.user_id, row]));
      return ids.flatMap((id) => {
        const row = byId.get(id);
        return row ? [toRecipient(row)] : [];
      });
    },

    async updateRecipients(updates: readonly RecipientUpdate[], now: Date): Promise<void> {
      if (updates.length === 0) return;
      // One row per key (the last update wins, as applying them in order would): UPDATE ... FROM must not see a target twice.
      const last = new Map(
        updates.map((update) => [
          JSON.stringify([update.campaignId, update.occurrence, update.userId]),
          update,
        ]),
      );
      const rows = [...last.values()].map((update) => ({
        campaign_id: update.campaignId,
        occurrence: update.occurrence,
        user_id: update.userId,
        state: update.state,
        reason: update.reason,
        decision: update.decision === undefined ? null : decisionRow(update.decision),
      }));
      // The transitions and their decisions in one statement, so they commit together or not at all; a
      // row with a decision moves only while it is pending, exactly once under concurrency. The function
      // (migration 019) probes the primary key per row whatever the statistics say.
      await sql.query(
        `SELECT ${schema}.update_recipients($1::text::jsonb, $2::timestamptz)`,
        [JSON.stringify(rows), iso(now)],
        { prepare: true },
      );
    },

    async recordDeliveries(deliveries: readonly Delivery[]): Promise<void> {
      if (deliveries.length === 0) return;
      const rows = deliveries.map((delivery) => ({
        campaign_id: delivery.campaignId,
        occurrence: delivery.occurrence,
        subscription_id: delivery.subscriptionId,
        user_id: delivery.userId,
        status: delivery.status,
        status_code: delivery.statusCode,
        reason: delivery.reason,
        attempts: delivery.attempts,
        at: iso(delivery.at),
        browser: delivery.browser?.name ?? null,
        browser_target: delivery.browser?.target ?? null,
      }));
      await sql.query(
        `INSERT INTO ${schema}.deliveries (campaign_id, occurrence, subscription_id, user_id, status, status_code, reason,
           attempts, at, browser, browser_target)
         SELECT campaign_id, occurrence, subscription_id, user_id, status, status_code, reason, attempts, at, browser,
           browser_target
         FROM jsonb_to_recordset($1::text::jsonb) AS r(campaign_id text, occurrence text, subscription_id text,
           user_id text, status text, status_code integer, reason text, attempts integer, at timestamptz,
           browser text, browser_target text)
         ON CONFLICT DO NOTHING`,
        [JSON.stringify(rows)],
        { prepare: true },
      );
    },

    async listDeliveries(
      campaignId: CampaignId,
      occurrence: string,
      userIds: readonly UserId[],
    ): Promise<Delivery[]> {
      const ids = unique(userIds);
      if (ids.length === 0) return [];
      const { rows } = await sql.query<DeliveryRow>(
        deliveriesOfUsersSql(schema),
        [campaignId, occurrence, ids],
        { prepare: true },
      );
      return rows.map(toDelivery);
    },

    async recordInteraction(interaction: Interaction): Promise<boolean> {
      const { rows } = await sql.query(
        `INSERT INTO ${schema}.interactions (report_id, campaign_id, occurrence, user_id, kind, action, at, browser,
           browser_target)
         VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz, $8, $9) ON CONFLICT (report_id) DO NOTHING RETURNING report_id`,
        [
          interaction.reportId,
          interaction.campaignId,
          interaction.occurrence,
          interaction.userId,
          interaction.kind,
          interaction.action,
          iso(interaction.at),
          interaction.browser?.name ?? null,
          interaction.browser?.target ?? null,
        ],
      );
      return rows.length > 0;
    },

    async listInteractions(query: { userId: UserId; since?: Date }): Promise<Interaction[]> {
      const params: unknown[] = [query.userId];
      const since =
        query.since === undefined ? '' : ` AND at >= $${params.push(iso(query.since))}::timestamptz`;
      const { rows } = await sql.query<InteractionRow>(
        `SELECT report_id, campaign_id, occurrence, user_id, kind, action, at FROM ${schema}.interactions
         WHERE user_id = $1${since} ORDER BY at, report_id`,
        params,
      );
      return rows.map((row) => ({
        reportId: row.report_id,
        campaignId: row.campaign_id as CampaignId,
        occurrence: row.occurrence,
        userId: row.user_id as UserId,
        kind: row.kind,
        action: row.action,
        at: row.at,
      }));
    },

    async campaignTallies(campaignId: CampaignId): Promise<StoredCampaignTallies> {
      const tallies: StoredCampaignTallies = {
        recipients: Object.fromEntries(
          RecipientState.options.map((state) => [state, 0]),
        ) as StoredCampaignTallies['recipients'],
        skipped: {},
        deliveries: { sent: 0, failed: 0, gone: 0 },
        interactions: { viewed: 0, clicked: 0, closed: 0, clickedByAction: {} },
      };
      const [recipients, deliveries, interactions] = await Promise.all([
        sql.query<{ state: string; reason: string | null; n: number }>(
          // The tallies kept by triggers (migration 010), not a count of the campaign's recipients.
          `SELECT state, nullif(reason, '') AS reason, sum(n)::int AS n FROM ${schema}.recipient_tallies
           WHERE campaign_id = $1 AND n <> 0 GROUP BY state, reason`,
          [campaignId],
        ),
        sql.query<{ status: string; n: number }>(
          `SELECT status, sum(n)::int AS n FROM ${schema}.delivery_tallies WHERE campaign_id = $1 AND n <> 0 GROUP BY status`,
          [campaignId],
        ),
        sql.query<{ kind: string; action: string | null; n: number }>(
          // Reports too, from the tallies of migration 011.
          `SELECT kind, nullif(action, '') AS action, sum(n)::int AS n FROM ${schema}.interaction_tallies
           WHERE campaign_id = $1 AND n <> 0 GROUP BY kind, action`,
          [campaignId],
        ),
      ]);
      for (const row of recipients.rows) {
        const state = RecipientState.safeParse(row.state);
        if (!state.success) continue;
        tallies.recipients[state.data] += row.n;
        if (state.data === 'skipped' && row.reason !== null) add(tallies.skipped, row.reason, row.n);
      }
      for (const row of deliveries.rows) {
        if (row.status === 'sent' || row.status === 'failed' || row.status === 'gone')
          tallies.deliveries[row.status] += row.n;
      }
      for (const row of interactions.rows) {
        if (row.kind !== 'viewed' && row.kind !== 'clicked' && row.kind !== 'closed') continue;
        tallies.interactions[row.kind] += row.n;
        if (row.kind === 'clicked' && row.action !== null)
          add(tallies.interactions.clickedByAction, row.action, row.n);
      }
      return tallies;
    },
  };
}

function add(counts: Record<string, number>, key: string, n: number): void {
  counts[key] = (counts[key] ?? 0) + n;
}

/*
 * A job's reads of its users' rows in a campaign run: one probe of the (campaign_id, occurrence,
 * user_id) index per user, whatever the statistics say. Written as `user_id = ANY($3)`, the planner
 * estimated the run's rows from the statistics of the table as last analyzed: a new campaign (not in
 * them), or a first one on a fresh install (the tables analyzed empty), came out at one row, so it
 * read the run's whole index range and filtered the users, not one descent each: at 20,000
 * recipients about 6 ms a call, paid twice or three times on every retried message (bench/delivery
 * `--unavailable`).
 * The LATERAL subquery is kept apart by OFFSET 0, so its user is a plain equality of the index.
 */

/** $1 campaign, $2 occurrence, $3 user ids: their recipient rows. */
export function recipientsOfUsersSql(schema: string): string {
  return `SELECT r.campaign_id, r.occurrence, r.user_id, r.state, r.reason, r.created_at, r.updated_at
    FROM unnest($3::text[]) AS wanted(user_id)
    CROSS JOIN LATERAL (
      SELECT * FROM ${schema}.recipients
      WHERE campaign_id = $1 AND occurrence = $2 AND user_id = wanted.user_id OFFSET 0) r`;
}

/** $1 campaign, $2 occurrence, $3 user ids: their deliveries, by user and subscription id (code point). */
export function deliveriesOfUsersSql(schema: string): string {
  return `SELECT d.campaign_id, d.occurrence, d.user_id, d.subscription_id, d.status, d.status_code, d.reason,
      d.attempts, d.at, d.browser, d.browser_target
    FROM unnest($3::text[]) AS wanted(user_id)
    CROSS JOIN LATERAL (
      SELECT * FROM ${schema}.deliveries
      WHERE campaign_id = $1 AND occurrence = $2 AND user_id = wanted.user_id OFFSET 0) d
    ORDER BY d.user_id COLLATE "C", d.subscription_id COLLATE "C"`;
}
