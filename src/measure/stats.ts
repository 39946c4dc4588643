import { max, mean, medianAbsoluteDeviation, median, min, quantileSorted, sampleStandardDeviation } from 'simple-statistics';
import jstat from 'jstat';
import { makeRng } from '../workloads/rng.js';

const { jStat } = jstat;

export interface SampleSummary {
  count: number;
  medianMs: number;
  meanMs: number;
  minMs: number;
  maxMs: number;
  /** 10th and 90th percentiles, linear interpolation between ranks (simple-statistics quantileSorted, R type 7). */
  p10Ms: number;
  p90Ms: number;
  /** Sample standard deviation (n − 1); 0 for a single sample. */
  stddevMs: number;
  /** Median absolute deviation, not scaled by 1.4826. */
  madMs: number;
  /**
   * 95% interval of the median: the bootstrap percentile interval, widened about the median by
   * √medianVarianceInflation when successive calls are correlated.
   */
  medianCi95Ms: [number, number];
  /** (high − low) / 2 / median of the interval above. */
  medianCiRelHalfWidth: number;
  /** Samples outside [Q1 − 1.5·IQR, Q3 + 1.5·IQR] (Tukey's fences). */
  outliers: number;
  /** Lag-1 autocorrelation, in time order, of "this call took at most the median"; 0 for independent calls. */
  lag1Autocorrelation: number;
}

/** Bootstrap resamples of the median; enough for a stable 95% interval, cheap for thousands of samples. */
export const BOOTSTRAP_RESAMPLES = 2000;

/** Median of values already sorted ascending; typed arrays too, so the bootstrap loops need no copies. */
export function medianOfSorted(sorted: ArrayLike<number>): number {
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

export function summarize(samplesMs: number[], seed = 1): SampleSummary {
  if (samplesMs.length === 0) throw new Error('no samples to summarize');
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const q1 = quantileSorted(sorted, 0.25);
  const q3 = quantileSorted(sorted, 0.75);
  const iqr = q3 - q1;
  const med = median(samplesMs);
  const lag1 = medianIndicatorLag1(samplesMs, med);
  const ci = serialMedianCi(samplesMs, med, lag1, seed);
  return {
    count: samplesMs.length,
    medianMs: med,
    meanMs: mean(samplesMs),
    minMs: min(samplesMs),
    maxMs: max(samplesMs),
    p10Ms: quantileSorted(sorted, 0.1),
    p90Ms: quantileSorted(sorted, 0.9),
    stddevMs: samplesMs.length > 1 ? sampleStandardDeviation(samplesMs) : 0,
    madMs: medianAbsoluteDeviation(samplesMs),
    medianCi95Ms: ci,
    medianCiRelHalfWidth: med > 0 ? (ci[1] - ci[0]) / 2 / med : 0,
    outliers: sorted.filter((x) => x < q1 - 1.5 * iqr || x > q3 + 1.5 * iqr).length,
    lag1Autocorrelation: lag1,
  };
}

/**
 * Lag-1 autocorrelation of the series 1{x_i ≤ median} in time order. The median's variance is
 * that of this series' mean over the density at the median squared, so this is the correlation
 * that matters for it, and unlike the samples' own autocorrelation one slow call cannot swing it.
 */
export function medianIndicatorLag1(samplesInOrder: ArrayLike<number>, medianMs: number): number {
  const n = samplesInOrder.length;
  let below = 0;
  for (let i = 0; i < n; i++) if (samplesInOrder[i] <= medianMs) below++;
  const p = below / n;
  let num = 0;
  let den = 0;
  let prev = 0;
  for (let i = 0; i < n; i++) {
    const d = (samplesInOrder[i] <= medianMs ? 1 : 0) - p;
    den += d * d;
    if (i > 0) num += d * prev;
    prev = d;
  }
  return den > 0 ? num / den : 0;
}

/**
 * Factor by which serial correlation inflates the median's variance over independent calls,
 * (1 + ρ) / (1 − ρ) for lag-1 autocorrelation ρ (first-order autoregressive approximation),
 * with ρ clipped to [0, 0.95]. On a shared host the calls are not independent: load drifts over
 * seconds, and on the development VM's CPU cases ρ was 0.2–0.6, a factor of 1.5–4.
 */
export function medianVarianceInflation(lag1: number): number {
  const rho = Math.min(Math.max(lag1, 0), 0.95);
  return (1 + rho) / (1 - rho);
}

/** The bootstrap interval of the median, widened about it by √(variance inflation), within the samples' range. */
function serialMedianCi(samplesInOrder: number[], medianMs: number, lag1: number, seed: number): [number, number] {
  const [lo, hi] = bootstrapMedianCi(samplesInOrder, seed);
  const widen = Math.sqrt(medianVarianceInflation(lag1));
  if (widen === 1) return [lo, hi];
  return [Math.max(min(samplesInOrder), medianMs - (medianMs - lo) * widen), Math.min(max(samplesInOrder), medianMs + (hi - medianMs) * widen)];
}

/** Percentile bootstrap of the median, deterministic for a seed. */
export function bootstrapMedianCi(samplesMs: number[], seed = 1, resamples = BOOTSTRAP_RESAMPLES): [number, number] {
  const n = samplesMs.length;
  if (n === 1) return [samplesMs[0], samplesMs[0]];
  const rng = makeRng(seed, 'bootstrap');
  const medians = new Float64Array(resamples);
  const buf = new Float64Array(n);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) buf[i] = samplesMs[Math.floor(rng() * n)];
    medians[r] = medianOfSorted(buf.sort());
  }
  medians.sort();
  const sorted = Array.from(medians);
  return [quantileSorted(sorted, 0.025), quantileSorted(sorted, 0.975)];
}

