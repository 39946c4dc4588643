import jstat from 'jstat';
import { errorFunction, mean, median, sampleVariance, wilcoxonRankSum } from 'simple-statistics';
import { makeRng } from '../workloads/rng.js';

const { jStat } = jstat;

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

/**
 * Percentile bootstrap intervals of median(a) / median(b), one per level asked (95% unless told),
 * all read from one set of resamples; deterministic for a seed. Each side's calls come by process:
 * each process is resampled on its own and a side's figure is the geometric
 * mean of its processes' medians: the figure a result file reports, so the interval is about the
 * ratio shown beside it (pooled calls' median can lie outside it when processes disagree, as an
 * H200 run cut to one process per case showed against three).
 */
export function bootstrapRatioCis(a: number[][], b: number[][], levels: readonly number[] = [0.95], seed = 1, resamples = 1000): [number, number][] {
  const rng = makeRng(seed, 'ratio');
  const resampleOne = (xs: number[]) => median(Array.from(xs, () => xs[Math.floor(rng() * xs.length)]));
  const resample = (groups: number[][]) =>
    groups.length === 1 ? resampleOne(groups[0]) : Math.exp(groups.reduce((sum, g) => sum + Math.log(resampleOne(g)), 0) / groups.length);
  const ratios = Array.from({ length: resamples }, () => resample(a) / resample(b)).sort((x, y) => x - y);
  return levels.map((level) => {
    // rounded, not floored: (1 − 0.9) / 2 is 0.0499… in floating point
    const tail = Math.round(((1 - level) / 2) * resamples);
    return [ratios[tail], ratios[resamples - tail - 1]];
  });
}

export interface WelchRatio {
  /** Intervals of (baseline time ÷ candidate time), one per level asked (95% unless told), from the sides' observations. */
  cis: [number, number][];
  /** Two-sided p-value of Welch's t-test on the log medians. */
  p: number;
  /** Welch–Satterthwaite degrees of freedom. */
  df: number;
}

/** A side's log time, the variance of that mean, its degrees of freedom and what its observations were. */
export interface SideLogMean {
  mean: number;
  varianceOfMean: number;
  df: number;
  /** processes: one run, its processes the observations; runs: several runs, each run's mean one observation. */
  unit: 'processes' | 'runs';
  /** The observations: each process's log median, or each run's mean of them. */
  logs: number[];
}

/** A side's observations (see sideLogMean), however many: a compare with fewer than two a side falls back to its calls. */
export function sideObservations(runsProcessMediansMs: number[][]): Pick<SideLogMean, 'unit' | 'logs'> {
  const logs = runsProcessMediansMs.map((ms) => ms.map(Math.log));
  return logs.length >= 2 ? { unit: 'runs', logs: logs.map(mean) } : { unit: 'processes', logs: logs[0] };
}

/**
 * One side of a comparison from its runs' process medians (one array per run). One run: its
 * processes are the observations. Several runs: each run's mean log median is one observation
 * (Kalibera and Jones's repeated invocations, the top level of a nested design): a run's processes
 * share the host's level at that time, so drift between runs minutes or days apart, which pools of
 * processes treat as agreement within each run, is in the variance. Needs two observations.
 */
export function sideLogMean(runsProcessMediansMs: number[][]): SideLogMean {
  const { unit, logs: xs } = sideObservations(runsProcessMediansMs);
  if (xs.length < 2) throw new Error('a side needs at least two processes, or two runs');
  return { mean: mean(xs), varianceOfMean: sampleVariance(xs) / xs.length, df: xs.length - 1, unit, logs: xs };
}

/**
 * Welch's t-test of two sides' log means (a ratio on the log scale is a difference), with the
 * interval of the ratio from the same t. Calls within one process share that process's drift, so on
 * a shared host thousands of calls are not thousands of independent observations; the processes
 * are, or, across several runs, the runs (see sideLogMean).
 */
export function welchRatio(baseline: SideLogMean, candidate: SideLogMean, levels: readonly number[] = [0.95]): WelchRatio {
  const d = baseline.mean - candidate.mean;
  const [vb, vc] = [baseline.varianceOfMean, candidate.varianceOfMean];
  const se = Math.sqrt(vb + vc);
  if (se === 0) return { cis: levels.map(() => [Math.exp(d), Math.exp(d)]), p: d === 0 ? 1 : 0, df: baseline.df + candidate.df };
  const df = (vb + vc) ** 2 / (vb ** 2 / baseline.df + vc ** 2 / candidate.df);
  const p = 2 * (1 - jStat.studentt.cdf(Math.abs(d) / se, df));
  const cis = levels.map((level): [number, number] => {
    const half = jStat.studentt.inv(1 - (1 - level) / 2, df) * se;
    return [Math.exp(d - half), Math.exp(d + half)];
  });
  return { cis, p, df };
}

/** welchRatio of one run a side, process by process. Each side needs at least two processes. */
export function processLevelRatio(baselineMediansMs: number[], candidateMediansMs: number[], levels: readonly number[] = [0.95]): WelchRatio {
  if (baselineMediansMs.length < 2 || candidateMediansMs.length < 2)
    throw new Error('a process-level comparison needs at least two processes a side');
  return welchRatio(sideLogMean([baselineMediansMs]), sideLogMean([candidateMediansMs]), levels);
}

/** The most processes a side `processesToDecide` considers; a row that needs more is answered null. */
export const MAX_PROCESSES_TO_DECIDE = 200;

/**
 * How many processes a side would turn an UNCERTAIN row into a verdict, were its ratio and the
 * spread between its processes to stay as measured: the smallest n (above the processes it has)
 * at which the (1 − 2α) interval of Welch's test over n v n processes, with the two sides' log
 * variances pooled, would lie wholly beyond ±minDifference (FASTER/SLOWER) or wholly within
 * (SAME). A planning figure, as a power calculation gives one: the next runs' ratio will not be
 * exactly this one. null when not within MAX_PROCESSES_TO_DECIDE (a ratio that sits on a
 * verdict's boundary is never decided).
 */
export function processesToDecide(
  baselineMediansMs: number[],
  candidateMediansMs: number[],
  o: { minDifference: number; alpha: number },
): number | null {
  const lb = baselineMediansMs.map(Math.log);
  const lc = candidateMediansMs.map(Math.log);
  const d = mean(lb) - mean(lc);
  const pooledVariance = (sampleVariance(lb) + sampleVariance(lc)) / 2;
  const [low, high] = [Math.log(1 - o.minDifference), Math.log(1 + o.minDifference)];
  for (let n = Math.max(lb.length, lc.length) + 1; n <= MAX_PROCESSES_TO_DECIDE; n++) {
    const se = Math.sqrt((2 * pooledVariance) / n);
    const df = 2 * n - 2;
    const half = jStat.studentt.inv(1 - o.alpha, df) * se;
    if (d - half > high || d + half < low || (d - half >= low && d + half <= high)) return n;
  }
  return null;
}
