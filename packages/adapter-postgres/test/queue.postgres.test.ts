import { runQueueSuite } from '@herald/core/testing';
import { queueSuiteOptions } from './helpers.js';

runQueueSuite(queueSuiteOptions('postgres'));
