import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// End-to-end tests (`*.e2e.test.ts`): real Firefox ESR and Chromium against the example app.
// They run the way `npm start` does: the engine from its sources (tsx applies the root tsconfig
// `paths` there; aliases here), the browser SDK and service worker from their BUILT bundles (dist/),
// which is what the example serves to browsers — run `npm run build` first.
// Run with `npx vitest run -c vitest.e2e.config.ts`.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@herald\/core\/testing$/, replacement: src('./packages/core/src/testing/index.ts') },
      { find: /^@herald\/core\/payload$/, replacement: src('./packages/core/src/payload/index.ts') },
      { find: /^@herald\/core$/, replacement: src('./packages/core/src/index.ts') },
    ],
  },
  test: {
    include: ['**/*.e2e.test.ts'],
    exclude: ['**/node_modules/**'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
