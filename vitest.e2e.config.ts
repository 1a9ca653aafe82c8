import { defineConfig } from 'vitest/config';

// End-to-end tests (`*.e2e.test.ts`): real Firefox ESR and Chromium against the example app.
// No aliases on purpose: like `npm start`, they run on the BUILT packages (run `npm run build` first).
// Run with `npx vitest run -c vitest.e2e.config.ts`.
export default defineConfig({
  test: {
    include: ['**/*.e2e.test.ts'],
    exclude: ['**/node_modules/**'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
