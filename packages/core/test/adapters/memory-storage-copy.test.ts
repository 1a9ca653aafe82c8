import { describe, expect, it } from 'vitest';
import { privateCopy } from '../../src/adapters/memory-storage-copy.js';

/** privateCopy must store what structuredClone would: the same data, shared with nothing given. */
describe('privateCopy', () => {
  const decision = {
    campaignId: 'c1',
    occurrence: '2030-01-01T09:00:00.000Z',
    userId: 'ann',
    at: new Date('2030-01-01T09:00:00.000Z'),
    outcome: 'sent',
    reason: null,
    facts: { zone: 'Europe/Paris', outcomes: ['sent 201'], nested: { list: [1, 'two', null, true] } },
    missing: undefined,
  };

  it('copies rows of primitives, Dates, arrays and plain objects as structuredClone does', () => {
    const copy = privateCopy(decision);
    expect(copy).toStrictEqual(structuredClone(decision));
    expect(Object.keys(copy)).toEqual(Object.keys(decision));
  });

  it('shares no object, array or Date with what it was given', () => {
    const copy = privateCopy(decision);
    expect(copy).not.toBe(decision);
    expect(copy.at).not.toBe(decision.at);
    expect(copy.facts).not.toBe(decision.facts);
    expect(copy.facts.outcomes).not.toBe(decision.facts.outcomes);
    expect(copy.facts.nested.list).not.toBe(decision.facts.nested.list);
    decision.at.setTime(0);
    decision.facts.outcomes.push('changed');
    expect(copy.at.toISOString()).toBe('2030-01-01T09:00:00.000Z');
    expect(copy.facts.outcomes).toEqual(['sent 201']);
  });

  it('leaves to structuredClone what is not plain data: the same copy, or the same error', () => {
    const withMap = { id: 'x', tags: new Map([['a', 1]]) };
    expect(privateCopy(withMap)).toStrictEqual(structuredClone(withMap));
    class Row {
      id = 'x';
    }
    expect(privateCopy(new Row())).toStrictEqual(structuredClone(new Row()));
    const cyclic: Record<string, unknown> = { id: 'x' };
    cyclic.self = cyclic;
    const copy = privateCopy(cyclic);
    expect(copy.self).toBe(copy);
    const list = [1, 2, 3];
    delete list[1];
    const sparse = { list };
    expect(1 in privateCopy(sparse).list).toBe(false);
    expect(() => privateCopy({ run: () => 1 })).toThrow(expect.objectContaining({ name: 'DataCloneError' }));
    expect(() => privateCopy({ id: Symbol('x') })).toThrow(
      expect.objectContaining({ name: 'DataCloneError' }),
    );
  });
});
