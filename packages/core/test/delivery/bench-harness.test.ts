import { describe, expect, it } from 'vitest';
import { runDeliveryBench, STACKS, type Stack } from '../../../../bench/delivery/bench.js';

/** The benchmark's harness works end to end at a tiny N; its figures are not asserted (it is not a timed test). */
describe('bench/delivery harness', () => {
  it('runs the baseline, the limit and Herald on every stack for 200 messages and verifies the sampled bodies', async () => {
    const pgUrl = process.env.HERALD_TEST_PG_URL;
    const redisUrl = process.env.HERALD_TEST_REDIS_URL;
    // The shared stacks need the test servers; without them the memory stack still proves the harness.
    const stacks: readonly Stack[] = pgUrl && redisUrl ? STACKS : ['memory'];
    const result = await runDeliveryBench({
      n: 200,
      sampleEvery: 20,
      encryptionWorkers: 1,
      stacks,
      ...(pgUrl ? { pgUrl } : {}),
      ...(redisUrl ? { redisUrl } : {}),
    });
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
        'stacks',
      ]),
    );
    expect(result).toMatchObject({
      n: 200,
      verified: true,
      samples_checked: 20,
      herald_sent: 200,
      herald_h2_requests: 200,
    });
    expect(Object.keys(result.stacks)).toEqual(stacks);
    for (const stack of stacks) {
      expect(result.stacks[stack]).toMatchObject({ verified: true, sent: 200, samples_checked: 10 });
    }
  }, 120_000);
});
