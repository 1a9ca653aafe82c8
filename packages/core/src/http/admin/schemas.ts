/**
 * Request and response schemas of the admin API. Inputs are the model's own
 * schemas (CampaignInput, SegmentInput, ProfileInput, EventInput). Answers
 * whose engine type is a zod schema (Campaign, SavedSegment, Profile,
 * UserEvent) use it; the others are TypeScript interfaces in the engine, so
 * their schema is written here once, and `describes` makes the compiler
 * check that every value of the interface fits it. The test that validates
 * real answers against the OpenAPI document catches the other direction (a
 * field the engine added that the schema lacks: objects are closed).
 */
import { z } from 'zod';
import type {
  CampaignBrowsers,
  CampaignForecast,
  CampaignPreview,
  CampaignRuns,
  CampaignTimeline,
  Explanation,
  TestSendResult,
} from '../../engine/observe/index.js';
import {
  Browser,
  BrowserTarget,
  Campaign,
  CampaignHistoryEntry,
  CampaignId,
  type CampaignStats,
  CampaignStatus,
  Decision,
  DndWindow,
  Instant,
  Properties,
  type ReachEstimate,
  SegmentDefinition,
  SegmentId,
  SubscriptionId,
  Target,
  TimeZone,
  UserId,
} from '../../model/index.js';
import { HeraldPayload } from '../../payload/index.js';

/** Compile-time proof that every `T` the engine returns is accepted by `schema`. */
function describes<T>() {
  return <S extends z.ZodType>(schema: S & ([T] extends [z.output<S>] ? unknown : never)): S => schema;
}

const count = z.number().int().min(0);

// ---- campaigns ----

export const CampaignPath = z.object({ id: z.string().min(1).max(64) });

export const CampaignListQuery = z.object({
  status: z
    .string()
    .transform((list) => list.split(',').filter(Boolean))
    .pipe(z.array(CampaignStatus))
    .optional()
    .meta({
      description: 'Comma-separated statuses, e.g. `scheduled,running`.',
      examples: ['scheduled,running'],
    }),
  label: z.string().min(1).max(64).optional().meta({ description: 'Only campaigns with this label.' }),
  includeArchived: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .optional()
    .meta({ description: 'Also list archived campaigns (hidden by default).' }),
  q: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .meta({ description: 'Name search: campaigns whose name contains this text, ignoring case.' }),
  limit: z.coerce.number().int().min(1).max(200).default(50).meta({ description: 'Page size (1-200).' }),
  cursor: z
    .string()
    .max(512)
    .optional()
    .meta({ description: 'The `nextCursor` of the previous page; absent for the first page.' }),
});

/** A campaign's history (`GET /campaigns/{id}/history`), oldest first. */
export const CampaignHistoryList = z.object({ items: z.array(CampaignHistoryEntry) });

export const CampaignList = z.object({
  items: z.array(Campaign),
  nextCursor: z
    .string()
    .nullable()
    .meta({ description: 'Pass as `cursor` for the next page; null on the last.' }),
});

export const UserQuery = z.object({ userId: UserId.meta({ description: 'The user to explain for.' }) });

export const PreviewBody = z.object({
  userId: UserId,
  /** Only this target's previews (Safari's legacy website push or standard web push). */
  target: Target.optional().meta({ description: 'Only previews for subscriptions of this target.' }),
  subscriptionId: SubscriptionId.optional().meta({ description: 'Only the preview for this one browser.' }),
  event: Properties.optional().meta({
    description: 'Properties of the triggering event, for templates of live campaigns (`{{ event.… }}`).',
  }),
});

export const TestSendBody = z.object({
  userIds: z
    .array(UserId)
    .optional()
    .meta({ description: 'Test profiles to send to; every test profile (up to the limit) when absent.' }),
  event: Properties.optional(),
});

const ConversionGroup = z.object({
  audience: count,
  conversions: count,
  revenue: z.number(),
  rate: z.number().nullable(),
});

export const CampaignStatsSchema = describes<CampaignStats>()(
  z.object({
    campaignId: CampaignId,
    recipients: count,
    pending: count,
    sent: count,
    failed: count,
    gone: count,
    skipped: z
      .record(z.string(), count)
      .meta({ description: 'Skipped recipients by reason (capped, dnd, …).' }),
    control: count,
    viewed: count,
    clicked: count,
    closed: count,
    clickedByAction: z.record(z.string(), count),
    conversions: z.object({
      recipients: ConversionGroup,
      control: ConversionGroup,
      lift: z.number().nullable(),
    }),
  }),
);

const rate = z.number().nullable();

