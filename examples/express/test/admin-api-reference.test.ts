import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  adminOpenApiDocument,
  REFERENCE_PAGE,
  renderReference,
  withReference,
} from '../../../scripts/admin-api-reference.js';

describe('docs/ADMIN_API.md', () => {
  it('is up to date with the OpenAPI document (regenerate: npx tsx scripts/admin-api-reference.ts)', async () => {
    const page = readFileSync(REFERENCE_PAGE, 'utf8');
    const doc = await adminOpenApiDocument();
    expect(page).toBe(withReference(page, renderReference(doc)));
    for (const path of Object.keys(doc.paths)) expect(page).toContain(`\`${path}\``);
  });
});
