import { defineConfig } from 'vitest/config';
import { engineAliases } from './vitest.aliases.js';

// End-to-end tests (`*.e2e.test.ts`): real Firefox ESR and Chromium against the example app.
// They run the way `npm start` does: the engine from its sources (tsx applies the root tsconfig
// `paths` there; aliases here), the browser SDK and service worker from their BUILT bundles (dist/),
// which is what the example serves to browsers — run `npm run build` first.
// Run with `npx vitest run -c vitest.e2e.config.ts`.
export default defineConfig({
  resolve: {
    alias: engineAliases,
  },
  test: {
    include: ['**/*.e2e.test.ts'],
    exclude: ['**/node_modules/**'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
