import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    testing: 'src/testing/index.ts',
    // The fast-check suites, apart so that `testing` loads where fast-check (an optional peer) is absent.
    'testing-fuzz': 'src/testing/fuzz/index.ts',
    // The loopback push service for local development: no test runner in its module graph.
    dev: 'src/dev/index.ts',
    payload: 'src/payload/index.ts',
    // Started by the webPush provider's delivery pool as a worker thread, from beside the bundle.
    'delivery-worker': 'src/delivery/worker/delivery-worker.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  // import.meta.url in the CJS build too: the delivery pool finds its worker file relative to it.
  shims: true,
  // The conformance suites (@herald/core/testing) call vitest, and those under /testing/fuzz also
  // fast-check; the host's test setup provides them.
  external: ['vitest', 'fast-check'],
});
