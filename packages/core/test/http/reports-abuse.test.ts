import { describe, expect, it } from 'vitest';
import { reportTokens } from '../../src/engine/observe/index.js';
import { type HeraldPayload, silentLogger } from '../../src/index.js';
import { httpEngine, loopbackPushService, sentToAda } from './support.js';

const SECRET = 'a-secret-that-is-long-enough-for-hmac';

/**
 * Report tokens ride in every payload, so anyone holding a notification holds one: what they can
 * and cannot make Herald count with it.
 */
describe('report endpoint abuse', () => {
  const loopback = loopbackPushService();
  const { service } = loopback;

  async function sentMessage() {
    const { clock, herald, handle } = httpEngine({ allowEndpoint: loopback.url, reportSecret: SECRET });
    const { campaign, subscription } = await sentToAda(herald, service, {
      name: 'Reports',
      when: { schedule: { type: 'once', at: '2026-04-01T08:00:00Z' } },
      who: { segment: { type: 'all' } },
      what: { title: 'Hi', deeplink: 'https://example.com/', actions: [{ id: 'buy', title: 'Buy' }] },
    });
    const payload = JSON.parse(
      service.receivedFor(subscription.endpoint).at(-1)?.plaintext as string,
    ) as HeraldPayload;
    const post = (body: unknown) => handle({ method: 'POST', path: '/reports', headers: {}, body });
    const counts = async () => {
      const stats = await herald.campaigns.stats(campaign.id);
      return {
        viewed: stats.viewed,
        clicked: stats.clicked,
        closed: stats.closed,
        byAction: stats.clickedByAction,
      };
    };
    return { herald, clock, campaign, token: payload.herald.token, post, counts };
  }
  const none = { viewed: 0, clicked: 0, closed: 0, byAction: {} };

  it('counts a token flooded under fresh report ids once per kind and action', async () => {
    const { token, post, counts } = await sentMessage();
    for (let n = 0; n < 50; n++) {
      expect(await post({ kind: 'viewed', token, reportId: `flood-${String(n).padStart(4, '0')}` })).toEqual({
        status: 204,
      });
    }
    for (let n = 0; n < 20; n++)
      await post({ kind: 'clicked', token, action: 'buy', reportId: `click-${n}-abcd` });
    // A replay of the very same report is accepted (the service worker retries) and counted nowhere new.
    await post({ kind: 'viewed', token, reportId: 'flood-0000' });
    expect(await counts()).toEqual({ viewed: 1, clicked: 1, closed: 0, byAction: { buy: 1 } });
  });

  it('refuses forged, tampered and expired tokens, counting nothing', async () => {
    const { token, post, counts, clock, campaign } = await sentMessage();
    const [body, signature] = token.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    const tampered = `${Buffer.from(JSON.stringify({ ...claims, u: 'bob' })).toString('base64url')}.${signature}`;
    const forged = reportTokens('someone-elses-secret-of-enough-length').sign({
      campaignId: campaign.id,
      occurrence: claims.o,
      userId: 'ada',
      expiresAt: new Date('2027-01-01T00:00:00Z'),
    });
    const flipped = `${body}.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
    for (const bad of [tampered, forged, flipped, `${body}.`, body, '..', 'x'.repeat(5000)]) {
      expect(
        await post({ kind: 'viewed', token: bad, reportId: 'report-0001' }),
        bad.slice(0, 40),
      ).toMatchObject({
        status: 403,
      });
    }
    await clock.advance(61 * 24 * 3600_000);
    expect(await post({ kind: 'viewed', token, reportId: 'report-0002' })).toMatchObject({ status: 403 });
    expect(await counts()).toEqual(none);
  });

  it('logs refused tokens at most every ten minutes, with how many, so another reportSecret is seen', async () => {
    const warnings: Array<{ message: string; fields: unknown }> = [];
    const logger = {
      ...silentLogger,
      warn: (message: string, fields?: unknown) => warnings.push({ message, fields }),
    };
    // The process that sent signs with SECRET; this one, misconfigured, was given another secret.
    const { token } = await sentMessage();
    const other = httpEngine({ reportSecret: 'another-secret-of-this-deploy-0123', logger });
    const post = (reportId: string) =>
      other.handle({
        method: 'POST',
        path: '/reports',
        headers: {},
        body: { kind: 'viewed', token, reportId },
      });
    expect(await post('report-0001')).toMatchObject({ status: 403 });
    expect(await post('report-0002')).toMatchObject({ status: 403 });
    expect(warnings).toEqual([
      {
        message: expect.stringMatching(
          /^report tokens refused: forged, expired, or signed with another reportSecret/,
        ),
        fields: { refused: 1 },
      },
    ]);
    await other.clock.advance(10 * 60_000);
    expect(await post('report-0003')).toMatchObject({ status: 403 });
    expect(warnings.map((warning) => warning.fields)).toEqual([{ refused: 1 }, { refused: 2 }]);
  });

  it('refuses a report that names a campaign, a user or an action the token does not', async () => {
    const { token, post, counts } = await sentMessage();
    const named = await post({
      kind: 'viewed',
      token,
      reportId: 'report-0001',
      campaignId: 'cmp_other',
      userId: 'bob',
    });
    expect(named).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
    expect(JSON.stringify(named.body)).toContain('campaignId');
    const action = await post({ kind: 'clicked', token, reportId: 'report-0002', action: 'x'.repeat(40) });
    expect(action).toMatchObject({
      status: 400,
      body: { error: { code: 'validation_failed', issues: [{ path: 'action' }] } },
    });
    expect(await counts()).toEqual(none);
  });

  it('refuses a token signed for a campaign that does not exist', async () => {
    const { post, counts } = await sentMessage();
    const token = reportTokens(SECRET).sign({
      campaignId: 'cmp_missing',
      occurrence: '2026-04-01T08:00:00.000Z',
      userId: 'ada',
      expiresAt: new Date('2027-01-01T00:00:00Z'),
    });
    expect(await post({ kind: 'viewed', token, reportId: 'report-0001' })).toMatchObject({ status: 403 });
    expect(await counts()).toEqual(none);
  });
});
