import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ExampleProcess, startExample } from './support/example-process.js';

// The example boots PGlite (WebAssembly Postgres) and migrates it: seconds, tens of them on a loaded box.
vi.setConfig({ testTimeout: 180_000 });
const LISTEN_TIMEOUT_MS = 120_000;

/**
 * `npm start` as a deploy stops it: the example must stop accepting HTTP,
 * drain Herald, close its database and exit 0, promptly, on SIGTERM and on
 * Ctrl-C (SIGINT).
 */
describe('the example app on SIGTERM and SIGINT', () => {
  let app: ExampleProcess | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  // SIGTERM on the default embedded Postgres (PGlite, closed on the way out), SIGINT on memory storage.
  const cases = [
    { signal: 'SIGTERM', storage: 'pglite' },
    { signal: 'SIGINT', storage: 'memory' },
  ] as const;
  for (const { signal, storage } of cases) {
    it(`exits 0 promptly on ${signal} (${storage}), with a keep-alive client connected`, async () => {
      app = await startExample({ HERALD_STORAGE: storage }, LISTEN_TIMEOUT_MS);
      // A request first: fetch keeps its connection alive, which must not hold the shutdown open.
      expect((await fetch(`${app.origin}/config.json`)).status).toBe(200);
      const exit = await app.signal(signal);
      expect(exit, app.output.join('\n')).toMatchObject({ code: 0, signal: null });
      // Nothing runs, so no job waits out the shutdown timeout (10 s): the exit is about closing things.
      expect(exit.ms).toBeLessThan(5_000);
      expect(app.output).toContain(`${signal}: shutting down`);
      await expect(fetch(app.origin)).rejects.toThrow();
    });
  }
});
