import { afterAll, beforeAll } from 'vitest';
import { createDevPushService, type DevPushService } from '../../../src/dev/index.js';

/** The loopback push service a test file sends to: started before its tests, stopped after them. */
export function loopbackPushService(): DevPushService {
  const service = createDevPushService();
  beforeAll(async () => {
    await service.start();
  });
  afterAll(() => service.stop());
  return service;
}
