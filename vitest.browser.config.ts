import { defineConfig } from 'vitest/config';
import { sourceAliases } from './vitest.aliases.js';

// Real-browser tests (`*.browser.test.ts`): Debian's Chromium driven by playwright-core, one file at a time.
// Run with `npx vitest run -c vitest.browser.config.ts`.
export default defineConfig({
  resolve: {
    alias: sourceAliases,
  },
  test: {
    include: ['packages/*/test/**/*.browser.test.ts'],
    exclude: ['**/node_modules/**'],
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 90_000,
  },
});
