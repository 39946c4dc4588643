import { errorFunction, median, wilcoxonRankSum } from 'simple-statistics';
import { makeRng } from '../workloads/rng.js';

export interface MannWhitney {
  /** U statistic of the first sample. */
  u: number;
  z: number;
  /** Two-sided p-value, normal approximation with tie correction. */
  p: number;
}

/** Mann-Whitney U test of two samples (as gbench's compare does for two runs). */
export function mannWhitney(a: number[], b: number[]): MannWhitney {
  const n1 = a.length;
  const n2 = b.length;
  const w = wilcoxonRankSum(a, b);
  const u = w - (n1 * (n1 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const counts = new Map<number, number>();
  for (const x of [...a, ...b]) counts.set(x, (counts.get(x) ?? 0) + 1);
  const n = n1 + n2;
  let ties = 0;
  for (const t of counts.values()) ties += t ** 3 - t;
  const variance = ((n1 * n2) / 12) * (n + 1 - ties / (n * (n - 1)));
  if (variance <= 0) return { u, z: 0, p: 1 };
  // continuity correction towards the mean
  const z = (u - mean - Math.sign(u - mean) * 0.5) / Math.sqrt(variance);
  const p = Math.min(1, 2 * (1 - 0.5 * (1 + errorFunction(Math.abs(z) / Math.SQRT2))));
  return { u, z, p };
}

/** Percentile bootstrap 95% interval of median(a) / median(b), deterministic for a seed. */
export function bootstrapRatioCi(a: number[], b: number[], seed = 1, resamples = 1000): [number, number] {
  const rng = makeRng(seed, 'ratio');
  const resample = (xs: number[]) => median(Array.from(xs, () => xs[Math.floor(rng() * xs.length)]));
  const ratios = Array.from({ length: resamples }, () => resample(a) / resample(b)).sort((x, y) => x - y);
  return [ratios[Math.floor(0.025 * resamples)], ratios[Math.ceil(0.975 * resamples) - 1]];
}
