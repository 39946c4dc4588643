import type { WorkAccounting } from '../workloads/accounting.js';
import type { SampleSummary } from './stats.js';

export interface Throughput {
  tokensPerSec: number;
  gflopsPerSec: number;
  gbytesPerSec: number;
}

/** Work per call ÷ median time per call. */
export function throughputOf(work: WorkAccounting, s: Pick<SampleSummary, 'medianMs'>): Throughput {
  const seconds = s.medianMs / 1000;
  return {
    tokensPerSec: work.tokensPerCall / seconds,
    gflopsPerSec: work.flopsPerCall / seconds / 1e9,
    gbytesPerSec: work.bytesPerCall / seconds / 1e9,
  };
}

/** Raw median minus the no-work call's median; undefined when the overhead is not smaller than the call. */
export function correctedThroughput(
  work: WorkAccounting,
  s: Pick<SampleSummary, 'medianMs'>,
  overheadMedianMs: number,
): (Throughput & { medianMs: number }) | undefined {
  const medianMs = s.medianMs - overheadMedianMs;
  if (!(medianMs > 0)) return undefined;
  return { medianMs, ...throughputOf(work, { medianMs }) };
}
