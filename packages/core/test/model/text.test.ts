import { describe, expect, it } from 'vitest';
import { toStorableText, truncateText, unstorableReason, unstorableText } from '../../src/model/text.js';

/** Text Postgres can hold: the checks every input goes through, and the repair of text Herald is handed. */
describe('storable text', () => {
  it('refuses U+0000 and lone surrogates, and takes surrogate pairs', () => {
    expect(unstorableReason('plain')).toBeUndefined();
    expect(unstorableReason('😀 𝄞 🇫🇷')).toBeUndefined();
    expect(unstorableReason('a\u0000b')).toMatch(/NUL character/);
    for (const lone of ['\ud800', '\udfff', 'x\ud83d', '\ude00x', '\ude00\ud83d'])
      expect(unstorableReason(lone), JSON.stringify(lone)).toMatch(/lone surrogate/);
  });

  it('finds every unstorable string and key of a value, by path, and nothing inside a Date', () => {
    const value = {
      ok: '😀',
      deep: { list: ['fine', 'bad\u0000', { 'key\ud800': 1 }] },
      at: new Date(0),
      nothing: null,
      count: 3,
    };
    expect(unstorableText(value)).toEqual([
      { path: ['deep', 'list', 1], message: expect.stringMatching(/NUL character/) },
      { path: ['deep', 'list', 2], message: expect.stringMatching(/^a key must be valid Unicode/) },
    ]);
    expect(unstorableText({ a: ['x', { b: 'y' }] })).toEqual([]);
  });

  it('makes text storable by replacing what cannot be stored with U+FFFD', () => {
    expect(toStorableText('a\u0000b\ud800c😀')).toBe('a\uFFFDb\uFFFDc😀');
    const same = 'nothing to replace 😀';
    expect(toStorableText(same)).toBe(same);
  });

  it('truncates without cutting a surrogate pair in half', () => {
    expect(truncateText('ab😀', 3)).toBe('ab');
    expect(truncateText('ab😀', 4)).toBe('ab😀');
    expect(truncateText('abc😀', 3)).toBe('abc');
    expect(truncateText('short', 10)).toBe('short');
  });
});
