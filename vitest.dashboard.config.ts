import { defineConfig } from 'vitest/config';
import { sourceAliases } from './vitest.aliases.js';

// The dashboard in a real browser (`*.dashboard.test.ts`): Debian's Chromium driven by playwright-core
// against the example app on a real Postgres. The engine runs from its sources; the dashboard's
// front end is served from its build (packages/dashboard/dist/app): run `npm run build` first.
// `npm run test:dashboard` starts throwaway Postgres and Redis around it.
export default defineConfig({
  resolve: {
    alias: sourceAliases,
  },
  test: {
    include: ['packages/dashboard/test/**/*.dashboard.test.ts'],
    exclude: ['**/node_modules/**'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 90_000,
  },
});
