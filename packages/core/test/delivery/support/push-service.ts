import { afterAll, beforeAll } from 'vitest';
import { createTestPushService, type TestPushService } from '../../../src/testing/index.js';

/** The loopback push service a test file sends to: started before its tests, stopped after them. */
export function loopbackPushService(): TestPushService {
  const service = createTestPushService();
  beforeAll(async () => {
    await service.start();
  });
  afterAll(() => service.stop());
  return service;
}
