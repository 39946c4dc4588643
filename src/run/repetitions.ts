import { correctedThroughput, throughputOf } from '../measure/throughput.js';
import { isFinal, medianSpread, splitByCounts } from '../results/repetitions.js';
import { median } from 'simple-statistics';
import { repetitionMedian, summarize } from '../measure/stats.js';
import type { CaseResult } from '../results/schema.js';

/**
 * One result from the same case run in several worker processes. Samples are pooled for the
 * distribution figures (mean, percentiles, spread); the median is the geometric mean of the repetitions'
 * medians and its interval comes from their spread (Student's t), so it covers the drift between
 * processes as well as the noise within one. Pure.
 */
export function combineRepetitions(results: CaseResult[], targetRelHalfWidth: number, seed: number, planned = results.length): CaseResult {
  const repetitions = results.map((r) => ({
    status: r.status,
    ...(r.summary ? { medianMs: r.summary.medianMs, medianCi95Ms: r.summary.medianCi95Ms, count: r.summary.count } : {}),
    ...(r.warmupSamplesMs ? { warmupCount: r.warmupSamplesMs.length } : {}),
    ...(r.overhead ? { overhead: r.overhead } : {}),
    ...(r.error ? { error: r.error } : {}),
    ...(r.gpuDuring ? { gpuDuring: r.gpuDuring } : {}),
  }));
  // a case with more repetitions still to come lists the one it has, so a resumed run can tell
  if (results.length === 1) return planned > 1 ? { ...results[0], repetitions } : results[0];
  const n = results.length;
  const badIndex = results.findIndex(isFinal);
  if (badIndex >= 0) {
    const bad = results[badIndex];
    return { ...bad, error: `repetition ${badIndex + 1} of ${n}: ${bad.error ?? bad.status}`, repetitions };
  }
  const groups = results.map((r) => r.samplesMs!);
  const pooled = groups.flat();
  const base = summarize(pooled, seed);
  const { medianMs, ci } = repetitionMedian(groups, base);
  const summary = { ...base, medianMs, medianCi95Ms: ci, medianCiRelHalfWidth: medianMs > 0 ? (ci[1] - ci[0]) / 2 / medianMs : 0 };
  const first = results[0];
  const last = results[n - 1];
  const overheads = results.map((r) => r.overhead).filter((o): o is NonNullable<CaseResult['overhead']> => o !== undefined);
  const overheadMedianMs = overheads.length ? overheads.map((o) => o.medianMs).sort((a, b) => a - b)[Math.floor(overheads.length / 2)] : undefined;
  const withinTarget = summary.medianCiRelHalfWidth <= targetRelHalfWidth;
  const noisy = results.flatMap((r, i) => (r.status === 'ok' ? [] : [i]));
  const converged = noisy.length === 0 && withinTarget;
  const spread = medianSpread(groups.map((g) => median(g)))!;
  const target = `±${(targetRelHalfWidth * 100).toFixed(1)}%`;
  const interval = `±${(summary.medianCiRelHalfWidth * 100).toFixed(1)}% over ${n} processes (target ${target}), processes ${(spread * 100).toFixed(1)}% apart`;
  // a process that reached its time limit unconverged makes the case noisy even when the interval over processes is narrow
  const which = noisy.map((i) => i + 1).join(', ');
  const error = converged
    ? undefined
    : withinTarget
      ? `process ${which} of ${n} stopped short of ${target}: ${results[noisy[0]].error ?? 'noisy'}`
      : noisy.length
        ? `${interval}; process ${which} stopped short of ${target}`
        : interval;
  const worst = results.reduce(
    (w, r) => (r.correctness && (!w || r.correctness.relativeL2Error > w.relativeL2Error) ? r.correctness : w),
    first.correctness,
  );
  return {
    ...first,
    status: converged ? 'ok' : 'noisy',
    ...(converged ? { error: undefined } : { error }),
    correctness: worst,
    warmupSamplesMs: results.flatMap((r) => r.warmupSamplesMs ?? []),
    samplesMs: pooled,
    summary,
    throughput: throughputOf(first.work, summary),
    ...(overheadMedianMs !== undefined
      ? {
          overhead: { ...overheads[0], medianMs: overheadMedianMs, count: overheads.reduce((a, o) => a + o.count, 0) },
          throughputCorrected: correctedThroughput(first.work, summary, overheadMedianMs),
        }
      : {}),
    ...(first.roofline ? { roofline: { ...first.roofline, fraction: first.roofline.floorMs / summary.medianMs } } : {}),
    memory: last.memory,
    ...combinedGpuDuring(results),
    gpuAfter: last.gpuAfter,
    endedAt: last.endedAt,
    repetitions,
  };
}

/**
 * The per-process results a combined case was made of, recovered from the file: its pooled
 * samples and warm-up samples split by each repetition's counts, each with its own overhead.
 * Combining them again with more repetitions gives what an uninterrupted run would have.
 */
export function splitRepetitions(c: CaseResult): CaseResult[] {
  const { repetitions: listed, ...single } = c;
  if (!listed || listed.length < 2) return [single];
  const { samplesMs: _s, warmupSamplesMs: _w, summary: _m, throughput: _t, throughputCorrected: _c, ...base } = single;
  const samples =
    c.samplesMs &&
    splitByCounts(
      c.samplesMs,
      listed.map((r) => r.count ?? 0),
    );
  const warmups =
    c.warmupSamplesMs &&
    splitByCounts(
      c.warmupSamplesMs,
      listed.map((r) => r.warmupCount ?? 0),
    );
  return listed.map((r, i): CaseResult => {
    const samplesMs = samples?.[i];
    const warmupSamplesMs = warmups?.[i];
    const own = { ...base, gpuDuring: r.gpuDuring, overhead: r.overhead };
    if ((r.status === 'ok' || r.status === 'noisy') && samplesMs && samplesMs.length > 0) {
      const summary = summarize(samplesMs, c.workload.seed);
      const corrected = r.overhead ? correctedThroughput(c.work, summary, r.overhead.medianMs) : undefined;
      return {
        ...own,
        status: r.status,
        error: r.error,
        samplesMs,
        warmupSamplesMs,
        summary,
        throughput: throughputOf(c.work, summary),
        throughputCorrected: corrected,
      };
    }
    if (r.status === 'invalid') return { ...own, status: 'invalid', error: r.error };
    // a measured repetition whose samples the file does not hold cannot be combined again
    return { ...own, status: r.status === 'skipped' ? 'skipped' : 'failed', error: r.error ?? `repetition ${i + 1} has no samples in the file` };
  });
}

/** The card through every repetition's timed calls: lowest and highest clock, hottest reading, the median of their medians. */
function combinedGpuDuring(results: CaseResult[]): Pick<CaseResult, 'gpuDuring'> {
  const during = results.flatMap((r) => (r.gpuDuring ? [r.gpuDuring] : []));
  if (during.length === 0) return {};
  return {
    gpuDuring: {
      readings: during.reduce((a, d) => a + d.readings, 0),
      smClockMHz: {
        min: Math.min(...during.map((d) => d.smClockMHz.min)),
        median: median(during.map((d) => d.smClockMHz.median)),
        max: Math.max(...during.map((d) => d.smClockMHz.max)),
      },
      temperatureC: { max: Math.max(...during.map((d) => d.temperatureC.max)) },
    },
  };
}
