import type { CounterSpec } from '../../../ports/index.js';

const MINUTE = 60_000;

/** The throttle counter of a campaign for the UTC minute holding `now`: at most `perMinute` sends in it. */
export function throttleSpec(campaignId: string, perMinute: number, now: Date): CounterSpec {
  const minute = Math.floor(now.getTime() / MINUTE);
  return {
    key: `herald:throttle:${campaignId}:${minute}`,
    limit: perMinute,
    expiresAt: new Date((minute + 2) * MINUTE),
  };
}

/** The start of the next minute: where a throttled message waits. */
export function nextMinute(now: Date): Date {
  return new Date((Math.floor(now.getTime() / MINUTE) + 1) * MINUTE);
}

export function isThrottleKey(key: string): boolean {
  return key.startsWith('herald:throttle:');
}
