import type { HeraldPayload } from '@herald/core/payload';

/** A payload exactly as core renders it. */
export function heraldPayload(
  overrides: { expiresAt?: number; reportUrl?: string; tag?: string } = {},
): HeraldPayload {
  return {
    web_push: 8030,
    notification: {
      title: 'Price drop',
      body: 'Your sneakers are 20% off',
      navigate: 'https://shop.example/deal/42',
      tag: overrides.tag ?? 'deal-42',
      require_interaction: true,
      actions: [
        { action: 'buy', title: 'Buy now', navigate: 'https://shop.example/cart?add=42' },
        { action: 'later', title: 'Remind me', navigate: 'https://shop.example/remind/42' },
      ],
    },
    herald: {
      v: 1,
      campaignId: 'cmp_1',
      occurrence: '2026-01-01T10:00:00.000Z',
      userId: 'user_7',
      token: 'signed.report.token',
      expiresAt: overrides.expiresAt ?? Date.now() + 3600_000,
      icon: 'https://shop.example/icon.png',
      image: 'https://shop.example/sneakers.jpg',
      badge: 'https://shop.example/badge.png',
      renotify: true,
      ...(overrides.reportUrl ? { reportUrl: overrides.reportUrl } : {}),
    },
  };
}
