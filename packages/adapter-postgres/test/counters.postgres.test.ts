import { runCountersSuite } from '@herald/core/testing';
import { vi } from 'vitest';
import { countersSuiteOptions } from './helpers.js';

// PGlite boots a WebAssembly Postgres (seconds; far more on a loaded CI box) and real-server
// cases wait on locks and connections, so this file allows more than the default timeouts.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 240_000 });

runCountersSuite(countersSuiteOptions('postgres'));
