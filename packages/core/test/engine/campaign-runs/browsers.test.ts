import { describe, expect, it } from 'vitest';
import { asUserId } from '../../../src/index.js';
import { P256DH } from '../../../src/testing/fixtures.js';
import { campaignRun } from './harness.js';

// A real P-256 point: subscribe refuses a p256dh that is not one.
const KEYS = { p256dh: P256DH, auth: 'AAAAAAAAAAAAAAAAAAAAAA' };
const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const FIREFOX = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0';

describe('campaigns.browsers: messages, reports and conversions by browser and target', () => {
  it('classifies each message when it is recorded, from the subscription and the user agent it was given', async () => {
    const b = campaignRun({ start: '2026-05-01T09:00:00Z' });
    const subscribe = async (userId: string, endpoint: string, userAgent?: string) => {
      await b.herald.profiles.upsert({ userId, properties: {} });
      await b.herald.subscriptions.add({
        userId,
        subscription: { endpoint: `https://push.example.test/send/${endpoint}`, keys: KEYS },
        ...(userAgent ? { userAgent } : {}),
      });
    };
    // Ann has two browsers; Bob's browser sent no user agent; Cara's push service refuses the message.
    await subscribe('ann', 'ann-chrome', CHROME);
    await subscribe('ann', 'ann-firefox', FIREFOX);
    await subscribe('bob', 'bob');
    await subscribe('cara', 'cara', CHROME);
    b.answers.set('https://push.example.test/send/cara', () => ({
      kind: 'failed',
      statusCode: 400,
      reason: 'bad request',
    }));
    const campaign = await b.launch({ when: { schedule: { type: 'once', at: '2026-05-01T10:00:00Z' } } });
    await b.runUntil('2026-05-01T11:00:00Z');
    const [occurrence] = (await b.herald.campaigns.runs(campaign.id)).runs.map((run) => run.occurrence);
    await b.storage.recordInteraction({
      reportId: 'r1',
      campaignId: campaign.id,
      occurrence: occurrence!,
      userId: asUserId('ann'),
      kind: 'clicked',
      action: null,
      at: new Date('2026-05-01T10:05:00Z'),
    });

    const figures = { users: 1, sent: 1, failed: 0, viewed: 0, clicked: 0, conversions: 0, revenue: 0 };
    expect(await b.herald.campaigns.browsers(campaign.id)).toEqual({
      campaignId: campaign.id,
      browsers: [
        // Ann's click is hers, not one browser's: it counts on both she was reached on.
        { browser: 'chrome', target: 'web-push', ...figures, failed: 1, clicked: 1, clickThroughRate: 1 },
        { browser: 'firefox', target: 'web-push', ...figures, clicked: 1, clickThroughRate: 1 },
        // push.example.test is no known push service, and Bob's browser did not say which it is.
        { browser: 'other', target: 'web-push', ...figures, clickThroughRate: 0 },
      ],
    });
  });

  it('is empty for a campaign that sent nothing yet', async () => {
    const b = campaignRun({ start: '2026-05-01T09:00:00Z' });
    const campaign = await b.launch({ when: { schedule: { type: 'once', at: '2026-05-02T10:00:00Z' } } });
    expect(await b.herald.campaigns.browsers(campaign.id)).toEqual({ campaignId: campaign.id, browsers: [] });
  });
});
