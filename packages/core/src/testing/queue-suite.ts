import type { QueueSuiteOptions } from './harness.js';

export function runQueueSuite(_options: QueueSuiteOptions): void {}
