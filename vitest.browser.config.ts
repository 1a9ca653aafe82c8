import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// Real-browser tests (`*.browser.test.ts`): Debian's Chromium driven by playwright-core, one file at a time.
// Run with `npx vitest run -c vitest.browser.config.ts`.
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
    include: ['packages/*/test/**/*.browser.test.ts'],
    exclude: ['**/node_modules/**'],
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 90_000,
  },
});
