import { describe, expect, it } from 'vitest';
import { fitPayload, splitGraphemes } from '../../../src/engine/deliver/payload.js';
import { createRenderer, type RenderContext } from '../../../src/engine/deliver/render.js';
import { type CreateCampaignInput, MessageContent, ValidationError } from '../../../src/index.js';
import { rowSchema } from '../../../src/model/row-schema.js';
import { audienceHerald } from './harness.js';

const renderer = createRenderer({ iconBaseUrl: 'https://cdn.example.test/icons/' });
const content = (what: object): MessageContent =>
  MessageContent.parse({ title: 'Hi', deeplink: 'https://shop.example.test/', ...what });
/**
 * Content as a campaign stored before create refused URLs without a static
 * http(s) prefix: the render-time check is the defence that still covers it.
 */
const storedContent = (what: object): MessageContent =>
  rowSchema(MessageContent).parse({ title: 'Hi', deeplink: 'https://shop.example.test/', ...what });
const ann: RenderContext = { user: { id: 'ann', first_name: 'Ann', city: null, tags: ['a'] } };

async function rendered(what: object, context: RenderContext = ann, onMissingValue?: 'empty' | 'skip') {
  const result = await renderer.render(content(what), context, onMissingValue ? { onMissingValue } : {});
  if (!result.ok) throw new Error(`did not render: ${JSON.stringify(result)}`);
  return result;
}

describe('defaults and missing values', () => {
  it('uses the value when present and the default when missing', async () => {
    const what = { title: 'Hello {{ user.first_name | default: "there" }}' };
    expect((await rendered(what)).message.title).toBe('Hello Ann');
    expect((await rendered(what, { user: { id: 'bob' } })).message.title).toBe('Hello there');
    expect((await rendered(what, { user: { id: 'bob' } })).missing).toEqual([]);
  });

  it('reads the triggering event: {{ event.product_name }}', async () => {
    const result = await rendered(
      { title: '{{ event.product_name }} is waiting', body: 'Only {{ event.price }} €' },
      { user: { id: 'ann' }, event: { product_name: 'Red shoes', price: 59.9 } },
    );
    expect(result.message).toMatchObject({ title: 'Red shoes is waiting', body: 'Only 59.9 €' });
  });

  it('renders a missing value empty by default and reports it', async () => {
    const result = await rendered({ title: 'Hi {{ user.last_name }}!', body: 'From {{ user.city }}' });
    expect(result.message).toMatchObject({ title: 'Hi !', body: 'From' });
    // JSON null is missing, as in segments.
    expect(result.missing).toEqual([
      { field: 'title', variable: 'user.last_name' },
      { field: 'body', variable: 'user.city' },
    ]);
  });

  it('skips the recipient on a missing value when the campaign says skip', async () => {
    const result = await renderer.render(content({ title: 'Hi {{ user.last_name | upcase }}' }), ann, {
      onMissingValue: 'skip',
    });
    expect(result).toMatchObject({
      ok: false,
      reason: 'missing-value',
      issues: [{ path: 'what.title', message: 'no value for user.last_name' }],
    });
  });

  it('does not count a variable tested by if / unless or given a default as missing, even with skip', async () => {
    const result = await rendered(
      {
        title: '{% if user.last_name %}Dear {{ user.last_name }}{% else %}Hello{% endif %}',
        body: '{% unless user.vip %}Join us{% endunless %} {{ user.nick | default: user.first_name }}',
      },
      ann,
      'skip',
    );
    expect(result.message).toMatchObject({ title: 'Hello', body: 'Join us Ann' });
    expect(result.missing).toEqual([]);
  });

  it('a title that renders empty fails the render', async () => {
    const result = await renderer.render(content({ title: '{{ user.nick }}' }), ann);
    expect(result).toMatchObject({ ok: false, reason: 'render-failed', issues: [{ path: 'what.title' }] });
  });
});

