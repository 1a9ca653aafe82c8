import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createHerald,
  generateVapidKeys,
  type Herald,
  HeraldError,
  memoryQueue,
  memoryStorage,
  silentLogger,
  webPush,
} from '../../src/index.js';
import { fakeClock } from '../../src/testing/index.js';
import { fuzzRuns, wrongValue } from './support.js';

/**
 * The library called from plain JavaScript, where no compiler stands between a caller and the
 * API: every method of every service, found by walking the engine, given wrong values, either
 * answers or throws one of Herald's own errors (ValidationError naming the field, NotFoundError,
 * …), never a TypeError from deep inside.
 */
describe('library entry points under wrong values', () => {
  let herald: Herald;
  let cases = 0;
  const services = ['profiles', 'subscriptions', 'events', 'campaigns', 'segments', 'reports'] as const;

  beforeAll(() => {
    herald = createHerald({
      storage: memoryStorage(),
      queue: memoryQueue(),
      providers: {
        webpush: webPush({ vapid: { subject: 'mailto:ops@example.com', ...generateVapidKeys() } }),
      },
      clock: fakeClock('2026-04-01T08:00:00Z'),
      logger: silentLogger,
    });
  });
  afterAll(async () => {
    await herald.stop();
    console.log(`entry point fuzz: ${cases} calls`);
  });

  const methods = () =>
    services.flatMap((service) =>
      Object.entries(herald[service] as unknown as Record<string, unknown>)
        .filter(([, value]) => typeof value === 'function')
        .map(([name]) => ({ service, name })),
    );

  const argument = fc.oneof(
    { weight: 3, arbitrary: wrongValue },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constantFrom(Symbol('x'), () => 1, new Date(Number.NaN), 10n, new Map()) },
  );

  it('answers or throws a HeraldError for any arguments', async () => {
    expect(methods().length).toBeGreaterThan(25);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...methods()),
        fc.array(argument, { maxLength: 3 }),
        async (method, args) => {
          cases += 1;
          const target = herald[method.service] as unknown as Record<
            string,
            (...values: unknown[]) => unknown
          >;
          try {
            await target[method.name]?.(...args);
          } catch (error) {
            if (!(error instanceof HeraldError)) {
              throw new Error(
                `${method.service}.${method.name} threw ${(error as Error)?.name}: ${(error as Error)?.message}`,
              );
            }
          }
        },
      ),
      { numRuns: fuzzRuns(600) },
    );
  });
});
