import { runStorageSuite } from '@herald/core/testing';
import { storageSuiteOptions } from './helpers.js';

runStorageSuite(storageSuiteOptions('pglite'));
