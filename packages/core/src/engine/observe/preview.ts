import { adaptForSafari, TARGET_REPORTING } from '../../delivery/safari-adapt.js';
import { type ApnsWebsitePayload, apnsPayloadOf } from '../../delivery/safari-apns.js';
import { type FieldIssue, NotFoundError, ValidationError } from '../../errors/index.js';
import {
  type Campaign,
  isLive,
  type Profile,
  type Properties,
  type Subscription,
  type SubscriptionId,
  type Target,
  UserId,
} from '../../model/index.js';
import type { HeraldPayload } from '../../payload/index.js';
import { evaluateSegment, isLiveSubscription } from '../../segments/index.js';
import type { DeliveryOutcome, EngineContext } from '../context.js';
import type { MissingValue, RenderedMessage } from '../deliver/index.js';
import { fitPayload, inControlGroup } from '../deliver/index.js';
import { resolveAudience } from '../fanout/index.js';

/** What one target shows. Safari's legacy website push has no icon, image, badge or buttons. */
export interface PreviewNotification {
  title: string;
  body: string;
  deeplink: string;
  icon?: string;
  image?: string;
  badge?: string;
  actions: { id: string; title: string; url: string }[];
}

export interface TargetPreview {
  subscriptionId: SubscriptionId;
  target: Target;
  notification: PreviewNotification;
  /** Web push: the payload JSON exactly as encrypted and sent (with a placeholder report token). */
  payload?: HeraldPayload;
  /** Safari: the APNs payload the provider derives from it (without a provider's `actionLabel`). */
  apns?: ApnsWebsitePayload;
  /** Web push: its size in bytes, against the 3993-byte limit. */
  bytes?: number;
  truncated: Array<'title' | 'body'>;
  warnings: string[];
}

export interface CampaignPreview {
  campaignId: string;
  userId: string;
  /** Whether the user matches the campaign's audience now. */
  inAudience: boolean;
  /** Whether the user is held out in the control group (receives nothing). */
  controlGroup: boolean;
  /** Null when the message renders; otherwise why this user would be skipped. */
  skipped: 'missing-value' | 'render-failed' | null;
  issues: FieldIssue[];
  missing: MissingValue[];
  targets: TargetPreview[];
  warnings: string[];
}

/** The placeholder report token of previews and test sends: reports carrying it are refused. */
const NO_REPORTS = 'preview';

/**
 * The notification exactly as it would be sent to this user on each of
 * their subscriptions, now: audience, control group and rendering are
 * evaluated as a run would, the payload is built (and cut to fit) by the
 * same code, and Safari's drops are applied. Nothing is sent or recorded.
 * Caps and DND are not applied (they depend on the moment of sending; see
 * `campaigns.explain` and `campaigns.forecast`).
 */
export async function previewCampaign(
  ctx: EngineContext,
  campaign: Campaign,
  userIdInput: string,
  options: { event?: Properties } = {},
): Promise<CampaignPreview> {
  const userId = parseUserId(userIdInput);
  const now = ctx.clock.now();
  const profile = await ctx.storage.getProfile(userId);
  if (!profile) throw new NotFoundError('profile', userId);
  const [events, subscriptions, segment] = await Promise.all([
    ctx.storage.listEvents({ userId }),
    ctx.storage.listSubscriptions([userId]),
    resolveAudience(ctx.storage, campaign),
  ]);
  const warnings: string[] = [];
  const inAudience = evaluateSegment(segment, { profile, events, subscriptions }, now);
  if (!inAudience)
    warnings.push('The user does not match the campaign’s audience now: a run would not select them.');
  const controlGroup = inControlGroup(campaign.id, userId, campaign.setup.controlGroupPercent);
  if (controlGroup) warnings.push('The user is in the control group: a run would send them nothing.');
  if (isLive(campaign.when.schedule) && !options.event) {
    warnings.push('Live campaign previewed without an event: event values render as missing.');
  }

  const rendered = await renderFor(ctx, campaign, profile, options.event);
  for (const missing of rendered.missing) {
    warnings.push(
      campaign.setup.onMissingValue === 'skip'
        ? `No value for ${missing.variable} (in ${missing.field}): this user would be skipped.`
        : `No value for ${missing.variable} (in ${missing.field}): it renders empty.`,
    );
  }
  const base = { campaignId: campaign.id, userId, inAudience, controlGroup, missing: rendered.missing };
  if (!rendered.ok) {
    return { ...base, skipped: rendered.reason, issues: rendered.issues, targets: [], warnings };
  }
  if (subscriptions.length === 0) warnings.push('The user has no subscription: nothing would be sent.');

  const targets = subscriptions.map((subscription) => {
    const target = targetPreview(ctx, { campaign, userId, subscription, message: rendered.message, now });
    if (!ctx.providers[subscription.target]) {
      target.warnings.push(`No ${subscription.target} provider is configured: this subscription is skipped.`);
    }
    if (!isLiveSubscription(subscription, now)) {
      target.warnings.push(
        'This subscription’s expiration time has passed: the push service will likely refuse it.',
      );
    }
    return target;
  });
  return { ...base, skipped: null, issues: [], targets, warnings };
}

