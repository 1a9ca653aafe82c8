import { defineConfig } from 'vitest/config';
import { sourceAliases } from './vitest.aliases.js';

// Tests import sibling packages by their public names; resolve those to the
// sources so the suite never runs against a stale build.
export default defineConfig({
  resolve: {
    alias: sourceAliases,
  },
  test: {
    // test/packaging: npm pack of every package, installed and run outside the workspace (needs a build).
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/*.browser.test.ts', '**/*.e2e.test.ts', '**/*.dashboard.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
