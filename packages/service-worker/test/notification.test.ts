import { parseHeraldPayload } from '@herald/core/payload';
import { describe, expect, it } from 'vitest';
import { clickTarget, isExpired, isHeraldNotificationData, toNotification } from '../src/notification.js';
import { heraldPayload } from './fixtures.js';

describe('payload → notification', () => {
  it('maps every field core sends', () => {
    const payload = parseHeraldPayload(heraldPayload())!;
    expect(payload).not.toBeNull();
    const { title, options } = toNotification(payload, 'https://shop.example/herald/reports');
    expect(title).toBe('Price drop');
    expect(options).toMatchObject({
      body: 'Your sneakers are 20% off',
      icon: 'https://shop.example/icon.png',
      image: 'https://shop.example/sneakers.jpg',
      badge: 'https://shop.example/badge.png',
      tag: 'deal-42',
      renotify: true,
      requireInteraction: true,
      actions: [
        { action: 'buy', title: 'Buy now' },
        { action: 'later', title: 'Remind me' },
      ],
    });
    expect(options.data).toEqual({
      herald: {
        v: 1,
        campaignId: 'cmp_1',
        occurrence: '2026-01-01T10:00:00.000Z',
        userId: 'user_7',
        token: 'signed.report.token',
        reportUrl: 'https://shop.example/herald/reports',
        navigate: 'https://shop.example/deal/42',
        actions: { buy: 'https://shop.example/cart?add=42', later: 'https://shop.example/remind/42' },
      },
    });
    // The data survives structured cloning (notification.data is cloned by the browser).
    expect(structuredClone(options.data)).toEqual(options.data);
  });

  it('drops renotify without a tag (browsers throw on it) and omits absent fields', () => {
    const payload = heraldPayload();
    delete payload.notification.tag;
    delete payload.notification.actions;
    delete payload.herald.image;
    const { options } = toNotification(payload, 'https://x.example/r');
    expect(options).not.toHaveProperty('renotify');
    expect(options).not.toHaveProperty('tag');
    expect(options).not.toHaveProperty('actions');
    expect(options).not.toHaveProperty('image');
  });

  it('sends a click to the action’s own URL, else to the deeplink', () => {
    const { options } = toNotification(heraldPayload(), 'https://x.example/r');
    expect(clickTarget(options.data, '')).toBe('https://shop.example/deal/42');
    expect(clickTarget(options.data, 'buy')).toBe('https://shop.example/cart?add=42');
    expect(clickTarget(options.data, 'unknown')).toBe('https://shop.example/deal/42');
  });

  it('knows its own notifications', () => {
    const { options } = toNotification(heraldPayload(), 'https://x.example/r');
    expect(isHeraldNotificationData(options.data)).toBe(true);
    expect(isHeraldNotificationData(null)).toBe(false);
    expect(isHeraldNotificationData({ url: '/x' })).toBe(false);
  });

  it('honours the TTL', () => {
    expect(isExpired(heraldPayload({ expiresAt: 1000 }), 999)).toBe(false);
    expect(isExpired(heraldPayload({ expiresAt: 1000 }), 1000)).toBe(true);
  });

  it('is not fooled by other pushes', () => {
    expect(parseHeraldPayload({ title: 'hi' })).toBeNull();
    expect(parseHeraldPayload({ ...heraldPayload(), web_push: 1 })).toBeNull();
    expect(parseHeraldPayload('text')).toBeNull();
  });
});