const RunStatsSchema = z.object({
  occurrence: z.string().meta({
    description: 'The occurrence id (its due instant, ISO); for live campaigns the day, YYYY-MM-DD.',
  }),
  recipients: count,
  pending: count,
  sent: count.meta({ description: 'Messages sent (one per subscription).' }),
  failed: count,
  gone: count,
  skipped: z.record(z.string(), count).meta({ description: 'Skipped recipients by reason.' }),
  control: count,
  viewed: count,
  clicked: count,
  closed: count,
  clickedByAction: z.record(z.string(), count),
  users: z
    .object({ delivered: count, viewed: count, clicked: count, converted: count })
    .meta({ description: 'Distinct users (a user with two browsers counts once).' }),
  conversions: z.object({
    recipients: ConversionGroup,
    control: ConversionGroup,
    lift: z.number().nullable(),
  }),
  progress: z.object({
    audience: count,
    queued: count.meta({ description: 'Users in delivery jobs not yet picked up.' }),
    inProgress: count,
    done: count,
    settledAt: z.date().nullable().meta({ description: 'When the last message of the run was settled.' }),
  }),
  rates: z.object({
    clickThrough: rate,
    userClickThrough: rate,
    viewRate: rate,
    conversionRate: rate,
    revenuePerSent: rate,
    lift: z
      .object({
        difference: rate,
        low: rate,
        high: rate,
        z: rate,
        pValue: rate,
        controlTooSmall: z.boolean(),
        note: z.string().nullable(),
      })
      .meta({
        description:
          'Recipients’ conversion rate minus control’s, with its 95% Newcombe hybrid score interval and the pooled two-proportion z-test.',
      }),
  }),
});

export const CampaignRunsSchema = describes<CampaignRuns>()(
  z.object({
    campaignId: CampaignId,
    by: z.enum(['occurrence', 'day']),
    total: RunStatsSchema,
    runs: z.array(RunStatsSchema),
  }),
);

const figures = {
  sent: count.meta({ description: 'Messages sent (by send time).' }),
  viewed: count.meta({ description: 'Viewed reports (by report time).' }),
  clicked: count.meta({ description: 'Clicked reports (by report time).' }),
  conversions: count.meta({ description: 'Recipients’ conversions (control left out).' }),
  revenue: z.number().meta({ description: 'Revenue of those conversions.' }),
};

export const CampaignTimelineSchema = describes<CampaignTimeline>()(
  z.object({
    campaignId: CampaignId,
    timezone: z
      .string()
      .meta({ description: 'The zone buckets are cut in: the campaign’s `when.timezone`.' }),
    hourlyFor: count.meta({ description: 'Hours from the first send’s local hour shown hour by hour.' }),
    buckets: z.array(
      z.object({
        start: z.date(),
        end: z.date(),
        unit: z.enum(['hour', 'day']),
        ...figures,
      }),
    ),
    totals: z.object(figures),
    rates: z.object({ clickThrough: rate, viewRate: rate }),
  }),
);

export const CampaignBrowsersSchema = describes<CampaignBrowsers>()(
  z.object({
    campaignId: z.string(),
    browsers: z.array(
      z.object({
        browser: Browser.meta({
          description: 'From the push service’s host, refined by the user agent the SDK sent at subscribe.',
        }),
        target: BrowserTarget.meta({
          description: '`web-push` (standard Web Push) or `safari-legacy` (APNs website push).',
        }),
        users: count.meta({ description: 'Users sent a message there, once per run.' }),
        sent: count.meta({ description: 'Messages sent.' }),
        failed: count.meta({ description: 'Messages with a `failed` or `gone` outcome.' }),
        viewed: count.meta({ description: 'Viewed reports of users sent the message there.' }),
        clicked: count.meta({ description: 'Clicked reports of users sent the message there.' }),
        conversions: count.meta({ description: 'Recipients’ conversions (control left out).' }),
        revenue: z.number().meta({ description: 'Revenue of those conversions.' }),
        clickThroughRate: rate.meta({ description: 'clicked / sent; null when nothing was sent.' }),
      }),
    ),
  }),
);

export const ForecastSchema = describes<CampaignForecast>()(
  z.object({
    campaignId: z.string(),
    occurrence: z.date().nullable(),
    qualified: count,
    reachable: count,
    afterControlGroup: count,
    afterCaps: count,
    afterDnd: count,
    delayedByDnd: count,
    passed: count,
    notes: z.array(z.string()),
  }),
);

export const ReachSchema = describes<ReachEstimate>()(
  z.object({
    qualified: count,
    reachable: z.object({ total: count, webpush: count, safari: count }),
  }),
);

const nullableText = z.string().nullable();

