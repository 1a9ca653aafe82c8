import { describe, expect, it } from 'vitest';
import { runDeliveryBench } from '../../../../bench/delivery/bench.js';

/** The benchmark's harness works end to end at a tiny N; its figures are not asserted (it is not a timed test). */
describe('bench/delivery harness', () => {
  it('runs the three ways of sending for 200 messages and verifies the sampled bodies', async () => {
    const result = await runDeliveryBench({ n: 200, sampleEvery: 20, encryptionWorkers: 1 });
    expect(Object.keys(result)).toEqual(
      expect.arrayContaining([
        'n',
        'baseline_msgs_per_s',
        'limit_msgs_per_s',
        'herald_msgs_per_s',
        'ratio_baseline',
        'ratio_limit',
        'ceiling_msgs_per_s',
        'peak_rss_mb',
        'verified',
      ]),
    );
    expect(result).toMatchObject({
      n: 200,
      verified: true,
      samples_checked: 20,
      herald_sent: 200,
      herald_h2_requests: 200,
    });
  }, 60_000);
});
