import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as core from '../../src/index.js';

const doc = readFileSync(new URL('../../../../docs/LIMITS.md', import.meta.url), 'utf8');

/** `| What | 256 characters | `MAX_TITLE_LENGTH` |` → ['MAX_TITLE_LENGTH', 256]. */
const documented = [...doc.matchAll(/^\|[^|]+\|\s*([\d,]+)[^|]*\|\s*`(\w+)`\s*\|$/gm)].map(
  ([, value, constant]) => [constant as string, Number((value as string).replace(/,/g, ''))] as const,
);

describe('docs/LIMITS.md', () => {
  it('lists every limit constant with the value the code enforces', () => {
    expect(documented.length).toBeGreaterThan(20);
    for (const [constant, value] of documented) {
      // biome-ignore lint/performance/noDynamicNamespaceImportAccess: the doc names constants; a test is not bundled
      expect(core[constant as keyof typeof core], constant).toBe(value);
    }
    const exported = Object.keys(core).filter((name) => /^MAX_[A-Z_]+$/.test(name));
    expect(documented.map(([constant]) => constant).sort()).toEqual(exported.sort());
  });

  it('the constants are the limits the schemas apply', () => {
    const base = {
      name: 'n',
      when: { schedule: { type: 'once', at: '2026-03-01T10:00:00Z' } },
      who: { segment: { type: 'all' } },
      what: { title: 't', deeplink: 'https://example.com/' },
    };
    const accepts = (input: object) => core.CampaignInput.safeParse(input).success;
    const title = (length: number) => ({ ...base, what: { ...base.what, title: 'x'.repeat(length) } });
    expect([accepts(title(core.MAX_TITLE_LENGTH)), accepts(title(core.MAX_TITLE_LENGTH + 1))]).toEqual([
      true,
      false,
    ]);
    const name = (length: number) => ({ ...base, name: 'x'.repeat(length) });
    expect([
      accepts(name(core.MAX_CAMPAIGN_NAME_LENGTH)),
      accepts(name(core.MAX_CAMPAIGN_NAME_LENGTH + 1)),
    ]).toEqual([true, false]);
    const ttl = (seconds: number) => ({ ...base, what: { ...base.what, ttlSeconds: seconds } });
    expect([accepts(ttl(core.MAX_TTL_SECONDS)), accepts(ttl(core.MAX_TTL_SECONDS + 1))]).toEqual([
      true,
      false,
    ]);
    const deeplink = (length: number) => ({
      ...base,
      what: { ...base.what, deeplink: `https://example.com/${'a'.repeat(length - 20)}` },
    });
    expect([accepts(deeplink(core.MAX_URL_LENGTH)), accepts(deeplink(core.MAX_URL_LENGTH + 1))]).toEqual([
      true,
      false,
    ]);
  });
});
