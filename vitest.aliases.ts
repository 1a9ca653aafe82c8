import { fileURLToPath } from 'node:url';

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * Tests import sibling packages by their public names; these aliases resolve
 * them to the sources so a suite never runs against a stale build.
 */
export const sourceAliases = [
  { find: /^@herald\/core\/testing$/, replacement: src('./packages/core/src/testing/index.ts') },
  { find: /^@herald\/core\/testing\/fuzz$/, replacement: src('./packages/core/src/testing/fuzz/index.ts') },
  { find: /^@herald\/core\/dev$/, replacement: src('./packages/core/src/dev/index.ts') },
  { find: /^@herald\/core\/payload$/, replacement: src('./packages/core/src/payload/index.ts') },
  { find: /^@herald\/core$/, replacement: src('./packages/core/src/index.ts') },
  { find: /^@herald\/adapter-postgres$/, replacement: src('./packages/adapter-postgres/src/index.ts') },
  { find: /^@herald\/adapter-redis$/, replacement: src('./packages/adapter-redis/src/index.ts') },
  { find: /^@herald\/browser-sdk$/, replacement: src('./packages/browser-sdk/src/index.ts') },
  { find: /^@herald\/service-worker$/, replacement: src('./packages/service-worker/src/index.ts') },
  { find: /^@herald\/dashboard$/, replacement: src('./packages/dashboard/src/index.ts') },
];

/** The engine's packages only: the end-to-end tests serve the browser packages from their builds. */
export const engineAliases = sourceAliases.filter(({ find }) => /core|adapter/.test(String(find)));
