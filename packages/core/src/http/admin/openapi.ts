import { z } from 'zod';
import { Campaign, CampaignInput } from '../../model/index.js';
import { ADMIN_HTTP_ERRORS, ErrorBody } from './errors.js';
import type { AdminRoute } from './route-table.js';

type JsonSchema = Record<string, unknown>;
type Io = 'input' | 'output';

export interface OpenApiOptions {
  title?: string;
  version?: string;
  /** Where the API is mounted, e.g. `/admin/api`: the document's `servers` entry. */
  mountPath?: string;
  /** Whether GET /openapi.json needs authorisation (then the document says so). */
  specIsPublic: boolean;
}

/** Schemas given a name in `components`, referenced wherever they appear. */
const NAMED: Array<[z.ZodType, Io, string]> = [
  [Campaign, 'output', 'Campaign'],
  [CampaignInput, 'input', 'CampaignInput'],
  [ErrorBody, 'output', 'Error'],
];

const STATUS_TEXT: Record<number, string> = {
  400: 'Invalid input: `validation_failed` with `issues` (one per bad field, by path), or `malformed_json`.',
  401: 'No or bad credentials (`unauthenticated`).',
  403: 'Authenticated but not allowed this operation (`forbidden`).',
  404: 'No such resource (`not_found`) or route (`route_not_found`).',
  409: 'Refused by the current state: a lifecycle transition that is not allowed, a concurrent change, a segment in use (`conflict`), or an Idempotency-Key already used elsewhere (`idempotency_key_in_use`).',
  412: 'If-Match names another version of the campaign (`version_mismatch`): reload and retry.',
  413: 'Body over the size limit (`body_too_large`).',
  415: 'Body not sent as application/json (`unsupported_media_type`).',
  422: 'Well-formed but refused: an Idempotency-Key reused with a different body (`idempotency_key_reused`).',
};

/**
 * The OpenAPI 3.1 document of the admin API, generated from the route table
 * and the zod schemas the routes validate with (`z.toJSONSchema`), so the
 * document and the validation cannot disagree.
 */
export function buildOpenApi(routes: readonly AdminRoute[], options: OpenApiOptions): JsonSchema {
  const components = new SchemaComponents();
  for (const [schema, io, name] of NAMED) components.define(name, schema, io);
  const paths: Record<string, Record<string, unknown>> = {};

  for (const route of routes) {
    const parameters: unknown[] = [
      ...objectParameters(components, route.params, 'path'),
      ...objectParameters(components, route.query, 'query'),
    ];
    if (route.campaignVersion === 'if-match') {
      parameters.push({
        name: 'If-Match',
        in: 'header',
        required: false,
        description:
          'The campaign’s ETag (its version); the change is refused with 412 when it has moved on.',
        schema: { type: 'string', examples: ['"3"'] },
      });
    }
    if (route.idempotent) {
      parameters.push({
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description:
          'Any unique string (a UUID): a retry with the same key and body gets the first answer instead of creating again.',
        schema: { type: 'string', minLength: 1, maxLength: 255 },
      });
    }
    const responses: Record<string, unknown> = {
      [String(route.response.status)]: successResponse(components, route),
    };
    const errorStatuses = route.public
      ? []
      : [...new Set([400, 401, 403, ...(route.body ? [413, 415] : []), ...route.errors])].sort();
    for (const status of errorStatuses) {
      responses[String(status)] = {
        description: STATUS_TEXT[status] ?? 'Error.',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      };
    }
    const operation: Record<string, unknown> = {
      operationId: route.operationId,
      tags: [route.tag],
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: {
                'application/json': {
                  schema: components.schemaOf(route.body, 'input'),
                  ...(route.examples ? { examples: route.examples } : {}),
                },
              },
            },
          }
        : {}),
      responses,
      ...(route.public ? { security: [] } : {}),
      ...(route.changes ? { 'x-herald-audited': true } : {}),
    };
    const pathItem = paths[route.path] ?? {};
    pathItem[route.method.toLowerCase()] = operation;
    paths[route.path] = pathItem;
  }

  return {
    openapi: '3.1.0',
    info: {
      title: options.title ?? 'Herald admin API',
      version: options.version ?? '1',
      description:
        'Campaigns, segments, profiles and events of one Herald engine. Errors are `{ error: { code, message, issues? } }` with a stable `code`. Authorisation is the host’s (`authorize`); the bearer scheme below is what `bearerToken()` checks.',
    },
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    ...(options.mountPath ? { servers: [{ url: options.mountPath }] } : {}),
    security: [{ bearerAuth: [] }],
    tags: [
      { name: 'campaigns', description: 'Create, schedule, run and read campaigns.' },
      { name: 'segments', description: 'Saved audiences and reach estimates.' },
      { name: 'profiles', description: 'Users: properties, zone, test flag, subscriptions.' },
      { name: 'events', description: 'Server-side events.' },
      { name: 'meta', description: 'This document.' },
    ],
    paths,
    components: {
      schemas: components.all(),
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } },
      'x-herald-error-codes': ADMIN_HTTP_ERRORS,
    },
  };
}