describe('URLs', () => {
  it('URL-encodes every value inserted into the deeplink and the image', async () => {
    const result = await rendered(
      {
        deeplink: 'https://shop.example.test/p/{{ event.slug }}?ref={{ user.first_name }}&q={{ event.q }}',
        image: 'https://cdn.example.test/img/{{ event.slug }}.png',
      },
      { user: { id: 'ann', first_name: 'Ann Lee' }, event: { slug: 'a/b?c#d', q: 'tea & 🍵' } },
    );
    expect(result.message.deeplink).toBe(
      'https://shop.example.test/p/a%2Fb%3Fc%23d?ref=Ann%20Lee&q=tea%20%26%20%F0%9F%8D%B5',
    );
    expect(result.message.image).toBe('https://cdn.example.test/img/a%2Fb%3Fc%23d.png');
  });

  it('never yields a non-http(s) URL: a value cannot smuggle a scheme in, raw or not', async () => {
    const evil: RenderContext = { user: { id: 'ann', url: 'javascript:alert(1)' } };
    for (const deeplink of ['{{ user.url }}', '{{ user.url | raw }}', 'javascript:alert({{ user.id }})']) {
      expect(MessageContent.safeParse({ title: 'Hi', deeplink }).success, deeplink).toBe(false);
      const result = await renderer.render(storedContent({ deeplink }), evil);
      expect(result, deeplink).toMatchObject({
        ok: false,
        reason: 'render-failed',
        issues: [{ path: 'what.deeplink' }],
      });
    }
    const image = await renderer.render(
      storedContent({ image: 'data:image/png;base64,{{ user.id }}' }),
      evil,
    );
    expect(image).toMatchObject({ ok: false, issues: [{ path: 'what.image' }] });
  });

  it('leaves out an image that renders empty', async () => {
    const result = await renderer.render(storedContent({ image: '{{ event.picture }}' }), {
      user: { id: 'ann' },
      event: {},
    });
    expect(result.ok && result.message.image).toBeUndefined();
  });

  it('resolves a default icon by name under iconBaseUrl, and keeps a custom URL', async () => {
    expect((await rendered({ icon: 'cart' })).message.icon).toBe('https://cdn.example.test/icons/cart.png');
    expect((await rendered({ icon: 'https://x.example.test/i.png' })).message.icon).toBe(
      'https://x.example.test/i.png',
    );
    expect(MessageContent.safeParse({ title: 'a', deeplink: 'https://x.test', icon: 'rocket' }).success).toBe(
      false,
    );
  });
});

describe('Unicode', () => {
  it('passes emoji, combining marks and right-to-left text through intact', async () => {
    const text = '🎉 Olá {{ user.first_name }} 👩‍👩‍👧 🇫🇷 é שלום';
    const result = await rendered({ title: text, body: text }, { user: { id: 'u', first_name: 'Zoë 😀' } });
    expect(result.message.title).toBe('🎉 Olá Zoë 😀 👩‍👩‍👧 🇫🇷 é שלום');
    expect(result.message.body).toBe(result.message.title);
  });

  it('cuts an over-long body, then title, on grapheme boundaries to fit 3993 bytes', () => {
    const family = '👩‍👩‍👧';
    const body = `${'Ünïcode '.repeat(100)}${family.repeat(400)}`;
    const title = `${'🇫🇷'.repeat(600)}`;
    const context = {
      campaignId: 'cmp_1',
      occurrence: 'o',
      userId: 'ann',
      token: 't'.repeat(200),
      expiresAt: new Date(0),
    };
    const what = content({});
    const message = { title: 'Sale', body, deeplink: 'https://shop.example.test/', actions: [] };
    const fitted = fitPayload(what, message, context);
    expect(fitted.truncated).toEqual(['body']);
    expect(fitted.bytes).toBeLessThanOrEqual(3993);
    expect(Buffer.byteLength(JSON.stringify(fitted.payload))).toBe(fitted.bytes);
    const cut = fitted.payload.notification.body as string;
    expect(cut.endsWith('…')).toBe(true);
    const kept = splitGraphemes(cut.slice(0, -1));
    expect(kept).toEqual(splitGraphemes(body).slice(0, kept.length));
    expect(kept.at(-1)).toBe(family);
    // One grapheme more would not have fitted.
    expect(fitted.bytes + Buffer.byteLength(family)).toBeGreaterThan(3993);

    const both = fitPayload(what, { ...message, title }, context);
    expect(both.truncated).toEqual(['body', 'title']);
    expect(both.bytes).toBeLessThanOrEqual(3993);
    expect(both.payload.notification.body).toBeUndefined();
    const cutTitle = both.payload.notification.title;
    expect(splitGraphemes(cutTitle.slice(0, -1)).every((g) => g === '🇫🇷')).toBe(true);

    const small = fitPayload(what, { ...message, body: 'short' }, context);
    expect(small).toMatchObject({ truncated: [], tooLarge: false });
  });
});

