import { defineConfig } from 'vitest/config';
import { sourceAliases } from './vitest.aliases.js';

// Tests import sibling packages by their public names; resolve those to the
// sources so the suite never runs against a stale build.
export default defineConfig({
  resolve: {
    alias: sourceAliases,
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/*.browser.test.ts', '**/*.e2e.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
