import { describe, expect, it } from 'vitest';
import { classifyStatus, createReporter, memoryReportStore } from '../src/reports.js';

const body = (reportId = 'report-0001') => ({ kind: 'viewed' as const, token: 't', reportId, at: 1 });

function fakeFetch(answers: Array<number | 'network'>) {
  const calls: Array<{ url: string; body: unknown }> = [];
  const fetch = async (url: string, init: RequestInit) => {
    calls.push({ url, body: JSON.parse(String(init.body)) });
    const answer = answers.shift() ?? 204;
    if (answer === 'network') throw new TypeError('Failed to fetch');
    return new Response(null, { status: answer });
  };
  return { fetch, calls };
}

describe('report queue', () => {
  it('classifies host answers', () => {
    expect(classifyStatus(204)).toBe('sent');
    expect(classifyStatus(503)).toBe('retry');
    expect(classifyStatus(429)).toBe('retry');
    expect(classifyStatus(408)).toBe('retry');
    expect(classifyStatus(400)).toBe('drop');
    expect(classifyStatus(401)).toBe('drop');
  });

  it('sends a report once when the host accepts it', async () => {
    const { fetch, calls } = fakeFetch([204]);
    const store = memoryReportStore();
    const reporter = createReporter({ fetch, store, now: () => 0 });
    expect(await reporter.send('https://h.example/herald/reports', body())).toBe('sent');
    expect(calls).toEqual([{ url: 'https://h.example/herald/reports', body: body() }]);
    expect(store.items.size).toBe(0);
  });

  it('keeps a failed report and sends it again, with the same reportId', async () => {
    const { fetch, calls } = fakeFetch(['network', 503, 204]);
    const store = memoryReportStore();
    let queued = 0;
    const reporter = createReporter({ fetch, store, now: () => 0, onQueued: () => queued++ });
    expect(await reporter.send('https://h.example/r', body('report-abcd'))).toBe('queued');
    expect(queued).toBe(1);
    expect(await reporter.flush()).toEqual({ sent: 0, kept: 1, dropped: 0 });
    expect([...store.items.values()][0]!.attempts).toBe(2);
    expect(await reporter.flush()).toEqual({ sent: 1, kept: 0, dropped: 0 });
    expect(store.items.size).toBe(0);
    expect(calls.map((c) => (c.body as { reportId: string }).reportId)).toEqual([
      'report-abcd',
      'report-abcd',
      'report-abcd',
    ]);
  });

  it('drops what the host will never accept, and what is too old or tried too often', async () => {
    const { fetch } = fakeFetch([400, 503, 503, 503]);
    const store = memoryReportStore();
    let now = 0;
    const reporter = createReporter({ fetch, store, now: () => now, maxAgeMs: 1000, maxAttempts: 2 });
    expect(await reporter.send('https://h.example/r', body('report-0001'))).toBe('dropped');
    expect(await reporter.send('https://h.example/r', body('report-0002'))).toBe('queued');
    expect(await reporter.flush()).toEqual({ sent: 0, kept: 0, dropped: 1 }); // 2nd attempt fails: max reached
    expect(await reporter.send('https://h.example/r', body('report-0003'))).toBe('queued');
    now = 5000;
    expect(await reporter.flush()).toEqual({ sent: 0, kept: 0, dropped: 1 }); // too old
  });

  it('never throws, even when the store fails', async () => {
    const { fetch } = fakeFetch(['network']);
    const errors: string[] = [];
    const broken = {
      put: () => Promise.reject(new Error('quota')),
      all: () => Promise.reject(new Error('gone')),
      delete: () => Promise.reject(new Error('gone')),
    };
    const reporter = createReporter({
      fetch,
      store: broken,
      now: () => 0,
      onError: (_, where) => errors.push(where),
    });
    expect(await reporter.send('https://h.example/r', body())).toBe('dropped');
    expect(await reporter.flush()).toEqual({ sent: 0, kept: 0, dropped: 0 });
    expect(errors).toEqual(['queue report', 'read queued reports']);
  });

  it('refuses to send a report that does not match the shared schema', async () => {
    const { fetch, calls } = fakeFetch([]);
    const reporter = createReporter({ fetch, store: memoryReportStore(), now: () => 0, onError: () => {} });
    expect(await reporter.send('https://h.example/r', { ...body(), reportId: 'short' })).toBe('dropped');
    expect(calls).toEqual([]);
  });

  it('runs one flush at a time', async () => {
    const { fetch, calls } = fakeFetch(['network', 204]);
    const store = memoryReportStore();
    const reporter = createReporter({ fetch, store, now: () => 0 });
    await reporter.send('https://h.example/r', body());
    const [a, b] = await Promise.all([reporter.flush(), reporter.flush()]);
    expect(a).toEqual({ sent: 1, kept: 0, dropped: 0 });
    expect(b).toBe(a);
    expect(calls).toHaveLength(2);
  });
});
