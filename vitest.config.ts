import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// Tests import sibling packages by their public names; resolve those to the
// sources so the suite never runs against a stale build.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@herald\/core\/testing$/, replacement: src('./packages/core/src/testing/index.ts') },
      { find: /^@herald\/core\/payload$/, replacement: src('./packages/core/src/payload/index.ts') },
      { find: /^@herald\/core$/, replacement: src('./packages/core/src/index.ts') },
      { find: /^@herald\/adapter-postgres$/, replacement: src('./packages/adapter-postgres/src/index.ts') },
      { find: /^@herald\/adapter-redis$/, replacement: src('./packages/adapter-redis/src/index.ts') },
      { find: /^@herald\/browser-sdk$/, replacement: src('./packages/browser-sdk/src/index.ts') },
      { find: /^@herald\/service-worker$/, replacement: src('./packages/service-worker/src/index.ts') },
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/*.browser.test.ts', '**/*.e2e.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
