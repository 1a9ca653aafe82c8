// Writes the generated part of docs/ADMIN_API.md (between the markers) from the
// admin API's OpenAPI document: `npx tsx scripts/admin-api-reference.ts`.
// A test (examples/express/test/admin-api-reference.test.ts) fails when the page is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  createHerald,
  generateVapidKeys,
  heraldAdminHttp,
  memoryQueue,
  memoryStorage,
  webPush,
} from '../packages/core/src/index.js';

export const REFERENCE_PAGE = fileURLToPath(new URL('../docs/ADMIN_API.md', import.meta.url));
const START = '<!-- generated from the OpenAPI document: start -->';
const END = '<!-- generated from the OpenAPI document: end -->';

interface Operation {
  operationId: string;
  tags: string[];
  summary: string;
  description?: string;
  parameters?: Array<{ name: string; in: string; required: boolean; description?: string }>;
  requestBody?: {
    content: { 'application/json': { examples?: Record<string, { summary: string; value: unknown }> } };
  };
  responses: Record<string, { description: string }>;
}
type Document = {
  paths: Record<string, Record<string, Operation>>;
  tags: Array<{ name: string; description: string }>;
};

/** The OpenAPI document exactly as the example app serves it (mounted at /admin/api). */
export async function adminOpenApiDocument(): Promise<Document> {
  const herald = createHerald({
    storage: memoryStorage(),
    queue: memoryQueue(),
    providers: {
      webpush: webPush({ vapid: { subject: 'mailto:docs@example.com', ...generateVapidKeys() } }),
    },
    reportSecret: 'reference-generator-only',
  });
  const handle = heraldAdminHttp(herald, {
    authorize: () => ({ allow: false, reason: 'forbidden' }),
    mountPath: '/admin/api',
  });
  const answer = await handle({ method: 'GET', path: '/openapi.json', headers: {}, body: undefined });
  return answer.body as Document;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The reference section: one table per tag, then each operation with its parameters and examples. */
export function renderReference(doc: Document): string {
  const lines: string[] = [START, ''];
  const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({ path, method: method.toUpperCase(), operation })),
  );
  for (const tag of doc.tags) {
    const own = operations.filter((entry) => entry.operation.tags.includes(tag.name));
    if (own.length === 0) continue;
    lines.push(
      `### ${tag.name}`,
      '',
      tag.description,
      '',
      '| Method | Path | What | Answers |',
      '| --- | --- | --- | --- |',
    );
    for (const { path, method, operation } of own) {
      const statuses = Object.keys(operation.responses).join(', ');
      lines.push(
        `| ${method} | \`${path}\` | [${cell(operation.summary)}](#${operation.operationId.toLowerCase()}) | ${statuses} |`,
      );
    }
    lines.push('');
    for (const { path, method, operation } of own) {
      lines.push(`#### ${operation.operationId}`, '', `\`${method} ${path}\`: ${operation.summary}.`, '');
      if (operation.description) lines.push(operation.description, '');
      for (const parameter of operation.parameters ?? []) {
        lines.push(
          `- \`${parameter.name}\` (${parameter.in}${parameter.required ? ', required' : ''})${parameter.description ? `: ${parameter.description}` : ''}`,
        );
      }
      if (operation.parameters?.length) lines.push('');
      for (const [name, example] of Object.entries(
        operation.requestBody?.content['application/json'].examples ?? {},
      )) {
        lines.push(
          `Example \`${name}\`: ${example.summary}.`,
          '',
          '```json',
          JSON.stringify(example.value, null, 2),
          '```',
          '',
        );
      }
    }
  }
  lines.push(END);
  return lines.join('\n');
}

/** The page with its generated section replaced. */
export function withReference(page: string, reference: string): string {
  const from = page.indexOf(START);
  const to = page.indexOf(END);
  if (from < 0 || to < 0) throw new Error(`${REFERENCE_PAGE} lacks the generated-section markers`);
  return page.slice(0, from) + reference + page.slice(to + END.length);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const page = readFileSync(REFERENCE_PAGE, 'utf8');
  writeFileSync(REFERENCE_PAGE, withReference(page, renderReference(await adminOpenApiDocument())));
  console.log(`wrote ${REFERENCE_PAGE}`);
}
