export type * from './harness.js';
