import { processMediansMs } from '../results/repetitions.js';
import { lowestClock, THROTTLE_FRACTION, throttled } from '../results/throttling.js';
import { fmt, formatTable } from '../text/table.js';
import type { SweepFit } from '../measure/sweep.js';
import type { CaseResult } from '../results/schema.js';
import type { WorkAccounting } from '../workloads/accounting.js';
import type { WorkloadCase } from '../workloads/spec.js';

/** The per-case table of a run: throughput with its noise, and the correctness error. */
export function caseTable(cases: readonly CaseResult[]): string {
  const rows = [['case', 'backend', 'status', 'tokens/s', 'median ms', '±95%', 'call ovh ms', 'GFLOP/s', 'GB/s', 'roofline', 'rel err']];
  for (const c of cases) {
    rows.push([
      c.id,
      c.backend,
      c.status,
      fmt(c.throughput?.tokensPerSec, 4),
      fmt(c.summary?.medianMs, 4),
      c.summary ? `${(c.summary.medianCiRelHalfWidth * 100).toFixed(1)}%` : '-',
      fmt(c.overhead?.medianMs),
      fmt(c.throughput?.gflopsPerSec),
      fmt(c.throughput?.gbytesPerSec),
      c.roofline ? `${(c.roofline.fraction * 100).toFixed(1)}%` : '-',
      c.correctness ? c.correctness.relativeL2Error.toExponential(1) : '-',
    ]);
  }
  const notes = cases.filter((c) => c.error).map((c) => `  ${c.id}: ${c.error}`);
  for (const c of cases.filter(throttled)) {
    const { lowMHz, maxMHz, during } = lowestClock(c)!;
    notes.push(
      `  ${c.id}: the card ran at ${lowMHz} MHz ${during ? 'during' : 'right after'} the timed calls, under ${THROTTLE_FRACTION * 100}% of its ${maxMHz} MHz maximum: throttled (temperature up to ${c.gpuDuring?.temperatureC.max ?? c.gpuAfter?.temperatureC ?? '-'} C)`,
    );
  }
  const singleProcess = cases.filter((c) => c.summary && processMediansMs(c).length < 2).length;
  if (singleProcess) {
    notes.push(
      `  ±95% of ${singleProcess === cases.length ? 'every case' : `${singleProcess} case(s)`} is the median's interval within one process: it cannot see how much the next process will differ; the default of three processes per case (--repetitions 3) puts that drift in the interval`,
    );
  }
  return (
    formatTable(rows, [false, false, false, true, true, true, true, true, true, true, true]) + (notes.length ? `\n\nnotes:\n${notes.join('\n')}` : '')
  );
}

/** Fits of time = a + b·tokens, one line each. */
export function sweepTable(fits: readonly SweepFit[]): string {
  const rows = [['workload', 'backend', 'points', 'fixed ms', 'ms/token', 'marginal tokens/s', 'R²']];
  for (const f of fits) {
    rows.push([
      f.key,
      f.backend,
      String(f.points.length),
      fmt(f.interceptMs, 4),
      fmt(f.slopeMsPerToken, 4),
      fmt(f.marginalTokensPerSec, 4),
      f.rSquared.toFixed(4),
    ]);
  }
  return formatTable(rows, [false, false, true, true, true, true, true]);
}

/** The planned cases of a dry run with their analytic work per call. */
export function planTable(planned: { case: WorkloadCase; work: WorkAccounting }[]): string {
  const rows = [['case', 'tokens/call', 'GFLOP/call', 'MB/call']];
  for (const p of planned) {
    rows.push([p.case.id, fmt(p.work.tokensPerCall, 4), fmt(p.work.flopsPerCall / 1e9), fmt(p.work.bytesPerCall / 1e6)]);
  }
  return formatTable(rows, [false, true, true, true]);
}
