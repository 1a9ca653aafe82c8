import { z } from 'zod';
import type { Herald } from '../engine/create-herald.js';
import { ValidationError } from '../errors/index.js';
import { PushSubscriptionJson, TimeZone, UserId } from '../model/index.js';
import { ReportBody } from '../payload/index.js';
import type { Interaction } from '../ports/index.js';
import { errorResponse } from './errors.js';

/** A request as any framework can describe it; `path` is relative to where Herald is mounted. */
export interface HttpRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export interface HttpResponse {
  status: number;
  body?: unknown;
}

export interface HttpOptions {
  /**
   * The signed-in user of this request, from the host's own session. When it
   * returns null the subscriber is anonymous (an id derived from the
   * subscription) unless `trustClientUserId` lets the browser name itself.
   */
  resolveUser?: (request: HttpRequest) => string | null | Promise<string | null>;
  /** Accept `userId` from the request body. Only for demos and tests: anyone could claim any id. */
  trustClientUserId?: boolean;
}

const SubscribeBody = z.object({
  subscription: PushSubscriptionJson,
  userId: UserId.optional(),
  timezone: TimeZone.optional(),
  /** The endpoint this subscription replaces (pushsubscriptionchange, VAPID key change). */
  oldEndpoint: z.string().url().optional(),
});
const SafariSubscribeBody = z.object({
  deviceToken: z.string(),
  userId: UserId.optional(),
  timezone: TimeZone.optional(),
});
const UnsubscribeBody = z.object({ endpoint: z.string().url() });
const IdentifyBody = z.object({ endpoint: z.string().url(), userId: UserId });
const EventBody = z.object({
  userId: UserId.optional(),
  endpoint: z.string().url().optional(),
  name: z.string().min(1).max(128),
  properties: z.record(z.string(), z.unknown()).optional(),
});

function parseBody<S extends z.ZodType>(schema: S, body: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(body);
  if (!result.success) throw ValidationError.fromZod(what, result.error);
  return result.data;
}

/**
 * The endpoints the browser SDK and service worker call, framework-neutral:
 * mount the returned function under a path (e.g. /herald) with any server.
 */
export function heraldHttp(herald: Herald, options: HttpOptions = {}) {
  const logger = herald.context.logger;

  async function userFor(
    request: HttpRequest,
    claimed: string | undefined,
    fallback: () => string,
  ): Promise<string> {
    const resolved = options.resolveUser ? await options.resolveUser(request) : null;
    if (resolved) return resolved;
    if (claimed && options.trustClientUserId) return claimed;
    return fallback();
  }

  async function route(request: HttpRequest): Promise<HttpResponse> {
    const key = `${request.method.toUpperCase()} ${request.path.replace(/\/+$/, '') || '/'}`;
    switch (key) {
      case 'POST /subscriptions': {
        const body = parseBody(SubscribeBody, request.body, 'subscription request');
        const userId = await userFor(
          request,
          body.userId,
          () => `anon_${herald.subscriptions.idForEndpoint(body.subscription.endpoint)}`,
        );
        const stored = await herald.subscriptions.add({
          target: 'webpush',
          userId,
          subscription: body.subscription,
          ...(body.timezone ? { timezone: body.timezone } : {}),
        });
        if (body.oldEndpoint && body.oldEndpoint !== body.subscription.endpoint) {
          await herald.subscriptions.removeByEndpoint(body.oldEndpoint);
        }
        return { status: 201, body: { id: stored.id, userId } };
      }
      case 'POST /subscriptions/safari': {
        const body = parseBody(SafariSubscribeBody, request.body, 'Safari subscription request');
        const userId = await userFor(
          request,
          body.userId,
          () => `anon_sf_${body.deviceToken.slice(0, 24).toLowerCase()}`,
        );
        const stored = await herald.subscriptions.add({
          target: 'safari',
          userId,
          deviceToken: body.deviceToken,
          ...(body.timezone ? { timezone: body.timezone } : {}),
        });
        return { status: 201, body: { id: stored.id, userId } };
      }
      case 'DELETE /subscriptions': {
        const body = parseBody(UnsubscribeBody, request.body, 'unsubscribe request');
        await herald.subscriptions.removeByEndpoint(body.endpoint);
        return { status: 204 };
      }
      case 'POST /identify': {
        const body = parseBody(IdentifyBody, request.body, 'identify request');
        const id = herald.subscriptions.idForEndpoint(body.endpoint);
        const current = await herald.context.storage.getSubscription(id);
        if (current?.target !== 'webpush') {
          return {
            status: 404,
            body: { error: { code: 'not_found', message: 'no subscription with that endpoint' } },
          };
        }
        const userId = await userFor(request, body.userId, () => current.userId);
        await herald.subscriptions.add({
          target: 'webpush',
          userId,
          subscription: {
            endpoint: current.endpoint,
            keys: current.keys,
            expirationTime: current.expirationTime ?? null,
          },
          ...(current.timezone ? { timezone: current.timezone } : {}),
        });
        return { status: 204 };
      }
      case 'POST /events': {
        const body = parseBody(EventBody, request.body, 'event');
        let fallbackUser: string | undefined;
        if (body.endpoint) {
          fallbackUser = (
            await herald.context.storage.getSubscription(herald.subscriptions.idForEndpoint(body.endpoint))
          )?.userId;
        }
        const userId = await userFor(request, body.userId, () => fallbackUser ?? '');
        if (!userId) {
          return {
            status: 400,
            body: { error: { code: 'validation_failed', message: 'event has no known user' } },
          };
        }
        await herald.events.track({ userId, name: body.name, properties: body.properties ?? {} });
        return { status: 202 };
      }
      case 'POST /reports': {
        const parsed = ReportBody.safeParse(request.body);
        if (!parsed.success) {
          return { status: 400, body: { error: { code: 'validation_failed', message: 'malformed report' } } };
        }
        const claims = herald.verifyReportToken(parsed.data.token);
        if (!claims) {
          return {
            status: 403,
            body: { error: { code: 'invalid_token', message: 'report token is invalid or expired' } },
          };
        }
        const interaction: Interaction = {
          reportId: parsed.data.reportId,
          campaignId: claims.campaignId as Interaction['campaignId'],
          occurrence: claims.occurrence,
          userId: claims.userId as Interaction['userId'],
          kind: parsed.data.kind,
          action: parsed.data.action ?? null,
          at: herald.context.clock.now(),
        };
        await herald.context.storage.recordInteraction(interaction);
        return { status: 204 };
      }
      default:
        return { status: 404, body: { error: { code: 'not_found', message: `no route ${key}` } } };
    }
  }

  return async function handle(request: HttpRequest): Promise<HttpResponse> {
    try {
      return await route(request);
    } catch (error) {
      return errorResponse(error, logger);
    }
  };
}

export type HeraldHttpHandler = ReturnType<typeof heraldHttp>;
