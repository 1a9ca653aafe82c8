import { describe, expect, it } from 'vitest';
import { coalesce } from '../../src/engine/coalesce.js';

/**
 * A store that records each write's items and refuses any batch holding a 'poison' item. The first
 * write waits until the test releases it, so the calls made meanwhile queue up.
 */
function recordingStore() {
  const writes: string[][] = [];
  const stored: string[] = [];
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let began: () => void = () => undefined;
  /** Resolves once the first write has begun. */
  const firstWrite = new Promise<void>((resolve) => {
    began = resolve;
  });
  const write = async (items: readonly string[]) => {
    writes.push([...items]);
    if (writes.length === 1) {
      began();
      await released;
    }
    if (items.includes('poison')) throw new Error('refused: poison');
    stored.push(...items);
    return items.map((item) => `${item}:ok`);
  };
  return { writes, stored, write, release, firstWrite };
}

describe('coalesce', () => {
  it('writes a lone call once the caller yields, and the calls arriving during that write together, in arrival order', async () => {
    const store = recordingStore();
    const submit = coalesce(store.write, { maxItems: 100 });
    const first = submit(['a']);
    expect(store.writes).toEqual([]);
    await store.firstWrite;
    expect(store.writes).toEqual([['a']]);
    const second = submit(['b', 'c']);
    const third = submit(['d']);
    store.release();
    expect(await first).toEqual(['a:ok']);
    expect(await second).toEqual(['b:ok', 'c:ok']);
    expect(await third).toEqual(['d:ok']);
    expect(store.writes).toEqual([['a'], ['b', 'c', 'd']]);
  });

  it('writes the calls of one turn of the event loop together, however deep their promise chains', async () => {
    const store = recordingStore();
    const submit = coalesce(store.write, { maxItems: 100 });
    store.release();
    const afterAwaits = async (depth: number, item: string) => {
      for (let hop = 0; hop < depth; hop++) await Promise.resolve();
      return submit([item]);
    };
    const calls = [afterAwaits(0, 'a'), afterAwaits(3, 'b'), afterAwaits(10, 'c')];
    expect(await Promise.all(calls)).toEqual([['a:ok'], ['b:ok'], ['c:ok']]);
    expect(store.writes).toEqual([['a', 'b', 'c']]);
  });

  it('a call resolves only once its own items are written', async () => {
    const store = recordingStore();
    const submit = coalesce(store.write, { maxItems: 100 });
    let firstDone = false;
    const first = submit(['a']).then(() => {
      firstDone = true;
    });
    await Promise.resolve();
    expect(firstDone).toBe(false);
    expect(store.stored).toEqual([]);
    store.release();
    await first;
    expect(store.stored).toEqual(['a']);
  });

  it('rejects exactly the calls whose items fail: a shared write that fails is retried call by call', async () => {
    const store = recordingStore();
    const submit = coalesce(store.write, { maxItems: 100 });
    const first = submit(['a']);
    await store.firstWrite;
    const good = submit(['b']);
    const bad = submit(['poison', 'c']);
    const alsoGood = submit(['d']);
    store.release();
    await first;
    const outcomes = await Promise.allSettled([good, bad, alsoGood]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toEqual(new Error('refused: poison'));
    // The poison call's other item is not stored either: a call's items stand or fall together.
    expect(store.stored.sort()).toEqual(['a', 'b', 'd']);
    expect(store.writes).toEqual([['a'], ['b', 'poison', 'c', 'd'], ['b'], ['poison', 'c'], ['d']]);
  });

  it('keeps one shared write within maxItems; a larger call is written alone and whole', async () => {
    const store = recordingStore();
    const submit = coalesce(store.write, { maxItems: 3 });
    const first = submit(['a']);
    await store.firstWrite;
    const calls = [first, submit(['b', 'c']), submit(['d', 'e']), submit(['f', 'g', 'h', 'i'])];
    store.release();
    await Promise.all(calls);
    expect(store.writes).toEqual([['a'], ['b', 'c'], ['d', 'e'], ['f', 'g', 'h', 'i']]);
  });

  it('goes on writing after a failed call', async () => {
    const store = recordingStore();
    const submit = coalesce(store.write, { maxItems: 100 });
    const first = submit(['poison']);
    store.release();
    await expect(first).rejects.toThrow('refused: poison');
    expect(await submit(['z'])).toEqual(['z:ok']);
  });

  it('answers an empty call at once without writing', async () => {
    const store = recordingStore();
    const submit = coalesce(store.write, { maxItems: 100 });
    expect(await submit([])).toEqual([]);
    expect(store.writes).toEqual([]);
  });

  it('rejects every call of a write that answers the wrong number of results, and writes nothing twice', async () => {
    const writes: string[][] = [];
    const submit = coalesce(
      async (items: readonly string[]) => {
        writes.push([...items]);
        return ['only one'];
      },
      { maxItems: 100 },
    );
    await expect(submit(['a', 'b'])).rejects.toThrow('a batch write answered 1 results for 2 items');
    expect(writes).toEqual([['a', 'b']]);
  });
});
