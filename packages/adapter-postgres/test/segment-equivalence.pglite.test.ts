import { runSegmentEquivalenceSuite } from '@herald/core/testing/fuzz';
import { vi } from 'vitest';
import { segmentEquivalenceOptions } from './helpers.js';

// PGlite boots a WebAssembly Postgres (seconds; far more on a loaded CI box), so this file
// allows more than the default timeouts.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 240_000 });

runSegmentEquivalenceSuite(segmentEquivalenceOptions('pglite'));
