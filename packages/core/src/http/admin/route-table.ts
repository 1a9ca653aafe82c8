import type { z } from 'zod';
import type { Herald } from '../../engine/api.js';
import { CampaignPatch } from '../../engine/campaigns/index.js';
import { NotFoundError, ValidationError } from '../../errors/index.js';
import {
  type Campaign,
  CampaignInput,
  Campaign as CampaignSchema,
  EventInput,
  Profile,
  SavedSegment,
  SegmentInput,
  type Subscription,
  UserEvent,
} from '../../model/index.js';
import type { HttpRequest } from '../handlers.js';
import {
  CampaignBrowsersSchema,
  CampaignHistoryList,
  CampaignList,
  CampaignListQuery,
  CampaignPath,
  CampaignRunsSchema,
  CampaignStatsSchema,
  CampaignSummaryList,
  CampaignTimelineSchema,
  ExplanationSchema,
  ForecastSchema,
  PreviewBody,
  PreviewSchema,
  ProfileBody,
  ReachSchema,
  SegmentPath,
  SegmentReachBody,
  SubscriptionPath,
  SubscriptionSummaryList,
  TestFlagBody,
  TestSendBody,
  TestSendResults,
  UserPath,
  UserQuery,
} from './schemas.js';

/**
 * A request body handed on to a service method: its static type is unknown
 * until parsed, and the service parses it (the same zod schema, with paths
 * and suggestions in its ValidationError), so it is passed as the method's
 * input type rather than parsed twice.
 */
function parsedByService<Input>(body: unknown): Input {
  return body as Input;
}

/** What a route's handler gets: inputs already validated against the route's schemas. */
export interface RouteInput<Params, Query, Body> {
  herald: Herald;
  params: Params;
  query: Query;
  body: Body;
  /** The body as sent, for services that parse (and default) it themselves. */
  rawBody: unknown;
  request: HttpRequest;
  /** Where the API is mounted, for Location headers ('' when unknown: relative). */
  mountPath: string;
  /** Who the authoriser said is asking: the actor of the campaign's history. */
  principal: string;
  /** The version a single-tag If-Match names (campaignVersion 'if-match' routes): the service checks it atomically. */
  expectedVersion: number | undefined;
}

export interface RouteResult {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Ids this change touched, for the audit record (never bodies). */
  audit?: Record<string, string>;
}

type Shape = z.ZodObject;

export interface RouteDefinition<
  P extends Shape = Shape,
  Q extends Shape = Shape,
  B extends z.ZodType = z.ZodType,
> {
  operationId: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** OpenAPI path template, relative to the mount point: `/campaigns/{id}`. */
  path: string;
  tag: 'campaigns' | 'segments' | 'profiles' | 'events' | 'meta';
  summary: string;
  description?: string;
  params?: P;
  query?: Q;
  body?: B;
  /** Examples of a request body, by name, shown in the OpenAPI document. */
  examples?: Record<string, { summary: string; value: unknown }>;
  /** Success answer: status, schema (none for 204) and what it means. */
  response: { status: number; schema?: z.ZodType; description: string };
  /** Changes state: audited, and an authoriser may refuse it to read-only callers. */
  changes: boolean;
  /**
   * The answer is a campaign: it carries an ETag. 'if-match': If-Match is
   * honoured, as `expectedVersion` handed to the service (412 when stale).
   */
  campaignVersion?: 'etag' | 'if-match';
  /** Idempotency-Key accepted. */
  idempotent?: boolean;
  /** No authorisation (the OpenAPI document itself). */
  public?: boolean;
  /** Error statuses this route can answer besides 400/401/403/415/413. */
  errors: number[];
  handle(input: RouteInput<z.output<P>, z.output<Q>, z.output<B>>): Promise<RouteResult>;
}

/** A route with its types erased, as the table holds it. */
export type AdminRoute = RouteDefinition<Shape, Shape, z.ZodType>;