/** What one subscription of the user would show, built by the same payload code a send uses. */
function targetPreview(
  ctx: EngineContext,
  {
    campaign,
    userId,
    subscription,
    message,
    now,
  }: { campaign: Campaign; userId: UserId; subscription: Subscription; message: RenderedMessage; now: Date },
): TargetPreview {
  const fitted = fitPayload(campaign.what, message, {
    campaignId: campaign.id,
    occurrence: 'preview',
    userId,
    token: NO_REPORTS,
    expiresAt: new Date(now.getTime() + campaign.what.ttlSeconds * 1000),
    ...(ctx.reportUrl ? { reportUrl: ctx.reportUrl } : {}),
  });
  const shown: PreviewNotification = {
    title: fitted.payload.notification.title,
    body: fitted.payload.notification.body ?? '',
    deeplink: message.deeplink,
    ...(message.icon ? { icon: message.icon } : {}),
    ...(message.image ? { image: message.image } : {}),
    ...(message.badge ? { badge: message.badge } : {}),
    actions: message.actions.map(({ id, title, url }) => ({ id, title, url })),
  };
  const warnings = fitted.truncated.map(
    (field) => `The ${field} was cut to fit the ${fitted.bytes}-byte payload (limit 3993 bytes).`,
  );
  if (fitted.tooLarge) warnings.push('The payload is over the Web Push limit even cut short: it would fail.');
  if (subscription.target === 'webpush') {
    return {
      subscriptionId: subscription.id,
      target: 'webpush',
      notification: shown,
      payload: fitted.payload,
      bytes: fitted.bytes,
      truncated: fitted.truncated,
      warnings,
    };
  }
  // What legacy Safari keeps, by the same functions the Safari provider uses.
  const safari = adaptForSafari(fitted.payload);
  warnings.push(...safari.warnings);
  if (!TARGET_REPORTING.safari.clicked) {
    warnings.push(
      'Safari (legacy website push) reports no views or clicks: this target is not in those figures.',
    );
  }
  return {
    subscriptionId: subscription.id,
    target: 'safari',
    notification: { title: safari.title, body: safari.body, deeplink: safari.deeplink, actions: [] },
    apns: apnsPayloadOf(JSON.stringify(fitted.payload)),
    truncated: fitted.truncated,
    warnings,
  };
}

async function renderFor(
  ctx: EngineContext,
  campaign: Campaign,
  profile: Profile,
  event: Properties | undefined,
) {
  return ctx.renderer.render(
    campaign.what,
    { user: { ...profile.properties, id: profile.userId }, ...(event ? { event } : {}) },
    { onMissingValue: campaign.setup.onMissingValue },
  );
}

function parseUserId(input: string): UserId {
  const parsed = UserId.safeParse(input);
  if (!parsed.success) throw ValidationError.fromZod('user id', parsed.error);
  return parsed.data;
}

export interface TestSendResult {
  userId: string;
  /** Null when sent to every subscription; else why this test profile got nothing. */
  skipped: 'missing-value' | 'render-failed' | 'no-subscription' | null;
  deliveries: Array<{
    subscriptionId: SubscriptionId;
    target: Target;
    outcome: DeliveryOutcome['kind'];
    detail: string | null;
  }>;
}

