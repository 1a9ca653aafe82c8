import { Liquid, type LiquidOptions, type Template } from 'liquidjs';
import { type FieldIssue, formatPath } from '../../errors/index.js';
import {
  DEFAULT_ICONS,
  type DefaultIcon,
  type JsonValue,
  type MessageContent,
  type Profile,
  type Properties,
  type UserId,
} from '../../model/index.js';
import type { TriggerEvent } from '../jobs.js';

/** What templates can read: `{{ user.first_name }}`, `{{ event.product_name }}`. */
export interface RenderContext {
  user: { id: string } & Properties;
  /** The triggering event's properties, for live campaigns. */
  event?: Properties;
}

/** The render context of one recipient: their profile's properties (and id), and a live trigger's event. */
export function renderContext(
  userId: UserId,
  profile: Profile | undefined,
  event: TriggerEvent | undefined,
): RenderContext {
  return {
    user: { ...(profile?.properties ?? {}), id: userId },
    ...(event ? { event: event.properties } : {}),
  };
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

export interface RenderOptions {
  /** A value missing without a default: render it empty (default) or skip the recipient. */
  onMissingValue?: 'empty' | 'skip';
}

/** A template variable that had no value, and the field it was in. */
export interface MissingValue {
  field: TemplatedField;
  variable: string;
}

export type RenderResult =
  | { ok: true; message: RenderedMessage; missing: MissingValue[] }
  | { ok: false; reason: 'missing-value' | 'render-failed'; issues: FieldIssue[]; missing: MissingValue[] };

export const TEMPLATED_FIELDS = ['title', 'body', 'deeplink', 'image'] as const;
export type TemplatedField = (typeof TEMPLATED_FIELDS)[number];

export interface RendererOptions {
  /** Time budget of one field's rendering, in ms (liquidjs renderLimit). Default 100. */
  renderTimeoutMs?: number;
  /** Where the default icons are served (`${iconBaseUrl}/${name}.png`); needed to use an icon by name. */
  iconBaseUrl?: string;
}

const isUrlField = (field: TemplatedField): boolean => field === 'deeplink' || field === 'image';

/**
 * Personalisation with Liquid (liquidjs), configured for marketer-written
 * templates:
 *
 * - No code runs: Liquid has no expressions beyond filters and tags; only
 *   own properties are readable; an unknown filter is an error at create time.
 * - Missing values: a variable that is absent or JSON null is missing. Inside
 *   `if` / `unless` and as the input of `default` it is simply falsy
 *   (`{{ user.first_name | default: "there" }}`); anywhere else it renders
 *   empty, or skips the recipient when the campaign says `onMissingValue: 'skip'`.
 *   Detection is liquidjs's own `strictVariables` (with `lenientIf`, which
 *   exempts `if` and `default`), so it follows Liquid's scoping exactly.
 * - URLs: in `deeplink` and `image`, every inserted value is URL-encoded
 *   (encodeURIComponent; `| raw` opts out); the rendered URL must be http(s).
 * - Time and memory: each field renders within `renderTimeoutMs` and
 *   liquidjs's memory limit; a template over them fails to render.
 * - Text passes through untouched (no HTML escaping: notifications are plain text).
 */
export function createRenderer(options: RendererOptions = {}) {
  const common: LiquidOptions = {
    strictFilters: true,
    ownPropertyOnly: true,
    renderLimit: options.renderTimeoutMs ?? 100,
    parseLimit: 20_000,
    memoryLimit: 10_000_000,
    cache: 500,
  };
  // A missing value reaches the escape as undefined: it must render empty, not as "undefined".
  const urlEscape = {
    outputEscape: (value: unknown) =>
      value === undefined || value === null ? '' : encodeURIComponent(String(value)),
  };
  const strict = { strictVariables: true, lenientIf: true };
  const engines = {
    text: new Liquid(common),
    url: new Liquid({ ...common, ...urlEscape }),
    strictText: new Liquid({ ...common, ...strict }),
    strictUrl: new Liquid({ ...common, ...urlEscape, ...strict }),
  };
  const templates = templateCache();
  const engineFor = (field: TemplatedField, strictVariables: boolean): Liquid =>
    isUrlField(field)
      ? strictVariables
        ? engines.strictUrl
        : engines.url
      : strictVariables
        ? engines.strictText
        : engines.text;

  /** Syntax and filter errors and unusable icons, found when a campaign is created. */
  function check(content: MessageContent): FieldIssue[] {
    const issues: FieldIssue[] = [];
    for (const field of TEMPLATED_FIELDS) {
      const source = content[field];
      if (source === undefined) continue;
      try {
        engineFor(field, false).parse(source);
      } catch (error) {
        issues.push({ path: formatPath(['what', field]), message: `template error: ${firstLine(error)}` });
      }
    }
    if (content.icon !== undefined && isDefaultIcon(content.icon) && !options.iconBaseUrl) {
      issues.push({
        path: 'what.icon',
        message: `default icon "${content.icon}" needs createHerald({ iconBaseUrl }) to say where the icons are served`,
      });
    }
    return issues;
  }

  /** Renders one field with one engine (parsed once per source, not per recipient). */
  const renderField = (
    field: TemplatedField,
    strictVariables: boolean,
    source: string,
    scope: () => Record<string, unknown>,
  ): string => {
    // Text without a Liquid tag is its own output: no parse, no scope.
    if (isPlainText(source)) return source.trim();
    const engine = engineFor(field, strictVariables);
    return engine.renderSync(templates.get(engine, source), scope()).trim();
  };

  async function render(
    content: MessageContent,
    context: RenderContext,
    renderOptions: RenderOptions = {},
  ): Promise<RenderResult> {
    let stripped: Record<string, unknown> | undefined;
    const scope = () => {
      stripped ??= withoutNulls(context);
      return stripped;
    };
    const issues: FieldIssue[] = [];
    const missing: MissingValue[] = [];
    const out: Partial<Record<TemplatedField, string>> = {};
    for (const field of TEMPLATED_FIELDS) {
      const source = content[field];
      if (source === undefined) continue;
      const path = formatPath(['what', field]);
      try {
        // Synchronous on purpose: liquidjs measures renderLimit in wall time, and
        // an async render interleaved with a batch's sends would be charged for them.
        out[field] = renderField(field, true, source, scope);
        continue;
      } catch (error) {
        const variable = undefinedVariable(error);
        if (variable === null) {
          issues.push({ path, message: firstLine(error) });
          continue;
        }
        missing.push({ field, variable });
        if (renderOptions.onMissingValue === 'skip') {
          issues.push({ path, message: `no value for ${variable}` });
          continue;
        }
      }
      try {
        out[field] = renderField(field, false, source, scope);
      } catch (error) {
        issues.push({ path, message: firstLine(error) });
      }
    }
    if (issues.length > 0) {
      const reason =
        renderOptions.onMissingValue === 'skip' && missing.length > 0 ? 'missing-value' : 'render-failed';
      return { ok: false, reason, issues, missing };
    }
    for (const field of ['deeplink', 'image'] as const) {
      const value = out[field];
      if (value !== undefined && value !== '' && !isHttpUrl(value)) {
        issues.push({
          path: formatPath(['what', field]),
          message: `rendered to "${value}", not an http(s) URL`,
        });
      }
    }
    if (!out.deeplink) issues.push({ path: 'what.deeplink', message: 'rendered empty' });
    if (!out.title) issues.push({ path: 'what.title', message: 'rendered empty' });
    if (issues.length > 0) return { ok: false, reason: 'render-failed', issues, missing };

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
    // An image template that renders empty (an optional product picture) is left out.
    if (out.image) message.image = out.image;
    const icon = content.icon === undefined ? undefined : resolveIcon(content.icon, options.iconBaseUrl);
    if (icon) message.icon = icon;
    if (content.badge) message.badge = content.badge;
    return { ok: true, message, missing };
  }

  return { check, render };
}
export type Renderer = ReturnType<typeof createRenderer>;

/** No `{{ }}` output and no `{% %}` tag: Liquid would print the text as it is. */
function isPlainText(source: string): boolean {
  return !source.includes('{{') && !source.includes('{%');
}

const MAX_CACHED_TEMPLATES = 1000;

/**
 * Parsed templates per engine and source. liquidjs caches parses of
 * template files only; a campaign renders the same few strings for every
 * recipient, and parsing them was most of a render's cost.
 */
function templateCache() {
  const cache = new Map<Liquid, Map<string, Template[]>>();
  return {
    get(engine: Liquid, source: string): Template[] {
      let ofEngine = cache.get(engine);
      if (!ofEngine) {
        ofEngine = new Map();
        cache.set(engine, ofEngine);
      }
      let parsed = ofEngine.get(source);
      if (!parsed) {
        parsed = engine.parse(source);
        // Bounded: a long-running process renders many campaigns over its life.
        if (ofEngine.size >= MAX_CACHED_TEMPLATES) ofEngine.clear();
        ofEngine.set(source, parsed);
      }
      return parsed;
    },
  };
}

export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

export function isDefaultIcon(icon: string): icon is DefaultIcon {
  return (DEFAULT_ICONS as readonly string[]).includes(icon);
}

/** A default icon's URL under `iconBaseUrl`, or the custom URL as given; undefined when a name cannot be resolved. */
export function resolveIcon(icon: string, iconBaseUrl: string | undefined): string | undefined {
  if (!isDefaultIcon(icon)) return icon;
  if (!iconBaseUrl) return undefined;
  return `${iconBaseUrl.replace(/\/+$/, '')}/${icon}.png`;
}

/** The variable liquidjs named in an UndefinedVariableError, or null for any other error. */
function undefinedVariable(error: unknown): string | null {
  if (!(error instanceof Error) || error.name !== 'UndefinedVariableError') return null;
  const match = /undefined variable: ([^,\n]+)/.exec(error.message);
  return match?.[1]?.trim() ?? 'unknown';
}

const firstLine = (error: unknown): string => String((error as Error).message ?? error).split('\n')[0] ?? '';

/** JSON null is a missing value (as in segments), so it is dropped before rendering. */
function withoutNulls(context: RenderContext): Record<string, unknown> {
  const strip = (value: JsonValue): unknown => {
    if (Array.isArray(value)) return value.filter((element) => element !== null).map(strip);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value)
          .filter(([, entry]) => entry !== null)
          .map(([key, entry]) => [key, strip(entry)]),
      );
    }
    return value;
  };
  return strip(context as unknown as JsonValue) as Record<string, unknown>;
}

/** Missing variables as decision-log facts ("missing": ["title: user.first_name"]), nothing when none. */
export function missingFacts(missing: readonly MissingValue[]): { missing?: string[] } {
  return missing.length === 0 ? {} : { missing: missing.map((m) => `${m.field}: ${m.variable}`) };
}
