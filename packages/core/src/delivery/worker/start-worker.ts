import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type ResourceLimits, Worker } from 'node:worker_threads';
import type { WorkerConfig } from './protocol.js';

/**
 * Starts a delivery worker. In the published package this module is
 * bundled into `dist/index.{js,cjs}` and the worker is built beside it as
 * `dist/delivery-worker.{js,cjs}` (tsup entry). Run from the TypeScript
 * sources instead (the test suites, the benchmarks under tsx), the worker
 * is its `.ts` source, loaded through tsx's ESM hooks registered inside the
 * new thread.
 */
export function startDeliveryWorker(config: WorkerConfig, resourceLimits?: ResourceLimits): Worker {
  const limits = resourceLimits ? { resourceLimits } : {};
  const here = import.meta.url;
  const built = new URL(`./delivery-worker.${here.endsWith('.cjs') ? 'cjs' : 'js'}`, here);
  if (!here.endsWith('.ts') && existsSync(fileURLToPath(built))) {
    return new Worker(built, { workerData: config, ...limits });
  }
  const source = new URL('./delivery-worker.ts', here).href;
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(source)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: config, ...limits });
}
