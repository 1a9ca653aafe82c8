import { describe, expect, it } from 'vitest';
import { reportTokens } from '../../../src/engine/observe/report-token.js';
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
    const campaign = await b.launch({
      when: { schedule: { type: 'once', at: '2026-05-01T10:00:00Z' } },
      setup: { conversion: { event: { name: 'Charged' }, windowHours: 24, revenueProperty: 'amount' } },
    });
    await b.runUntil('2026-05-01T11:00:00Z');
    const tokenTo = (endpoint: string) => {
      const message = b.sent.find((sent) => sent.endpoint === `https://push.example.test/send/${endpoint}`);
      if (!message) throw new Error(`nothing was sent to ${endpoint}`);
      return message.token;
    };
    // Ann views the message on Chrome and clicks it on Firefox: each report counts where it was made.
    await b.herald.reports.record({ reportId: 'report-1', token: tokenTo('ann-chrome'), kind: 'viewed' });
    await b.herald.reports.record({ reportId: 'report-2', token: tokenTo('ann-firefox'), kind: 'clicked' });
    // Her view on Firefox too is the same report of hers (one per run, user and kind): counted once, on Chrome.
    await b.herald.reports.record({ reportId: 'report-3', token: tokenTo('ann-firefox'), kind: 'viewed' });
    // Bob's report carries a token signed before tokens named a browser: his run's message decides.
    const [run] = (await b.herald.campaigns.runs(campaign.id)).runs;
    const oldToken = reportTokens('x'.repeat(32)).sign({
      campaignId: campaign.id,
      occurrence: run!.occurrence,
      userId: 'bob',
      expiresAt: new Date('2026-06-01T00:00:00Z'),
    });
    await b.herald.reports.record({ reportId: 'report-4', token: oldToken, kind: 'clicked' });
    // Bob converts: under the browser of his run's latest message sent.
    await b.herald.events.track({ userId: 'bob', name: 'Charged', properties: { amount: 20 } });

    const figures = { users: 1, sent: 1, failed: 0, viewed: 0, clicked: 0, conversions: 0, revenue: 0 };
    expect(await b.herald.campaigns.browsers(campaign.id)).toEqual({
      campaignId: campaign.id,
      browsers: [
        { browser: 'chrome', target: 'web-push', ...figures, failed: 1, viewed: 1, clickThroughRate: 0 },
        { browser: 'firefox', target: 'web-push', ...figures, clicked: 1, clickThroughRate: 1 },
        // push.example.test is no known push service, and Bob's browser did not say which it is.
        {
          browser: 'other',
          target: 'web-push',
          ...figures,
          clicked: 1,
          conversions: 1,
          revenue: 20,
          clickThroughRate: 1,
        },
      ],
    });
    // Every report and conversion counts once, under one browser: the entries add up to the campaign's stats.
    const stats = await b.herald.campaigns.stats(campaign.id);
    expect({
      viewed: stats.viewed,
      clicked: stats.clicked,
      conversions: stats.conversions.recipients.conversions,
    }).toEqual({ viewed: 1, clicked: 2, conversions: 1 });
  });

  it('puts the browser of the subscription a message was sent to in its report token', async () => {
    const b = campaignRun({ start: '2026-05-01T09:00:00Z' });
    await b.herald.profiles.upsert({ userId: 'ann', properties: {} });
    await b.herald.subscriptions.add({
      userId: 'ann',
      subscription: { endpoint: 'https://push.example.test/send/ann', keys: KEYS },
      userAgent: FIREFOX,
    });
    await b.launch({ when: { schedule: { type: 'once', at: '2026-05-01T10:00:00Z' } } });
    await b.runUntil('2026-05-01T11:00:00Z');
    expect(b.herald.reports.verifyToken(b.sent[0]!.token)).toMatchObject({
      userId: 'ann',
      browser: { name: 'firefox', target: 'web-push' },
    });
  });

  it('is empty for a campaign that sent nothing yet', async () => {
    const b = campaignRun({ start: '2026-05-01T09:00:00Z' });
    const campaign = await b.launch({ when: { schedule: { type: 'once', at: '2026-05-02T10:00:00Z' } } });
    expect(await b.herald.campaigns.browsers(campaign.id)).toEqual({ campaignId: campaign.id, browsers: [] });
  });
});
