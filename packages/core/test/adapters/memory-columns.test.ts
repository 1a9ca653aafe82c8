import { describe, expect, it } from 'vitest';
import { ByteColumn, NumberColumn, StringIndex, TextColumn } from '../../src/adapters/memory-columns.js';
import { MultiMap, SortedIds } from '../../src/adapters/memory-indexes.js';

/** A small deterministic generator (mulberry32), so a failure replays. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('StringIndex', () => {
  it('numbers keys as a Map would, across growth, deletes and re-adds', () => {
    const index = new StringIndex();
    const reference = new Map<string, number>();
    let next = 0;
    const rand = random(7);
    for (let step = 0; step < 20_000; step += 1) {
      const key = `k${Math.floor(rand() * 3_000)}`;
      if (rand() < 0.25) {
        expect(index.delete(key)).toBe(reference.delete(key));
      } else {
        const expected = reference.get(key) ?? next;
        if (!reference.has(key)) {
          reference.set(key, next);
          next += 1;
        }
        expect(index.add(key)).toBe(expected);
      }
    }
    expect(index.size).toBe(reference.size);
    expect([...index.keys()]).toEqual(
      [...reference.keys()].sort((a, b) => index.numberOf(a)! - index.numberOf(b)!),
    );
    for (const [key, number] of reference) {
      expect(index.numberOf(key)).toBe(number);
      expect(index.keyOf(number)).toBe(key);
    }
    expect(index.numberOf('missing')).toBeUndefined();
  });
});

describe('StringIndex keys', () => {
  it('tells apart keys that differ only beyond Latin-1, by length or by one code unit', () => {
    const index = new StringIndex();
    const keys = ['user-é', 'user-e', 'user-€', 'user-€€', '', '😀', '\ud83d', '\ude00', 'a\u0000b', 'ab'];
    for (const key of keys) index.add(key);
    keys.forEach((key, number) => {
      expect(index.numberOf(key)).toBe(number);
      expect(index.keyOf(number)).toBe(key);
    });
    expect(index.numberOf('user-€€€')).toBeUndefined();
    expect(index.numberOf('\ud83d\ude01')).toBeUndefined();
  });
});

describe('TextColumn', () => {
  it('reads back every string exactly: Latin-1, UTF-16, lone surrogates, empty, rewritten', () => {
    const column = new TextColumn();
    const rand = random(11);
    const written = new Map<number, string>();
    for (let step = 0; step < 5_000; step += 1) {
      const slot = Math.floor(rand() * 2_000);
      const length = Math.floor(rand() * 40);
      const wide = rand() < 0.3;
      const value = String.fromCharCode(
        ...Array.from({ length }, () => Math.floor(rand() * (wide ? 0x10000 : 0x100))),
      );
      column.set(slot, value);
      written.set(slot, value);
    }
    for (const [slot, value] of written) {
      expect(column.get(slot)).toBe(value);
      expect(column.equals(slot, value)).toBe(true);
      expect(column.equals(slot, `${value}x`)).toBe(false);
    }
    const unset = [...Array(2_000).keys()].find((slot) => !written.has(slot));
    if (unset !== undefined) {
      expect(column.get(unset)).toBeUndefined();
      expect(column.equals(unset, '')).toBe(false);
    }
    // Longer than a chunk of text: a chunk of its own, and the rows after it still read right.
    const long = 'é'.repeat(70_000);
    const wideLong = '€'.repeat(40_000);
    column.set(5_000, long);
    column.set(5_001, wideLong);
    column.set(5_002, 'after');
    expect(column.get(5_000)).toBe(long);
    expect(column.get(5_001)).toBe(wideLong);
    expect(column.equals(5_001, wideLong)).toBe(true);
    expect(column.get(5_002)).toBe('after');
    const [first] = written.keys();
    column.clear(first as number);
    expect(column.has(first as number)).toBe(false);
    expect(column.get(first as number)).toBeUndefined();
  });
});

describe('MultiMap', () => {
  it('keeps each key’s values in the order added, and drops a key with its last value', () => {
    const map = MultiMap.ofText();
    map.add('ann', 's1');
    map.add('bob', 's2');
    map.add('ann', 's3');
    map.add('ann', 's4');
    expect(map.get('ann')).toEqual(['s1', 's3', 's4']);
    map.remove('ann', 's3');
    expect(map.get('ann')).toEqual(['s1', 's4']);
    map.remove('ann', 's4');
    map.add('ann', 's5');
    expect(map.get('ann')).toEqual(['s1', 's5']);
    map.remove('ann', 's1');
    map.remove('ann', 's5');
    expect(map.get('ann')).toEqual([]);
    expect(map.get('bob')).toEqual(['s2']);
    map.clear();
    expect(map.get('bob')).toEqual([]);
  });

  it('keeps positions as numbers', () => {
    const map = MultiMap.ofPositions();
    map.add('ann', 0);
    map.add('ann', 70_000);
    map.add('bob', 3);
    map.remove('ann', 0);
    expect(map.get('ann')).toEqual([70_000]);
    expect(map.get('bob')).toEqual([3]);
  });
});

describe('NumberColumn', () => {
  it('grows as rows are set, and reads 0 for rows never set', () => {
    const column = new NumberColumn(Float64Array);
    column.set(1_000, 1.5e12);
    expect(column.get(1_000)).toBe(1.5e12);
    expect(column.get(999)).toBe(0);
    expect(column.get(5_000)).toBe(0);
    // Past the first chunk, with the chunks between never made.
    column.set(100_000, -2);
    expect(column.get(100_000)).toBe(-2);
    expect(column.get(99_999)).toBe(0);
    expect(column.get(50_000)).toBe(0);
    for (let row = 0; row < 20_000; row += 1) column.set(row, row * 3);
    for (let row = 0; row < 20_000; row += 1) expect(column.get(row)).toBe(row * 3);
    expect(column.get(100_000)).toBe(-2);
  });
});

describe('ByteColumn', () => {
  it('keeps a fixed-width block per slot across chunks', () => {
    const column = new ByteColumn(3);
    const block = (slot: number) => Uint8Array.of(slot & 0xff, (slot >> 8) & 0xff, 7);
    for (let slot = 0; slot < 20_000; slot += 1) column.set(slot, block(slot));
    for (let slot = 0; slot < 20_000; slot += 1) expect([...column.get(slot)]).toEqual([...block(slot)]);
    expect([...column.get(50_000)]).toEqual([0, 0, 0]);
  });
});

describe('SortedIds', () => {
  it('orders ids as JavaScript compares strings, merging ids added between reads, from any cursor', () => {
    const ids = new SortedIds();
    const all: string[] = [];
    const rand = random(3);
    const alphabet = ['a', 'b', 'z', 'é', '€', '😀', '\ud83d', '0'];
    for (let round = 0; round < 5; round += 1) {
      for (let k = 0; k < 400; k += 1) {
        const id = Array.from(
          { length: 1 + Math.floor(rand() * 5) },
          () => alphabet[Math.floor(rand() * alphabet.length)],
        ).join('');
        ids.add(id);
        all.push(id);
      }
      const expected = [...all].sort();
      expect([...ids.after(null)]).toEqual(expected);
      const cursor = expected[Math.floor(rand() * expected.length)] as string;
      expect([...ids.after(cursor)]).toEqual(expected.filter((id) => id > cursor));
      expect([...ids.after('\uffff\uffff')]).toEqual(expected.filter((id) => id > '\uffff\uffff'));
    }
    expect(ids.size).toBe(all.length);
    ids.clear();
    expect([...ids.after(null)]).toEqual([]);
  });
});
