import { describe, expect, it } from 'vitest';
import { NumberColumn, StringIndex } from '../../src/adapters/memory-columns.js';
import { MultiMap } from '../../src/adapters/memory-indexes.js';

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

describe('MultiMap', () => {
  it('keeps each key’s values in the order added, and drops a key with its last value', () => {
    const map = new MultiMap<string>();
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
});

describe('NumberColumn', () => {
  it('grows as rows are set, and reads 0 for rows never set', () => {
    const column = new NumberColumn(Float64Array);
    column.set(1_000, 1.5e12);
    expect(column.get(1_000)).toBe(1.5e12);
    expect(column.get(999)).toBe(0);
    expect(column.get(5_000)).toBe(0);
  });
});
