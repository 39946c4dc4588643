import { median } from 'simple-statistics';
import { medianIndicatorLag1, medianOfSorted, medianVarianceInflation, orderStatisticMedianCi } from './stats.js';

export type StopDecision = 'continue' | 'converged' | 'timeout';

/** Fed one measurement at a time (nvbench's do_add_measurement / do_is_finished). */
export interface StoppingRule {
  add(sampleMs: number): void;
  /** `elapsedMs`: time spent sampling this case so far, on the injected clock. */
  decide(elapsedMs: number): StopDecision;
  /** Relative half-width of the median's 95% interval so far. */
  relHalfWidth(): number;
}

export interface StdRelOptions {
  /** Target relative half-width of the 95% CI of the median (0.02 = ±2%). */
  targetRelHalfWidth: number;
  minSamples: number;
  minTimeMs: number;
  maxTimeMs: number;
  /** Bounds memory and file size for very fast calls; at this count the rule decides with what it has. */
  maxSamples: number;
}

export const DEFAULT_STDREL: StdRelOptions = { targetRelHalfWidth: 0.02, minSamples: 10, minTimeMs: 500, maxTimeMs: 10_000, maxSamples: 10_000 };

/**
 * Stops once the median is known to within the target, after a minimum number
 * of samples and time; at the maximum time it gives up and the case is noisy.
 */
export class StdRelRule implements StoppingRule {
  private readonly samples: number[] = [];
  private sorted: Float64Array = new Float64Array(0);

  constructor(private readonly opts: StdRelOptions = DEFAULT_STDREL) {}

  /** O(1): the hot loop only appends; sorting waits until the rule is consulted. */
  add(sampleMs: number): void {
    this.samples.push(sampleMs);
  }

  private sortedSamples(): Float64Array {
    if (this.sorted.length !== this.samples.length) this.sorted = Float64Array.from(this.samples).sort();
    return this.sorted;
  }

  relHalfWidth(): number {
    const sorted = this.sortedSamples();
    const n = sorted.length;
    if (n < 2) return Infinity;
    const med = medianOfSorted(sorted);
    // the same correction for correlated calls as the reported interval, so "converged" means it
    const inflation = medianVarianceInflation(medianIndicatorLag1(this.samples, med));
    const [lo, hi] = orderStatisticMedianCi(sorted, inflation);
    return med > 0 ? (hi - lo) / 2 / med : 0;
  }

  decide(elapsedMs: number): StopDecision {
    const n = this.samples.length;
    const full = n >= this.opts.maxSamples;
    const enough = n >= this.opts.minSamples && (elapsedMs >= this.opts.minTimeMs || full);
    if (enough && this.relHalfWidth() <= this.opts.targetRelHalfWidth) return 'converged';
    if ((elapsedMs >= this.opts.maxTimeMs || full) && n > 0) return 'timeout';
    return 'continue';
  }
}

export interface WarmupOptions {
  minSamples: number;
  minTimeMs: number;
  maxTimeMs: number;
  maxSamples: number;
  /** Warm once the medians of the last two windows differ by at most this fraction. */
  stableWithin: number;
}

// On the development VM the first second of calls ran 1–3% slower than the rest (allocator
// arenas, caches, clocks settling), so warm-up lasts at least a second and ends only when the
// last two windows agree within 2%.
export const DEFAULT_WARMUP: WarmupOptions = { minSamples: 3, minTimeMs: 1_000, maxTimeMs: 5_000, maxSamples: 1_000, stableWithin: 0.02 };

/** Warm-up is over when the latest window of samples looks like the one before it. */
export class WarmupRule {
  private readonly samples: number[] = [];
  constructor(private readonly opts: WarmupOptions = DEFAULT_WARMUP) {}

  add(sampleMs: number): void {
    this.samples.push(sampleMs);
  }

  done(elapsedMs: number): boolean {
    if (elapsedMs >= this.opts.maxTimeMs || this.samples.length >= this.opts.maxSamples) return true;
    if (this.samples.length < this.opts.minSamples || elapsedMs < this.opts.minTimeMs) return false;
    const w = Math.max(1, Math.floor(this.samples.length / 4));
    if (this.samples.length < 2 * w) return false;
    const last = median(this.samples.slice(-w));
    const prev = median(this.samples.slice(-2 * w, -w));
    return Math.abs(last - prev) <= this.opts.stableWithin * prev;
  }
}
