/**
 * Group commit for concurrent callers of one write (`events.track` from a web
 * server's requests): a call arriving while a write is in flight waits for
 * it, and every call that arrived meanwhile is then written together, in one
 * multi-row statement, in arrival order. One write at a time and no timer: a
 * lone caller is written once the work under way has yielded (`setImmediate`,
 * before any I/O or timer), and under load the batch grows by itself to what
 * arrived during one round trip.
 *
 * Why wait for `setImmediate` and not write the first call at once: a group of
 * events armed together (`events.import`, a group of `events.track` calls)
 * makes its calls from many promise chains of different depths within one
 * turn of the event loop; written at once, the first call would take a
 * statement alone and the rest a second. A microtask is not enough for the
 * same reason: a chain a few awaits deeper arrives after it.
 *
 * Each call resolves only after the write holding its items succeeded, with
 * its own items' results. When a shared write fails, each of its calls is
 * written again alone (a failed statement wrote nothing), so an error rejects
 * exactly the calls whose own items fail: a row Postgres refuses fails its
 * caller, not the forty-nine others that shared its statement.
 */

/** Writes items, answering one result per item in the same order, or throws when none was written. */
export type BatchWrite<Item, Result> = (items: readonly Item[]) => Promise<readonly Result[]>;

interface Waiting<Item, Result> {
  items: readonly Item[];
  resolve(results: Result[]): void;
  reject(error: unknown): void;
}

/**
 * A function with the write's shape whose concurrent calls share statements.
 * `maxItems` bounds one shared write (a call larger than it is written alone, whole).
 */
export function coalesce<Item, Result>(
  write: BatchWrite<Item, Result>,
  { maxItems }: { maxItems: number },
): (items: readonly Item[]) => Promise<Result[]> {
  const waiting: Waiting<Item, Result>[] = [];
  let writing = false;

  async function writeAlone(call: Waiting<Item, Result>): Promise<void> {
    let results: readonly Result[];
    try {
      results = await write(call.items);
    } catch (error) {
      call.reject(error);
      return;
    }
    settle([call], results);
  }

  async function writeTogether(calls: Waiting<Item, Result>[]): Promise<void> {
    if (calls.length === 1) return writeAlone(calls[0] as Waiting<Item, Result>);
    let results: readonly Result[];
    try {
      results = await write(calls.flatMap((call) => call.items));
    } catch {
      // The shared write stored nothing: each call written on its own says whose items fail.
      for (const call of calls) await writeAlone(call);
      return;
    }
    settle(calls, results);
  }

  async function drain(): Promise<void> {
    try {
      while (waiting.length > 0) await writeTogether(takeBatch());
    } finally {
      writing = false;
    }
  }

  /** The oldest waiting calls, as many as fit in maxItems (always at least one). */
  function takeBatch(): Waiting<Item, Result>[] {
    let count = 0;
    let taken = 0;
    while (taken < waiting.length) {
      const size = (waiting[taken] as Waiting<Item, Result>).items.length;
      if (taken > 0 && count + size > maxItems) break;
      count += size;
      taken++;
    }
    return waiting.splice(0, taken);
  }

  return (items) => {
    if (items.length === 0) return Promise.resolve([]);
    return new Promise<Result[]>((resolve, reject) => {
      waiting.push({ items, resolve, reject });
      if (!writing) {
        writing = true;
        setImmediate(() => void drain());
      }
    });
  };
}

/** Hands each call its slice of the results; a write answering the wrong count is a bug, reported to all. */
function settle<Item, Result>(calls: readonly Waiting<Item, Result>[], results: readonly Result[]): void {
  const expected = calls.reduce((sum, call) => sum + call.items.length, 0);
  if (results.length !== expected) {
    const error = new Error(`a batch write answered ${results.length} results for ${expected} items`);
    for (const call of calls) call.reject(error);
    return;
  }
  let start = 0;
  for (const call of calls) {
    call.resolve(results.slice(start, start + call.items.length));
    start += call.items.length;
  }
}