function route<P extends Shape, Q extends Shape, B extends z.ZodType>(
  definition: RouteDefinition<P, Q, B>,
): AdminRoute {
  return definition as unknown as AdminRoute;
}

/** The campaign's version as an HTTP entity tag. */
export const etagOf = (campaign: Pick<Campaign, 'version'>) => `"${campaign.version}"`;

const campaignResult = (campaign: Campaign, status = 200): RouteResult => ({
  status,
  body: campaign,
  audit: { campaignId: campaign.id, version: String(campaign.version) },
});

function subscriptionSummary(subscription: Subscription) {
  return {
    id: subscription.id,
    target: subscription.target,
    userId: subscription.userId,
    endpoint: subscription.target === 'webpush' ? subscription.endpoint : null,
    timezone: subscription.timezone ?? null,
    createdAt: subscription.createdAt,
    updatedAt: subscription.updatedAt,
  };
}

interface ListCursor {
  createdAt: string;
  id: string;
}

function encodeCursor(campaign: Campaign): string {
  const cursor: ListCursor = { createdAt: campaign.createdAt.toISOString(), id: campaign.id };
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(cursor: string): ListCursor {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as ListCursor;
    if (typeof value.createdAt === 'string' && typeof value.id === 'string') return value;
  } catch {
    // falls through to the refusal below
  }
  throw new ValidationError('query', [{ path: 'cursor', message: 'not a cursor this API gave out' }]);
}

