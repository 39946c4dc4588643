import { describe, expect, it } from 'vitest';
import { bootstrapMedianCi, medianIndicatorLag1, medianVarianceInflation, orderStatisticMedianCi, summarize } from '../measure/stats.js';

describe('summary statistics', () => {
  const samples = [7, 1, 9, 3, 100, 5, 2, 8, 4, 6];
  const s = summarize(samples);

  it('median, mean, min, max', () => {
    expect(s.count).toBe(10);
    expect(s.medianMs).toBe(5.5);
    expect(s.meanMs).toBe(14.5);
    expect(s.minMs).toBe(1);
    expect(s.maxMs).toBe(100);
  });

  it('p10 and p90 interpolate linearly between ranks (R type 7)', () => {
    // (n − 1)·0.1 = 0.9 → 1 + 0.9·(2 − 1); (n − 1)·0.9 = 8.1 → 9 + 0.1·(100 − 9)
    expect(s.p10Ms).toBeCloseTo(1.9, 12);
    expect(s.p90Ms).toBeCloseTo(18.1, 12);
  });

  it('sample standard deviation uses n − 1', () => {
    // Σ(x − 14.5)² = 8182.5
    expect(s.stddevMs).toBeCloseTo(Math.sqrt(8182.5 / 9), 12);
  });

  it('median absolute deviation is unscaled', () => {
    expect(s.madMs).toBe(2.5);
  });

  it("counts Tukey's outliers", () => {
    // Q1 = 3.25, Q3 = 7.75, fences −3.5 and 14.5
    expect(s.outliers).toBe(1);
  });

  it('a single sample has zero spread and a point interval', () => {
    const one = summarize([4]);
    expect(one.stddevMs).toBe(0);
    expect(one.medianCi95Ms).toEqual([4, 4]);
    expect(one.medianCiRelHalfWidth).toBe(0);
  });
});

describe('bootstrap interval of the median', () => {
  const samples = Array.from({ length: 50 }, (_, i) => 10 + ((i * 37) % 11) / 10);

  it('is deterministic for a seed', () => {
    expect(bootstrapMedianCi(samples, 5)).toEqual(bootstrapMedianCi(samples, 5));
  });

  it('changes with the seed', () => {
    const a = bootstrapMedianCi(samples, 5, 200);
    const b = bootstrapMedianCi(samples, 6, 200);
    expect(a).not.toEqual(b);
  });

  it('brackets the median', () => {
    const [lo, hi] = bootstrapMedianCi(samples, 1);
    const med = summarize(samples).medianMs;
    expect(lo).toBeLessThanOrEqual(med);
    expect(hi).toBeGreaterThanOrEqual(med);
    expect(hi).toBeGreaterThan(lo);
  });

  it('is a point for constant samples', () => {
    expect(bootstrapMedianCi([3, 3, 3, 3], 1)).toEqual([3, 3]);
  });
});

describe('order-statistic interval of the median', () => {
  const sorted = Array.from({ length: 100 }, (_, i) => i);

  it('uses ranks n/2 ∓ 1.96·√n/2', () => {
    // half = 1.96·10/2 = 9.8: 1-based ranks 40 and 61 → 0-based 39 and 60
    expect(orderStatisticMedianCi(sorted)).toEqual([39, 60]);
  });

  it('counts n / inflation independent calls when calls are correlated', () => {
    // inflation 4: half = 1.96·√400/2 = 19.6: 1-based ranks 30 and 70 → 0-based 29 and 70
    expect(orderStatisticMedianCi(sorted, 4)).toEqual([29, 70]);
  });
});

describe('serial correlation of the calls', () => {
  it('lag-1 autocorrelation of "at most the median": two calls below, then two above', () => {
    // indicators 1 1 0 0 about p = 0.5: (0.25 − 0.25 + 0.25) / 1
    expect(medianIndicatorLag1([1, 2, 3, 4], 2.5)).toBe(0.25);
  });

  it('is negative for calls that alternate', () => {
    expect(medianIndicatorLag1([1, 3, 1, 3], 2)).toBe(-0.75);
  });

  it('is 0 when every call equals the median', () => {
    expect(medianIndicatorLag1([2, 2, 2], 2)).toBe(0);
  });

  it('inflates the variance by (1 + ρ) / (1 − ρ), ρ clipped to [0, 0.95]', () => {
    expect(medianVarianceInflation(0.5)).toBe(3);
    expect(medianVarianceInflation(-0.75)).toBe(1);
    expect(medianVarianceInflation(0.99)).toBeCloseTo(39, 9);
  });

  // 10 ms ± 3%: once as a slow drift (a sine over 126 calls), once the same values scrambled
  const drift = Array.from({ length: 200 }, (_, i) => 10 * (1 + 0.03 * Math.sin(i / 20)));
  const scrambled = drift.map((_, i) => drift[(i * 37) % 200]);

  it('the summary records it', () => {
    expect(summarize(drift).lag1Autocorrelation).toBeGreaterThan(0.9);
    expect(Math.abs(summarize(scrambled).lag1Autocorrelation)).toBeLessThan(0.3);
  });

  it('widens the reported interval of drifting calls over that of the same values in random order', () => {
    const width = (ci: [number, number]) => ci[1] - ci[0];
    expect(width(summarize(drift, 3).medianCi95Ms)).toBeGreaterThan(3 * width(bootstrapMedianCi(drift, 3)));
    expect(summarize(drift, 3).medianCi95Ms[0]).toBeGreaterThanOrEqual(Math.min(...drift));
    expect(summarize(drift, 3).medianCi95Ms[1]).toBeLessThanOrEqual(Math.max(...drift));
  });

  it('does not widen the interval of uncorrelated calls', () => {
    // 200 calls in random order: the distribution-free 95% interval of the median lies between the
    // 86th and 115th of the sorted calls (100 ± 1.96 · √200 / 2); an unwidened interval stays near
    // those ranks, one widened like the drift's above (more than 3×) reaches far past them
    const sorted = [...scrambled].sort((a, b) => a - b);
    const [lo, hi] = summarize(scrambled, 3).medianCi95Ms;
    expect(lo).toBeGreaterThanOrEqual(sorted[80]);
    expect(hi).toBeLessThanOrEqual(sorted[120]);
    expect(hi - lo).toBeLessThan(sorted[120] - sorted[80]);
  });
});