describe('rejected templates and limits', () => {
  it('campaigns.create refuses unknown filters and syntax errors, pointing at the field', async () => {
    const { herald } = audienceHerald();
    const base = {
      name: 'Bad',
      when: { schedule: { type: 'once', at: '2026-03-02T11:00:00Z' } },
      who: { segment: { type: 'all' } },
    } satisfies Partial<CreateCampaignInput>;
    const error = await herald.campaigns
      .create({
        ...base,
        what: {
          title: 'Hi {{ user.first_name | shout }}',
          body: 'Hello {{ user.first_name ',
          deeplink: 'https://shop.example.test/{% if %}',
          image: 'https://cdn.example.test/{{ event.x | url_encode }}',
        },
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    const issues = (error as ValidationError).issues;
    expect(issues.map((i) => i.path)).toEqual(['what.title', 'what.body', 'what.deeplink']);
    expect(issues[0]?.message).toContain('undefined filter: shout');
  });

  it('refuses a default icon when no iconBaseUrl was configured', async () => {
    const { herald } = audienceHerald();
    const error = await herald.campaigns
      .create({
        name: 'Icon',
        when: { schedule: { type: 'once', at: '2026-03-02T11:00:00Z' } },
        who: { segment: { type: 'all' } },
        what: { title: 'Hi', deeplink: 'https://shop.example.test/', icon: 'bell' },
      })
      .catch((e: unknown) => e);
    expect((error as ValidationError).issues).toEqual([
      expect.objectContaining({ path: 'what.icon', message: expect.stringContaining('iconBaseUrl') }),
    ]);
  });

  it('stops a template that runs past the time limit', async () => {
    const fast = createRenderer({ renderTimeoutMs: 20 });
    const started = performance.now();
    const slow = await fast.render(content({ body: '{% for i in (1..5000000) %}{{ i }}{% endfor %}' }), ann);
    expect(slow).toMatchObject({
      ok: false,
      reason: 'render-failed',
      issues: [{ path: 'what.body', message: expect.stringContaining('render limit exceeded') }],
    });
    // A range too large to even allocate is stopped by the memory limit.
    const huge = await fast.render(content({ body: '{% for i in (1..50000000) %}{{ i }}{% endfor %}' }), ann);
    expect(huge).toMatchObject({
      ok: false,
      issues: [{ path: 'what.body', message: expect.stringContaining('memory alloc limit exceeded') }],
    });
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});

describe('in delivery', () => {
  async function run(onMissingValue: 'empty' | 'skip') {
    const { herald, clock, sent, user } = audienceHerald();
    await user('ann', { first_name: 'Ann' });
    await user('bob', {});
    const campaign = await herald.campaigns.create({
      name: 'Hello',
      when: { schedule: { type: 'once', at: '2026-03-02T11:00:00Z' } },
      who: { segment: { type: 'all' } },
      what: { title: 'Hello', body: 'Dear {{ user.first_name }}', deeplink: 'https://shop.example.test/' },
      setup: { onMissingValue },
    });
    await herald.campaigns.schedule(campaign.id);
    await clock.advance(3_600_000);
    await herald.tick();
    const bodies = sent.map((s) => (s.payload as { notification: { body?: string } }).notification.body);
    return { bodies, stats: await herald.campaigns.stats(campaign.id) };
  }

  it('empty: the recipient gets the message with the value left empty', async () => {
    const { bodies, stats } = await run('empty');
    expect(bodies.sort()).toEqual(['Dear', 'Dear Ann']);
    expect(stats.skipped).toEqual({});
  });

  it('skip: the recipient is skipped with reason missing-value', async () => {
    const { bodies, stats } = await run('skip');
    expect(bodies).toEqual(['Dear Ann']);
    expect(stats.skipped).toEqual({ 'missing-value': 1 });
  });
});
