import type { CountersSuiteOptions } from './harness.js';

export type { CountersSuiteOptions };
export function runCountersSuite(_options: CountersSuiteOptions): void {}
