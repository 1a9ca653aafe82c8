import type { MessageContent } from '../model/index.js';
import { DECLARATIVE_WEB_PUSH, type HeraldPayload } from '../payload/index.js';
import type { RenderedMessage } from './render.js';

export interface PayloadContext {
  campaignId: string;
  occurrence: string;
  userId: string;
  token: string;
  expiresAt: Date;
  reportUrl?: string;
}

/**
 * The Declarative Web Push message for one recipient: what Safari 18.4+
 * shows by itself, plus Herald's fields for its own service worker.
 */
export function buildPayload(
  content: MessageContent,
  message: RenderedMessage,
  context: PayloadContext,
): HeraldPayload {
  return {
    web_push: DECLARATIVE_WEB_PUSH,
    notification: {
      title: message.title,
      ...(message.body ? { body: message.body } : {}),
      navigate: message.deeplink,
      ...(content.tag ? { tag: content.tag } : {}),
      ...(content.requireInteraction ? { require_interaction: true } : {}),
      ...(message.actions.length > 0
        ? {
            actions: message.actions.map((action) => ({
              action: action.id,
              title: action.title,
              navigate: action.url,
              ...(action.icon ? { icon: action.icon } : {}),
            })),
          }
        : {}),
    },
    herald: {
      v: 1,
      campaignId: context.campaignId,
      occurrence: context.occurrence,
      userId: context.userId,
      token: context.token,
      expiresAt: context.expiresAt.getTime(),
      ...(message.icon ? { icon: message.icon } : {}),
      ...(message.image ? { image: message.image } : {}),
      ...(message.badge ? { badge: message.badge } : {}),
      ...(content.renotify ? { renotify: true } : {}),
      ...(context.reportUrl ? { reportUrl: context.reportUrl } : {}),
    },
  };
}