function successResponse(components: SchemaComponents, route: AdminRoute): unknown {
  const headers: Record<string, unknown> = {};
  if (route.campaignVersion) {
    headers.ETag = { description: 'The campaign’s version, for If-Match.', schema: { type: 'string' } };
  }
  if (route.operationId === 'createCampaign') {
    headers.Location = { description: 'Where the new campaign is.', schema: { type: 'string' } };
  }
  return {
    description: route.response.description,
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    ...(route.response.schema
      ? { content: { 'application/json': { schema: components.schemaOf(route.response.schema, 'output') } } }
      : {}),
  };
}

function objectParameters(
  components: SchemaComponents,
  shape: z.ZodObject | undefined,
  where: 'path' | 'query',
): unknown[] {
  if (!shape) return [];
  const schema = components.schemaOf(shape, 'input') as {
    properties?: Record<string, JsonSchema>;
    required?: string[];
  };
  return Object.entries(schema.properties ?? {}).map(([name, property]) => {
    const { description, ...rest } = property as { description?: string };
    return {
      name,
      in: where,
      required: where === 'path' || (schema.required ?? []).includes(name),
      ...(description ? { description } : {}),
      schema: rest,
    };
  });
}

/**
 * Turns zod schemas into JSON Schema for `components`: named schemas become
 * `$ref`s, and the `$defs` zod emits for recursive types (segment
 * definitions, JSON values) are hoisted into `components.schemas`, because
 * inside an OpenAPI document `#/$defs/…` would point at the document's root.
 */
class SchemaComponents {
  private readonly named = new Map<z.ZodType, { name: string; io: Io }>();
  private readonly schemas: Record<string, unknown> = {};
  private readonly hoisted = new Map<string, string>();

  define(name: string, schema: z.ZodType, io: Io): void {
    this.named.set(schema, { name, io });
    this.schemas[name] = this.convert(schema, io, true);
  }

  schemaOf(schema: z.ZodType, io: Io): unknown {
    const named = this.named.get(schema);
    if (named && named.io === io) return { $ref: `#/components/schemas/${named.name}` };
    return this.convert(schema, io, false);
  }

  all(): Record<string, unknown> {
    return Object.fromEntries(Object.entries(this.schemas).sort(([a], [b]) => a.localeCompare(b)));
  }

  private convert(schema: z.ZodType, io: Io, isDefinition: boolean): JsonSchema {
    const json = z.toJSONSchema(schema, {
      target: 'draft-2020-12',
      io,
      unrepresentable: 'any',
      override: (context) => {
        const zod = context.zodSchema as unknown as z.ZodType;
        // Instants cross HTTP as ISO 8601 strings.
        if ((zod as { _zod: { def: { type: string } } })._zod.def.type === 'date') {
          context.jsonSchema.type = 'string';
          context.jsonSchema.format = 'date-time';
        }
        const named = this.named.get(zod);
        if (named && named.io === io && !(isDefinition && context.path.length === 0)) {
          for (const key of Object.keys(context.jsonSchema)) delete context.jsonSchema[key];
          context.jsonSchema.$ref = `#/components/schemas/${named.name}`;
        }
      },
    }) as JsonSchema;
    delete json.$schema;
    const defs = (json.$defs ?? {}) as Record<string, JsonSchema>;
    delete json.$defs;
    const renamed = new Map<string, string>();
    for (const [local, definition] of Object.entries(defs)) renamed.set(local, this.hoist(definition, io));
    const rewrite = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(rewrite);
      if (value === null || typeof value !== 'object') return value;
      return Object.fromEntries(
        Object.entries(value).map(([key, inner]) => {
          if (key === '$ref' && typeof inner === 'string' && inner.startsWith('#/$defs/')) {
            return [key, `#/components/schemas/${renamed.get(inner.slice('#/$defs/'.length))}`];
          }
          return [key, rewrite(inner)];
        }),
      );
    };
    for (const [local, name] of renamed) {
      if (this.schemas[name] === PENDING) this.schemas[name] = rewrite(defs[local]);
    }
    return rewrite(json) as JsonSchema;
  }

  /** One component per distinct recursive definition, named after what it is when recognisable. */
  private hoist(definition: JsonSchema, io: Io): string {
    // zod numbers its $defs per conversion (__schema0, …): compare definitions without those names.
    const fingerprint = `${JSON.stringify(definition).replace(/#\/\$defs\/[^"]+/g, '#')}`;
    const known = this.hoisted.get(fingerprint);
    if (known) return known;
    const variants = ((definition.anyOf ?? definition.oneOf ?? []) as JsonSchema[]).map(
      (variant) =>
        ((variant.properties as Record<string, JsonSchema> | undefined)?.type as JsonSchema)?.const,
    );
    const base = variants.includes('all')
      ? 'SegmentDefinition'
      : (definition.anyOf as JsonSchema[] | undefined)?.some((v) => v.type === 'null')
        ? 'JsonValue'
        : 'Shared';
    const wanted = io === 'input' && base !== 'JsonValue' ? `${base}Input` : base;
    let name = wanted;
    for (let n = 2; name in this.schemas; n++) name = `${wanted}${n}`;
    this.hoisted.set(fingerprint, name);
    this.schemas[name] = PENDING;
    return name;
  }
}

const PENDING = Symbol('pending');
