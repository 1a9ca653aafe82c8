export type * from './clock.js';
export type * from './counters.js';
export type * from './logger.js';
export type * from './queue.js';
export type * from './storage.js';