/** Test sends go to at most this many test profiles at once. */
export const MAX_TEST_RECIPIENTS = 50;

/**
 * Sends the campaign's rendered content now to test profiles (`test: true`):
 * the ones named, or every test profile when none are named. No audience,
 * control group, caps, DND or schedule apply, and nothing is written for
 * the campaign: no recipient, delivery or decision rows, so test sends never
 * show in its stats. The report token is a placeholder the report endpoint
 * refuses, so clicks on a test notification are not counted either. A
 * subscription the push service reports gone is removed (it is gone for
 * real campaigns too). The outcome of each send is returned, not stored.
 */
export async function sendTest(
  ctx: EngineContext,
  campaign: Campaign,
  options: { userIds?: readonly string[]; event?: Properties } = {},
): Promise<TestSendResult[]> {
  const profiles = await testProfiles(ctx, options.userIds);
  const subscriptions = await ctx.storage.listSubscriptions(profiles.map((p) => p.userId));
  const now = ctx.clock.now();
  const results: TestSendResult[] = [];
  for (const profile of profiles) {
    const own = subscriptions.filter((s) => s.userId === profile.userId && ctx.providers[s.target]);
    const rendered = await renderFor(ctx, campaign, profile, options.event);
    if (!rendered.ok || own.length === 0) {
      results.push({
        userId: profile.userId,
        skipped: rendered.ok ? 'no-subscription' : rendered.reason,
        deliveries: [],
      });
      continue;
    }
    const deliveries: TestSendResult['deliveries'] = [];
    for (const subscription of own) {
      const provider = ctx.providers[subscription.target];
      if (!provider) continue;
      const { payload } = fitPayload(campaign.what, rendered.message, {
        campaignId: campaign.id,
        occurrence: 'test',
        userId: profile.userId,
        token: NO_REPORTS,
        expiresAt: new Date(now.getTime() + campaign.what.ttlSeconds * 1000),
      });
      let outcome: DeliveryOutcome;
      try {
        outcome = await provider.send(
          {
            subscription,
            payload: JSON.stringify(payload),
            ttlSeconds: campaign.what.ttlSeconds,
            urgency: campaign.what.urgency,
            campaignId: campaign.id,
          },
          now,
        );
      } catch (error) {
        outcome = { kind: 'failed', statusCode: null, reason: (error as Error).message };
      }
      if (outcome.kind === 'gone') await ctx.storage.removeSubscription(subscription.id);
      deliveries.push({
        subscriptionId: subscription.id,
        target: subscription.target,
        outcome: outcome.kind,
        detail: outcome.kind === 'failed' || outcome.kind === 'retry' ? outcome.reason : null,
      });
    }
    results.push({ userId: profile.userId, skipped: null, deliveries });
  }
  ctx.logger.info('test send', { campaignId: campaign.id, profiles: results.length });
  return results;
}

async function testProfiles(ctx: EngineContext, userIds: readonly string[] | undefined): Promise<Profile[]> {
  if (userIds === undefined) {
    const all = await ctx.storage.listTestProfiles(MAX_TEST_RECIPIENTS);
    if (all.length === 0) {
      throw new ValidationError('test send', [
        { path: 'userIds', message: 'there are no test profiles: flag profiles with test: true first' },
      ]);
    }
    return all;
  }
  if (userIds.length === 0 || userIds.length > MAX_TEST_RECIPIENTS) {
    throw new ValidationError('test send', [
      { path: 'userIds', message: `name between 1 and ${MAX_TEST_RECIPIENTS} test profiles` },
    ]);
  }
  const ids = userIds.map(parseUserId);
  const found = new Map((await ctx.storage.getProfiles(ids)).map((p) => [p.userId as string, p]));
  const issues: FieldIssue[] = [];
  ids.forEach((id, i) => {
    const profile = found.get(id);
    if (!profile) issues.push({ path: `userIds[${i}]`, message: `no profile ${id}` });
    else if (!profile.test) issues.push({ path: `userIds[${i}]`, message: `${id} is not a test profile` });
  });
  if (issues.length > 0) throw new ValidationError('test send', issues);
  return ids.map((id) => found.get(id) as Profile);
}
