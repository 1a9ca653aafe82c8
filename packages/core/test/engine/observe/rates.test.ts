import { describe, expect, it } from 'vitest';
import {
  compareToControl,
  MIN_CONTROL_MEMBERS,
  normalCdf,
  ratio,
  wilsonInterval,
} from '../../../src/engine/observe/rates.js';

describe('wilsonInterval', () => {
  it('matches the published 95% interval for 81/263 (Newcombe 1998, Wilson score): 0.2553 to 0.3662', () => {
    const interval = wilsonInterval(81, 263);
    expect(interval.low).toBeCloseTo(0.2553, 4);
    expect(interval.high).toBeCloseTo(0.3662, 4);
  });

  it('stays inside [0, 1] at 0 and n', () => {
    expect(wilsonInterval(0, 10).low).toBe(0);
    expect(wilsonInterval(10, 10).high).toBe(1);
  });
});

describe('compareToControl', () => {
  it('gives Newcombe’s hybrid score interval of his worked examples (1998, method 10)', () => {
    // 56/70 − 48/80 = 0.2000, 95% interval 0.0524 to 0.3339.
    const a = compareToControl({ conversions: 56, audience: 70 }, { conversions: 48, audience: 80 });
    expect(a.difference).toBeCloseTo(0.2, 10);
    expect(a.low).toBeCloseTo(0.0524, 4);
    expect(a.high).toBeCloseTo(0.3339, 4);
    // 9/10 − 3/10 = 0.6000, 95% interval 0.1705 to 0.8090.
    const b = compareToControl({ conversions: 9, audience: 10 }, { conversions: 3, audience: 10 });
    expect(b.low).toBeCloseTo(0.1705, 4);
    expect(b.high).toBeCloseTo(0.809, 4);
  });

  it('gives the pooled two-proportion z-test computed by hand', () => {
    // p = 104/150, se = √(p(1−p)(1/70 + 1/80)) = 0.075467, z = 0.2 / se = 2.6502, p-value = 0.00805.
    const a = compareToControl({ conversions: 56, audience: 70 }, { conversions: 48, audience: 80 });
    expect(a.z).toBeCloseTo(2.6502, 4);
    expect(a.pValue).toBeCloseTo(0.008045, 5);
  });

  it('flags a control group under the threshold, and one with too few expected conversions', () => {
    const small = compareToControl({ conversions: 56, audience: 70 }, { conversions: 48, audience: 80 });
    expect(small.controlTooSmall).toBe(true);
    expect(small.note).toContain(`${MIN_CONTROL_MEMBERS}`);
    const rare = compareToControl({ conversions: 3, audience: 10_000 }, { conversions: 0, audience: 1_000 });
    expect(rare.controlTooSmall).toBe(true);
    expect(rare.note).toContain('Too few conversions');
    const enough = compareToControl(
      { conversions: 500, audience: 10_000 },
      { conversions: 30, audience: 1_000 },
    );
    expect(enough.controlTooSmall).toBe(false);
    expect(enough.note).toBeNull();
    expect(enough.low).toBeLessThan(0.02);
    expect(enough.high).toBeGreaterThan(0.02);
  });

  it('has no difference without a control group', () => {
    const none = compareToControl({ conversions: 5, audience: 100 }, { conversions: 0, audience: 0 });
    expect(none).toMatchObject({ difference: null, low: null, high: null, z: null, controlTooSmall: true });
    expect(none.note).toContain('No control group');
  });
});

describe('normalCdf and ratio', () => {
  it('gives Φ at known points', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-1)).toBeCloseTo(0.158655, 6);
  });

  it('divides, or says there is nothing to divide by', () => {
    expect(ratio(1, 4)).toBe(0.25);
    expect(ratio(1, 0)).toBeNull();
  });
});
