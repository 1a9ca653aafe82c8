/**
 * Rates a marketer reads, and the comparison of recipients against the
 * control group. Pure arithmetic: every input is a count from the storage.
 */

/** z for a two-sided 95% interval: the 97.5th percentile of the standard normal. */
const Z95 = 1.959963984540054;

/**
 * The control group is too small to tell when it has fewer than this many
 * members, or when fewer than `MIN_EXPECTED` conversions (or non-conversions)
 * are expected in either group at the pooled rate: below that the normal
 * approximation behind the z-test and the interval is not trustworthy
 * (the usual np >= 5 rule).
 */
export const MIN_CONTROL_MEMBERS = 100;
export const MIN_EXPECTED = 5;

export interface Proportion {
  /** Members who converted. */
  conversions: number;
  /** Members (delivered recipients, or control-group members). */
  audience: number;
}

export interface LiftEstimate {
  /** Recipients' conversion rate minus control's, in rate points (0.02 = two points); null without both rates. */
  difference: number | null;
  /** 95% interval of the difference (Newcombe's hybrid score interval); null without both rates. */
  low: number | null;
  high: number | null;
  /** The two-proportion z statistic (pooled), and its two-sided p-value; null when undefined. */
  z: number | null;
  pValue: number | null;
  /** True when the control group is too small to tell (see MIN_CONTROL_MEMBERS, MIN_EXPECTED). */
  controlTooSmall: boolean;
  /** Why the figures cannot be trusted, in words; null when they can. */
  note: string | null;
}

/**
 * Wilson's score interval for x / n at z (Wilson 1927):
 *
 *   centre = (x + z²/2) / (n + z²)
 *   half   = z · √(x(n − x)/n + z²/4) / (n + z²)
 *   [centre − half, centre + half]
 */
export function wilsonInterval(x: number, n: number, z = Z95): { low: number; high: number } {
  if (n <= 0) return { low: 0, high: 1 };
  const z2 = z * z;
  const centre = (x + z2 / 2) / (n + z2);
  const half = (z * Math.sqrt((x * (n - x)) / n + z2 / 4)) / (n + z2);
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/**
 * Recipients against control. The difference of conversion rates
 * d = p₁ − p₂ (p₁ = x₁/n₁ recipients, p₂ = x₂/n₂ control), with:
 *
 * - its 95% interval by Newcombe's hybrid score method (Newcombe 1998,
 *   method 10), from the Wilson intervals [l₁, u₁] and [l₂, u₂]:
 *     low  = d − √((p₁ − l₁)² + (u₂ − p₂)²)
 *     high = d + √((u₁ − p₁)² + (p₂ − l₂)²)
 *   (good coverage even for small counts and rates near 0, unlike the Wald interval);
 * - the pooled two-proportion z-test: p = (x₁ + x₂)/(n₁ + n₂),
 *     z = d / √(p(1 − p)(1/n₁ + 1/n₂)),  two-sided p-value = 2(1 − Φ(|z|)).
 */
export function compareToControl(recipients: Proportion, control: Proportion): LiftEstimate {
  const n1 = recipients.audience;
  const n2 = control.audience;
  const pooled = n1 + n2 > 0 ? (recipients.conversions + control.conversions) / (n1 + n2) : 0;
  const expected = Math.min(n1, n2) * Math.min(pooled, 1 - pooled);
  const controlTooSmall = n2 < MIN_CONTROL_MEMBERS || expected < MIN_EXPECTED;
  const note =
    n2 === 0
      ? 'No control group: lift cannot be measured.'
      : n2 < MIN_CONTROL_MEMBERS
        ? `Control group too small to tell: ${n2} members (at least ${MIN_CONTROL_MEMBERS} needed).`
        : expected < MIN_EXPECTED
          ? `Too few conversions to tell: fewer than ${MIN_EXPECTED} expected in a group at the pooled rate.`
          : null;
  if (n1 === 0 || n2 === 0) {
    return { difference: null, low: null, high: null, z: null, pValue: null, controlTooSmall, note };
  }
  const p1 = recipients.conversions / n1;
  const p2 = control.conversions / n2;
  const difference = p1 - p2;
  const w1 = wilsonInterval(recipients.conversions, n1);
  const w2 = wilsonInterval(control.conversions, n2);
  const low = difference - Math.sqrt((p1 - w1.low) ** 2 + (w2.high - p2) ** 2);
  const high = difference + Math.sqrt((w1.high - p1) ** 2 + (p2 - w2.low) ** 2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  const z = se > 0 ? difference / se : null;
  const pValue = z === null ? null : 2 * (1 - normalCdf(Math.abs(z)));
  return { difference, low, high, z, pValue, controlTooSmall, note };
}

/**
 * Φ(x), the standard normal CDF, from erf by Abramowitz and Stegun 7.1.26
 * (absolute error below 1.5e-7, ample for a p-value).
 */
export function normalCdf(x: number): number {
  const t = 1 / (1 + (0.3275911 * Math.abs(x)) / Math.SQRT2);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** n / of, or null when there is nothing to divide by. */
export const ratio = (n: number, of: number): number | null => (of > 0 ? n / of : null);