/** Newest first; ties (same instant) by id, so the order is total and a cursor is exact. */
function newestFirst(a: Campaign, b: Campaign): number {
  const byTime = b.createdAt.getTime() - a.createdAt.getTime();
  return byTime !== 0 ? byTime : a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

const exampleCampaign = {
  name: 'Spring sale',
  labels: ['promo'],
  when: { schedule: { type: 'once', at: '2026-03-01T10:00:00Z' }, timezone: 'Europe/Paris' },
  who: { segment: { type: 'property', condition: { op: 'eq', property: 'plan', value: 'pro' } } },
  what: {
    title: 'Hi {{ user.first_name | default: "there" }}, the sale is on',
    body: '20% off until Sunday.',
    deeplink: 'https://example.com/sale',
  },
  setup: { controlGroupPercent: 10 },
};

const campaignPath = CampaignPath;

/**
 * A read-only view of one campaign, `GET /campaigns/{id}/{view}`: the service's answer as it is,
 * 404 when there is no such campaign (and any other error status the route names).
 */
function campaignView(
  view: 'stats' | 'runs' | 'timeline' | 'browsers' | 'forecast',
  definition: Pick<RouteDefinition, 'operationId' | 'summary' | 'description' | 'response'> &
    Partial<Pick<RouteDefinition, 'errors'>>,
): AdminRoute {
  return route({
    method: 'GET',
    path: `/campaigns/{id}/${view}`,
    tag: 'campaigns',
    params: campaignPath,
    changes: false,
    errors: [404],
    ...definition,
    async handle({ herald, params }) {
      return { body: await herald.campaigns[view](params.id) };
    },
  });
}

/**
 * Every route of the admin API, one entry each: the handler, the OpenAPI
 * operation and the audit record all come from here. Adding an operation is
 * one more entry.
 */
export const adminRoutes: AdminRoute[] = [
  // ---- campaigns ----
  route({
    operationId: 'createCampaign',
    method: 'POST',
    path: '/campaigns',
    tag: 'campaigns',
    summary: 'Create a campaign (as a draft)',
    description:
      'Validates every field (paths in `issues`) and every template, and stores a draft. Schedule it with `POST /campaigns/{id}/schedule`. Send `Idempotency-Key` so a retried request creates one campaign.',
    body: CampaignInput,
    examples: {
      once: { summary: 'A one-time campaign to pro users, 10% held out', value: exampleCampaign },
      recurring: {
        summary: 'Every Monday at 09:00 in each user’s zone',
        value: {
          name: 'Weekly digest',
          when: {
            schedule: { type: 'recurring', time: '09:00', every: { unit: 'week', weekdays: [1] } },
            userTimezone: { ifPassed: 'skip' },
          },
          who: { segment: { type: 'all' } },
          what: { title: 'Your week', deeplink: 'https://example.com/digest' },
        },
      },
    },
    response: { status: 201, schema: CampaignSchema, description: 'The draft, with its ETag and Location.' },
    changes: true,
    campaignVersion: 'etag',
    idempotent: true,
    errors: [404, 409, 422],
    async handle({ herald, rawBody, mountPath, principal }) {
      const campaign = await herald.campaigns.create(parsedByService(rawBody), { actor: principal });
      return {
        ...campaignResult(campaign, 201),
        headers: {
          location: `${mountPath ? `${mountPath}/` : ''}campaigns/${encodeURIComponent(campaign.id)}`,
        },
      };
    },
  }),
  route({
    operationId: 'listCampaigns',
    method: 'GET',
    path: '/campaigns',
    tag: 'campaigns',
    summary: 'List campaigns, newest first, filtered and paginated',
    description:
      'Filters by status and label (in storage) and by name (here); archived campaigns only with `includeArchived=true`; pages by an opaque cursor (keyset on creation time and id, so campaigns created meanwhile never shift a page).',
    query: CampaignListQuery,
    response: { status: 200, schema: CampaignList, description: 'One page of campaigns.' },
    changes: false,
    errors: [],
    async handle({ herald, query }) {
      const all = await herald.campaigns.list({
        ...(query.status ? { status: query.status } : {}),
        ...(query.includeArchived ? { includeArchived: true } : {}),
        ...(query.label ? { label: query.label } : {}),
      });
      const needle = query.q?.toLocaleLowerCase();
      let matching = (needle ? all.filter((c) => c.name.toLocaleLowerCase().includes(needle)) : all).sort(
        newestFirst,
      );
      if (query.cursor) {
        const after = decodeCursor(query.cursor);
        const afterTime = Date.parse(after.createdAt);
        matching = matching.filter((c) => {
          const time = c.createdAt.getTime();
          return time < afterTime || (time === afterTime && c.id < after.id);
        });
      }
      const items = matching.slice(0, query.limit);
      const last = items[items.length - 1];
      return {
        body: { items, nextCursor: matching.length > query.limit && last ? encodeCursor(last) : null },
      };
    },
  }),
  route({
    operationId: 'getCampaign',
    method: 'GET',
    path: '/campaigns/{id}',
    tag: 'campaigns',
    summary: 'Get a campaign',
    description: 'The `ETag` is the campaign’s version; send it back as `If-Match` on a change.',
    params: campaignPath,
    response: { status: 200, schema: CampaignSchema, description: 'The campaign.' },
    changes: false,
    campaignVersion: 'etag',
    errors: [404],
    async handle({ herald, params }) {
      return { body: await herald.campaigns.get(params.id) };
    },
  }),
  ...(['schedule', 'pause', 'resume', 'stop'] as const).map((command) =>
    route({
      operationId: `${command}Campaign`,
      method: 'POST',
      path: `/campaigns/{id}/${command}`,
      tag: 'campaigns',
      summary: {
        schedule: 'Schedule a draft',
        pause: 'Pause a scheduled or running campaign',
        resume: 'Resume a paused campaign',
        stop: 'Stop a campaign for good',
      }[command],
      description: {
        schedule: 'draft → scheduled: its first moment is computed now. 409 from any other status.',
        pause: 'scheduled/running → paused: its jobs wait. 409 from any other status.',
        resume: 'paused → running (an occurrence had started) or scheduled. 409 when not paused.',
        stop: 'Any unfinished status → stopped: messages not yet sent are skipped as `stopped`.',
      }[command],
      params: campaignPath,
      response: { status: 200, schema: CampaignSchema, description: 'The campaign after the change.' },
      changes: true,
      campaignVersion: 'if-match',
      errors: [404, 409, 412],
      async handle({ herald, params, principal, expectedVersion }) {
        return campaignResult(
          await herald.campaigns[command](params.id, {
            actor: principal,
            ...(expectedVersion === undefined ? {} : { expectedVersion }),
          }),
        );
      },
    }),
  ),
  route({
    operationId: 'updateCampaign',
    method: 'PATCH',
    path: '/campaigns/{id}',
    tag: 'campaigns',
    summary: 'Change a draft, scheduled, running or paused campaign',
    description:
      'Each top-level section given (`name`, `labels`, `what`, `who`, `when`, `setup`, `metadata`) replaces that section whole; unknown keys are refused. Validated as at create. Running: content only (name, labels, what, metadata, setup but the control group); paused and scheduled: also `who` and `when` (its next due moment is recomputed); never the type of schedule (409 naming the field). Send the ETag as `If-Match`: the version is checked in the same write (412 when another change came first). Recorded in the history with the caller as actor.',
    params: campaignPath,
    body: CampaignPatch,
    examples: {
      typo: {
        summary: 'Fix the title',
        value: { what: { ...exampleCampaign.what, title: 'The sale is on' } },
      },
      move: {
        summary: 'Move a scheduled send',
        value: { when: { schedule: { type: 'once', at: '2026-03-02T10:00:00Z' }, timezone: 'Europe/Paris' } },
      },
    },
    response: { status: 200, schema: CampaignSchema, description: 'The campaign after the change.' },
    changes: true,
    campaignVersion: 'if-match',
    errors: [404, 409, 412],
    async handle({ herald, params, rawBody, principal, expectedVersion }) {
      return campaignResult(
        await herald.campaigns.update(params.id, parsedByService(rawBody), {
          actor: principal,
          ...(expectedVersion === undefined ? {} : { expectedVersion }),
        }),
      );
    },
  }),
  route({
    operationId: 'deleteCampaign',
    method: 'DELETE',
    path: '/campaigns/{id}',
    tag: 'campaigns',
    summary: 'Delete a draft',
    description:
      'Only a draft (and its history) can be deleted; any other status answers 409: stop it instead, stopped campaigns keep their stats. Honours `If-Match`.',
    params: campaignPath,
    response: { status: 204, description: 'Deleted.' },
    changes: true,
    campaignVersion: 'if-match',
    errors: [404, 409, 412],
    async handle({ herald, params, expectedVersion }) {
      await herald.campaigns.delete(params.id, expectedVersion === undefined ? {} : { expectedVersion });
      return { status: 204, audit: { campaignId: params.id } };
    },
  }),
  route({
    operationId: 'duplicateCampaign',
    method: 'POST',
    path: '/campaigns/{id}/duplicate',
    tag: 'campaigns',
    summary: 'Copy a campaign into a new draft',
    description:
      'A new draft (new id, version 0, no next due moment) with the original’s sections, named “Copy of …”; the body is a patch applied to the copy (`{}` for none). Recorded in both histories. Send `Idempotency-Key` so a retried request makes one copy.',
    params: campaignPath,
    body: CampaignPatch,
    examples: {
      plain: { summary: 'An exact copy', value: {} },
      renamed: { summary: 'A copy for next month', value: { name: 'April sale' } },
    },
    response: { status: 201, schema: CampaignSchema, description: 'The copy, with its ETag and Location.' },
    changes: true,
    campaignVersion: 'etag',
    idempotent: true,
    errors: [404, 409, 422],
    async handle({ herald, params, rawBody, mountPath, principal }) {
      const copy = await herald.campaigns.duplicate(params.id, parsedByService(rawBody), {
        actor: principal,
      });
      return {
        ...campaignResult(copy, 201),
        headers: { location: `${mountPath ? `${mountPath}/` : ''}campaigns/${encodeURIComponent(copy.id)}` },
        audit: { campaignId: copy.id, version: String(copy.version), duplicatedFrom: params.id },
      };
    },
  }),
  route({
    operationId: 'archiveCampaign',
    method: 'POST',
    path: '/campaigns/{id}/archive',
    tag: 'campaigns',
    summary: 'Archive a stopped or completed campaign',
    description:
      'Sets `archivedAt`: the campaign leaves `GET /campaigns` unless `includeArchived=true`; its stats and history stay readable. 409 from any other status or when already archived.',
    params: campaignPath,
    response: { status: 200, schema: CampaignSchema, description: 'The campaign after the change.' },
    changes: true,
    campaignVersion: 'if-match',
    errors: [404, 409, 412],
    async handle({ herald, params, principal, expectedVersion }) {
      return campaignResult(
        await herald.campaigns.archive(params.id, {
          actor: principal,
          ...(expectedVersion === undefined ? {} : { expectedVersion }),
        }),
      );
    },
  }),
  route({
    operationId: 'getCampaignHistory',
    method: 'GET',
    path: '/campaigns/{id}/history',
    tag: 'campaigns',
    summary: 'Who changed the campaign, what and when',
    description:
      'Every command on the campaign in the order made: actor (the authorised principal, or the library caller’s), time, action, the version it left and, for updates, each top-level field replaced with its value before and after.',
    params: campaignPath,
    response: { status: 200, schema: CampaignHistoryList, description: 'The history, oldest first.' },
    changes: false,
    errors: [404],
    async handle({ herald, params }) {
      return { body: { items: await herald.campaigns.history(params.id) } };
    },
  }),
  campaignView('stats', {
    operationId: 'getCampaignStats',
    summary: 'Totals of a campaign (all runs)',
    description: 'Per-run figures: `GET /campaigns/{id}/runs`.',
    response: {
      status: 200,
      schema: CampaignStatsSchema,
      description: 'Recipients, sends, skips, reports, conversions.',
    },
  }),
  campaignView('runs', {
    operationId: 'getCampaignRuns',
    summary: 'Each run of a campaign, with progress and rates',
    description:
      'One entry per occurrence (live campaigns: per day in the campaign’s zone), oldest first, and their total: messages and distinct users, queued / in progress / done and `settledAt`, rates and lift against control with its interval. Definitions: docs/CAMPAIGNS.md, "Stats".',
    response: {
      status: 200,
      schema: CampaignRunsSchema,
      description: 'The runs and their total.',
    },
  }),
  campaignView('timeline', {
    operationId: 'getCampaignTimeline',
    summary: 'A campaign’s figures over time',
    description:
      'Sent, viewed, clicked, conversions and revenue in hour buckets for the first 48 hours from the local hour of the first send, then day buckets, in the campaign’s zone; empty buckets left out. Definitions: docs/CAMPAIGNS.md, "Stats over time".',
    response: {
      status: 200,
      schema: CampaignTimelineSchema,
      description: 'The buckets, oldest first, and their totals.',
    },
  }),
  campaignView('browsers', {
    operationId: 'getCampaignBrowsers',
    summary: 'A campaign’s figures by browser and target',
    description:
      'One entry per (browser, target) with any message, most sent first: users, sent, failed, viewed, clicked, conversions, revenue and click-through. The browser is classified from the subscription when each message is recorded; a report counts under the browser that made it (its token names it), a conversion under the browser of the run’s latest message sent to the user, so each figure adds up to the campaign’s own. Read from tallies. Definitions: docs/CAMPAIGNS.md, "By browser".',
    response: {
      status: 200,
      schema: CampaignBrowsersSchema,
      description: 'The browsers, most sent first.',
    },
  }),
  route({
    operationId: 'explainCampaign',
    method: 'GET',
    path: '/campaigns/{id}/explain',
    tag: 'campaigns',
    summary: 'Why a user did or did not get a campaign',
    params: campaignPath,
    query: UserQuery,
    response: {
      status: 200,
      schema: ExplanationSchema,
      description: 'Facts, decisions per occurrence, sentences.',
    },
    changes: false,
    errors: [404],
    async handle({ herald, params, query }) {
      return { body: await herald.campaigns.explain(params.id, query.userId) };
    },
  }),
  route({
    operationId: 'previewCampaign',
    method: 'POST',
    path: '/campaigns/{id}/preview',
    tag: 'campaigns',
    summary: 'The notification as a user would get it, per browser',
    description:
      'Renders for the user’s subscriptions (narrow with `target` or `subscriptionId`); nothing is sent or recorded.',
    params: campaignPath,
    body: PreviewBody,
    examples: {
      user: { summary: 'For one user, web push only', value: { userId: 'user-42', target: 'webpush' } },
    },
    response: { status: 200, schema: PreviewSchema, description: 'The preview.' },
    changes: false,
    errors: [404],
    async handle({ herald, params, body }) {
      const preview = await herald.campaigns.preview(
        params.id,
        body.userId,
        body.event ? { event: body.event } : {},
      );
      const targets = preview.targets.filter(
        (target) =>
          (!body.target || target.target === body.target) &&
          (!body.subscriptionId || target.subscriptionId === body.subscriptionId),
      );
      return { body: { ...preview, targets } };
    },
  }),
  route({
    operationId: 'sendCampaignTest',
    method: 'POST',
    path: '/campaigns/{id}/test-sends',
    tag: 'campaigns',
    summary: 'Send the campaign now to test profiles',
    description: 'Only to profiles flagged `test: true`; never counted in stats.',
    params: campaignPath,
    body: TestSendBody,
    examples: { some: { summary: 'To two test profiles', value: { userIds: ['qa-1', 'qa-2'] } } },
    response: { status: 200, schema: TestSendResults, description: 'What each test profile got.' },
    changes: true,
    errors: [404],
    async handle({ herald, params, body }) {
      const results = await herald.campaigns.sendTest(params.id, {
        ...(body.userIds ? { userIds: body.userIds } : {}),
        ...(body.event ? { event: body.event } : {}),
      });
      return { body: results, audit: { campaignId: params.id, testProfiles: String(results.length) } };
    },
  }),
  route({
    operationId: 'estimateCampaignReach',
    method: 'GET',
    path: '/campaigns/{id}/reach',
    tag: 'campaigns',
    summary: 'How many users the campaign’s audience matches now',
    params: campaignPath,
    response: { status: 200, schema: ReachSchema, description: 'Qualified and reachable users.' },
    changes: false,
    errors: [404],
    async handle({ herald, params }) {
      const campaign = await herald.campaigns.get(params.id);
      const who = 'segment' in campaign.who ? campaign.who.segment : { segmentId: campaign.who.segmentId };
      return { body: await herald.segments.estimateReach(who) };
    },
  }),
  campaignView('forecast', {
    operationId: 'forecastCampaign',
    summary: 'The next run’s reach after control group, caps and DND',
    description:
      'Scheduled campaigns only: a live campaign answers 409 (its audience depends on events to come).',
    response: { status: 200, schema: ForecastSchema, description: 'Users still in after each step.' },
    errors: [404, 409],
  }),

  // ---- segments ----
  route({
    operationId: 'createSegment',
    method: 'POST',
    path: '/segments',
    tag: 'segments',
    summary: 'Save a segment',
    body: SegmentInput,
    examples: {
      buyers: {
        summary: 'Bought in the last 30 days',
        value: {
          name: 'Recent buyers',
          definition: {
            type: 'did',
            event: { name: 'Charged' },
            window: { inLast: { amount: 30, unit: 'days' } },
          },
        },
      },
    },
    response: { status: 201, schema: SavedSegment, description: 'The saved segment.' },
    changes: true,
    errors: [],
    async handle({ herald, rawBody }) {
      const segment = await herald.segments.create(parsedByService(rawBody));
      return { status: 201, body: segment, audit: { segmentId: segment.id } };
    },
  }),
  route({
    operationId: 'listSegments',
    method: 'GET',
    path: '/segments',
    tag: 'segments',
    summary: 'List saved segments, by name',
    response: { status: 200, schema: SavedSegment.array(), description: 'Every saved segment.' },
    changes: false,
    errors: [],
    async handle({ herald }) {
      return { body: await herald.segments.list() };
    },
  }),
  route({
    operationId: 'estimateReach',
    method: 'POST',
    path: '/segments/reach',
    tag: 'segments',
    summary: 'Estimate the reach of a definition (nothing saved)',
    body: SegmentReachBody,
    examples: { all: { summary: 'Everyone', value: { definition: { type: 'all' } } } },
    response: { status: 200, schema: ReachSchema, description: 'Qualified and reachable users.' },
    changes: false,
    errors: [],
    async handle({ herald, rawBody }) {
      return {
        body: await herald.segments.estimateReach(
          parsedByService((rawBody as { definition: unknown }).definition),
        ),
      };
    },
  }),
  route({
    operationId: 'getSegment',
    method: 'GET',
    path: '/segments/{id}',
    tag: 'segments',
    summary: 'Get a saved segment',
    params: SegmentPath,
    response: { status: 200, schema: SavedSegment, description: 'The segment.' },
    changes: false,
    errors: [404],
    async handle({ herald, params }) {
      return { body: await herald.segments.get(params.id) };
    },
  }),
  route({
    operationId: 'updateSegment',
    method: 'PATCH',
    path: '/segments/{id}',
    tag: 'segments',
    summary: 'Change a segment’s name, description or definition',
    description: 'Campaigns using it read the new definition from their next audience page on.',
    params: SegmentPath,
    body: SegmentInput.partial(),
    response: { status: 200, schema: SavedSegment, description: 'The segment after the change.' },
    changes: true,
    errors: [404],
    async handle({ herald, params, rawBody }) {
      const segment = await herald.segments.update(params.id, parsedByService(rawBody));
      return { body: segment, audit: { segmentId: segment.id } };
    },
  }),
  route({
    operationId: 'deleteSegment',
    method: 'DELETE',
    path: '/segments/{id}',
    tag: 'segments',
    summary: 'Delete a saved segment',
    description: '409 while a scheduled, running or paused campaign uses it (the message names them).',
    params: SegmentPath,
    response: { status: 204, description: 'Deleted.' },
    changes: true,
    errors: [404, 409],
    async handle({ herald, params }) {
      await herald.segments.delete(params.id);
      return { status: 204, audit: { segmentId: params.id } };
    },
  }),
  route({
    operationId: 'estimateSegmentReach',
    method: 'GET',
    path: '/segments/{id}/reach',
    tag: 'segments',
    summary: 'Estimate the reach of a saved segment',
    params: SegmentPath,
    response: { status: 200, schema: ReachSchema, description: 'Qualified and reachable users.' },
    changes: false,
    errors: [404],
    async handle({ herald, params }) {
      return { body: await herald.segments.estimateReach({ segmentId: params.id }) };
    },
  }),
  route({
    operationId: 'listSegmentCampaigns',
    method: 'GET',
    path: '/segments/{id}/campaigns',
    tag: 'segments',
    summary: 'Campaigns (scheduled, running, paused) that use a segment',
    params: SegmentPath,
    response: { status: 200, schema: CampaignSummaryList, description: 'The campaigns, oldest first.' },
    changes: false,
    errors: [404],
    async handle({ herald, params }) {
      return { body: await herald.segments.usedBy(params.id) };
    },
  }),

  // ---- profiles and subscriptions ----
  route({
    operationId: 'getProfile',
    method: 'GET',
    path: '/profiles/{userId}',
    tag: 'profiles',
    summary: 'Get a user’s profile',
    params: UserPath,
    response: { status: 200, schema: Profile, description: 'The profile.' },
    changes: false,
    errors: [404],
    async handle({ herald, params }) {
      const profile = await herald.profiles.get(params.userId);
      if (!profile) throw new NotFoundError('profile', params.userId);
      return { body: profile };
    },
  }),
  route({
    operationId: 'upsertProfile',
    method: 'PUT',
    path: '/profiles/{userId}',
    tag: 'profiles',
    summary: 'Create or replace a user’s profile',
    description: 'Properties are replaced whole (what templates personalise with: `{{ user.first_name }}`).',
    params: UserPath,
    body: ProfileBody,
    examples: {
      ada: {
        summary: 'A user with a zone',
        value: { properties: { first_name: 'Ada', plan: 'pro' }, timezone: 'Europe/Lisbon' },
      },
    },
    response: { status: 200, schema: Profile, description: 'The stored profile.' },
    changes: true,
    errors: [],
    async handle({ herald, params, rawBody }) {
      const profile = await herald.profiles.upsert({ ...(rawBody as object), userId: params.userId });
      return { body: profile, audit: { userId: params.userId } };
    },
  }),
  route({
    operationId: 'setTestProfile',
    method: 'PUT',
    path: '/profiles/{userId}/test',
    tag: 'profiles',
    summary: 'Mark (or unmark) a profile as a test profile',
    description: 'Test profiles receive test sends. Keeps the profile’s properties and zone.',
    params: UserPath,
    body: TestFlagBody,
    examples: { mark: { summary: 'Mark as test profile', value: { test: true } } },
    response: { status: 200, schema: Profile, description: 'The profile after the change.' },
    changes: true,
    errors: [404],
    async handle({ herald, params, body }) {
      const current = await herald.profiles.get(params.userId);
      if (!current) throw new NotFoundError('profile', params.userId);
      const profile = await herald.profiles.upsert({
        userId: current.userId,
        properties: current.properties,
        ...(current.timezone ? { timezone: current.timezone } : {}),
        test: body.test,
      });
      return { body: profile, audit: { userId: params.userId, test: String(body.test) } };
    },
  }),
  route({
    operationId: 'listSubscriptions',
    method: 'GET',
    path: '/profiles/{userId}/subscriptions',
    tag: 'profiles',
    summary: 'A user’s browsers (without their keys)',
    params: UserPath,
    response: { status: 200, schema: SubscriptionSummaryList, description: 'The subscriptions.' },
    changes: false,
    errors: [],
    async handle({ herald, params }) {
      return { body: (await herald.subscriptions.list(params.userId)).map(subscriptionSummary) };
    },
  }),
  route({
    operationId: 'removeSubscription',
    method: 'DELETE',
    path: '/profiles/{userId}/subscriptions/{subscriptionId}',
    tag: 'profiles',
    summary: 'Remove one of a user’s subscriptions',
    params: SubscriptionPath,
    response: { status: 204, description: 'Removed.' },
    changes: true,
    errors: [404],
    async handle({ herald, params }) {
      const owned = (await herald.subscriptions.list(params.userId)).some(
        (s) => s.id === params.subscriptionId,
      );
      if (!owned || !(await herald.subscriptions.remove(params.subscriptionId))) {
        throw new NotFoundError('subscription', params.subscriptionId);
      }
      return { status: 204, audit: { userId: params.userId, subscriptionId: params.subscriptionId } };
    },
  }),

  // ---- events ----
  route({
    operationId: 'trackEvent',
    method: 'POST',
    path: '/events',
    tag: 'events',
    summary: 'Track a user event (server-side integrations)',
    description: 'Feeds segments on past behaviour, live triggers and conversion goals.',
    body: EventInput,
    examples: {
      charged: {
        summary: 'A purchase with revenue',
        value: { userId: 'user-42', name: 'Charged', properties: { amount: 49.9 } },
      },
    },
    response: { status: 202, schema: UserEvent, description: 'The event as recorded.' },
    changes: true,
    errors: [],
    async handle({ herald, rawBody }) {
      const event = await herald.events.track(parsedByService(rawBody));
      return { status: 202, body: event, audit: { userId: event.userId, event: event.name } };
    },
  }),
];

export { CampaignSchema };
