import { Liquid } from 'liquidjs';
import { type FieldIssue, formatPath } from '../errors/index.js';
import type { MessageContent, Properties } from '../model/index.js';

/** What templates can read: `{{ user.first_name }}`, `{{ event.product_name }}`. */
export interface RenderContext {
  user: { id: string } & Properties;
  event?: Properties;
}

export interface RenderedMessage {
  title: string;
  body: string;
  deeplink: string;
  image?: string;
  icon?: string;
  badge?: string;
  actions: { id: string; title: string; url: string; icon?: string }[];
}

export type RenderResult = { ok: true; message: RenderedMessage } | { ok: false; issues: FieldIssue[] };

const TEMPLATED = ['title', 'body', 'deeplink', 'image'] as const;

/**
 * Liquid, configured to be safe for marketer-written templates: only own
 * properties are readable, unknown filters are errors, and rendering has a
 * time budget. URL fields escape every inserted value.
 */
export function createRenderer(options: { renderTimeoutMs?: number } = {}) {
  const common = {
    strictFilters: true,
    ownPropertyOnly: true,
    renderLimit: options.renderTimeoutMs ?? 100,
    parseLimit: 10_000,
    cache: 500,
  };
  const text = new Liquid(common);
  const url = new Liquid({ ...common, outputEscape: (value: unknown) => encodeURIComponent(String(value)) });
  const engineFor = (field: (typeof TEMPLATED)[number]) =>
    field === 'deeplink' || field === 'image' ? url : text;

  /** Syntax and filter errors, found when a campaign is created. */
  function check(content: MessageContent): FieldIssue[] {
    const issues: FieldIssue[] = [];
    for (const field of TEMPLATED) {
      const source = content[field];
      if (source === undefined) continue;
      try {
        engineFor(field).parse(source);
      } catch (error) {
        issues.push({
          path: formatPath(['what', field]),
          message: `template error: ${(error as Error).message}`,
        });
      }
    }
    return issues;
  }

  async function render(content: MessageContent, context: RenderContext): Promise<RenderResult> {
    const issues: FieldIssue[] = [];
    const out: Partial<Record<(typeof TEMPLATED)[number], string>> = {};
    for (const field of TEMPLATED) {
      const source = content[field];
      if (source === undefined) continue;
      try {
        out[field] = (await engineFor(field).parseAndRender(source, context)).trim();
      } catch (error) {
        issues.push({ path: formatPath(['what', field]), message: (error as Error).message });
      }
    }
    for (const field of ['deeplink', 'image'] as const) {
      const value = out[field];
      if (value !== undefined && !isHttpUrl(value)) {
        issues.push({
          path: formatPath(['what', field]),
          message: `rendered to "${value}", not an http(s) URL`,
        });
      }
    }
    if (!out.title) issues.push({ path: 'what.title', message: 'rendered empty' });
    if (issues.length > 0) return { ok: false, issues };
    const deeplink = out.deeplink as string;
    const message: RenderedMessage = {
      title: out.title as string,
      body: out.body ?? '',
      deeplink,
      actions: content.actions.map((action) => ({
        id: action.id,
        title: action.title,
        url: action.url ?? deeplink,
        ...(action.icon ? { icon: action.icon } : {}),
      })),
    };
    if (out.image) message.image = out.image;
    if (content.icon) message.icon = content.icon;
    if (content.badge) message.badge = content.badge;
    return { ok: true, message };
  }

  return { check, render };
}
export type Renderer = ReturnType<typeof createRenderer>;

export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}
