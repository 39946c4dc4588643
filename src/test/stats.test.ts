import { describe, expect, it } from 'vitest';
import { bootstrapMedianCi, orderStatisticMedianCi, summarize } from '../measure/stats.js';

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
  it('uses ranks n/2 ∓ 1.96·√n/2', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i);
    // half = 1.96·10/2 = 9.8: 1-based ranks 40 and 61 → 0-based 39 and 60
    expect(orderStatisticMedianCi(sorted)).toEqual([39, 60]);
  });
});