/**
 * Distribution-free 95% interval of the median from order statistics (normal
 * approximation to the binomial); cheap enough to recompute after every sample.
 */
export function orderStatisticMedianCi(sorted: ArrayLike<number>, varianceInflation = 1): [number, number] {
  const n = sorted.length;
  // serial correlation leaves fewer independent calls: n / inflation of them
  const half = (1.959964 * Math.sqrt(n * varianceInflation)) / 2;
  const lo = Math.max(0, Math.floor(n / 2 - half) - 1);
  const hi = Math.min(n - 1, Math.ceil(n / 2 + half));
  return [sorted[lo], sorted[hi]];
}

/**
 * The median of a case run in k separate processes, each process weighing the same: the geometric
 * mean of the repetitions' medians (pooling the samples would let a noisy process, which samples
 * longest, outvote the others). Its 95% interval is Student's t over the logs of those medians
 * (k − 1 degrees of freedom), turned back into times: a ratio interval (×/÷), symmetric in ratio
 * terms and positive by construction, however far apart the processes are (on a linear scale
 * three processes that disagree put the lower bound below zero). It is never narrower than the
 * pooled samples' own interval (`pooled`, their summary). Each process is one draw of the drift
 * between processes (clocks, memory placement, neighbours on a shared host) that no single process
 * can see; the t quantile (4.30 for three) pays for knowing the spread from k draws.
 */
export function repetitionMedian(groups: number[][], pooled: SampleSummary): { medianMs: number; ci: [number, number] } {
  const [poolLo, poolHi] = pooled.medianCi95Ms;
  const k = groups.length;
  if (k < 2) return { medianMs: pooled.medianMs, ci: [poolLo, poolHi] };
  const { geometricMean: medianMs, ci } = geometricMeanCi95(groups.map((g) => median(g)));
  return { medianMs, ci: [Math.min(poolLo, ci[0]), Math.max(poolHi, ci[1])] };
}

/**
 * The geometric mean of two or more positive values and its 95% interval: Student's t over their
 * logs (n − 1 degrees of freedom), turned back: a ×/÷ interval, positive by construction.
 */
export function geometricMeanCi95(values: readonly number[]): { geometricMean: number; ci: [number, number] } {
  const logs = values.map((x) => Math.log(x));
  const center = mean(logs);
  const halfWidth = (jStat.studentt.inv(0.975, logs.length - 1) * sampleStandardDeviation(logs)) / Math.sqrt(logs.length);
  return { geometricMean: Math.exp(center), ci: [Math.exp(center - halfWidth), Math.exp(center + halfWidth)] };
}