export const ExplanationSchema = describes<Explanation>()(
  z.object({
    campaignId: z.string(),
    userId: z.string(),
    campaignStatus: CampaignStatus,
    user: z.object({
      known: z.boolean(),
      zone: z.string(),
      zoneFrom: z.enum(['profile', 'campaign']),
      localNow: z.string(),
    }),
    segment: z.object({ matchesNow: z.boolean() }),
    controlGroup: z.object({ percent: z.number(), member: z.boolean() }),
    caps: z.object({
      applies: z.boolean(),
      zone: z.string(),
      counters: z.array(z.object({ key: z.string(), count: z.number(), limit: z.number() })),
    }),
    dnd: z.object({
      window: DndWindow.nullable(),
      from: z.enum(['campaign', 'global']).nullable(),
      insideNow: z.boolean(),
      endsAt: nullableText,
      around: z
        .object({ from: z.string(), to: z.string(), fromLocal: z.string(), toLocal: z.string() })
        .nullable(),
    }),
    window: z.object({ start: nullableText, end: nullableText, cutoff: nullableText }),
    occurrences: z.array(
      z.object({
        occurrence: z.string(),
        reached: z.boolean(),
        state: nullableText,
        reason: nullableText,
        decisions: z.array(Decision),
        deliveries: z.array(
          z.object({
            subscriptionId: z.string(),
            status: z.string(),
            statusCode: z.number().int().nullable(),
            reason: nullableText,
            at: z.date(),
          }),
        ),
      }),
    ),
    summary: z
      .array(z.string())
      .meta({ description: 'The same, in sentences a support agent can read out.' }),
  }),
);

const FieldIssueSchema = z.object({ path: z.string(), message: z.string() });

const PreviewNotificationSchema = z.object({
  title: z.string(),
  body: z.string(),
  deeplink: z.string(),
  icon: z.string().optional(),
  image: z.string().optional(),
  badge: z.string().optional(),
  actions: z.array(z.object({ id: z.string(), title: z.string(), url: z.string() })),
});

export const PreviewSchema = describes<CampaignPreview>()(
  z.object({
    campaignId: z.string(),
    userId: z.string(),
    inAudience: z.boolean(),
    controlGroup: z.boolean(),
    skipped: z.enum(['missing-value', 'render-failed']).nullable(),
    issues: z.array(FieldIssueSchema),
    missing: z.array(
      z.object({ field: z.enum(['title', 'body', 'deeplink', 'image']), variable: z.string() }),
    ),
    targets: z.array(
      z.object({
        subscriptionId: SubscriptionId,
        target: Target,
        notification: PreviewNotificationSchema,
        payload: z.optional(HeraldPayload).meta({
          description: 'Web push: the payload JSON exactly as encrypted and sent (placeholder report token).',
        }),
        apns: z
          .object({
            aps: z.object({
              alert: z.object({ title: z.string(), body: z.string(), action: z.string().optional() }),
              'url-args': z.array(z.string()),
            }),
          })
          .optional(),
        bytes: count.optional(),
        truncated: z.array(z.enum(['title', 'body'])),
        warnings: z.array(z.string()),
      }),
    ),
    warnings: z.array(z.string()),
  }),
);

export const TestSendResults = describes<TestSendResult[]>()(
  z.array(
    z.object({
      userId: z.string(),
      skipped: z.enum(['missing-value', 'render-failed', 'no-subscription']).nullable(),
      deliveries: z.array(
        z.object({
          subscriptionId: SubscriptionId,
          target: Target,
          outcome: z.enum(['sent', 'retry', 'gone', 'failed']),
          detail: nullableText,
        }),
      ),
    }),
  ),
);

// ---- segments ----

export const SegmentPath = z.object({ id: z.string().min(1).max(64) });
export const SegmentReachBody = z.object({ definition: SegmentDefinition });
export const CampaignSummaryList = z.array(Campaign);
export { SegmentId };

// ---- profiles and subscriptions ----

export const UserPath = z.object({ userId: UserId });
export const SubscriptionPath = z.object({ userId: UserId, subscriptionId: SubscriptionId });

/** A profile as PUT takes it: the user id is in the path. */
export const ProfileBody = z.object({
  properties: Properties.default({}),
  timezone: TimeZone.optional(),
  test: z.boolean().default(false),
});

export const TestFlagBody = z.object({
  test: z
    .boolean()
    .meta({ description: 'true: this profile receives test sends (and is never counted in stats).' }),
});

/** What the API shows of a subscription: where and since when, never its keys. */
export const SubscriptionSummary = z.object({
  id: SubscriptionId,
  target: Target,
  userId: UserId,
  endpoint: z.string().nullable().meta({ description: 'Web push endpoint; null for Safari legacy (APNs).' }),
  timezone: TimeZone.nullable(),
  createdAt: Instant,
  updatedAt: Instant,
});
export const SubscriptionSummaryList = z.array(SubscriptionSummary);

// ---- spec ----

export const OpenApiDocument = z.record(z.string(), z.unknown());
