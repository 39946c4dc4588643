import { repetitionMedian, summarize } from '../measure/stats.js';
import { correctedThroughput, throughputOf } from '../measure/throughput.js';
import type { WorkAccounting } from '../workloads/accounting.js';
import { splitByCounts } from './repetitions.js';

type Summary = { medianMs: number; medianCi95Ms: [number, number]; medianCiRelHalfWidth: number };
type Rep = { count?: number; medianCi95Ms?: [number, number] };

/**
 * What reading an older file changes so that every reader accepts it. It works on a copy, after
 * which the digest is still checked against the file as written. Today one repair: before 1.3 the
 * median over processes was their arithmetic mean and its interval Student's t on a linear scale,
 * whose lower bound went below zero when the processes disagreed. Such a case is recomputed from
 * the samples the file holds (split into its processes by their counts), on the log scale 1.3
 * uses; its median, interval and throughputs change together and its error says what was done.
 * Returns the notes, one per repaired case.
 */
export function migrateResultRecord(record: Record<string, unknown>): string[] {
  const notes: string[] = [];
  const cases = Array.isArray(record.cases) ? (record.cases as Record<string, unknown>[]) : [];
  for (const c of cases) {
    // one process's order-statistic interval is clamped at zero by construction; older writers did not
    for (const r of (c.repetitions as Rep[] | undefined) ?? []) if (r.medianCi95Ms && r.medianCi95Ms[0] < 0) r.medianCi95Ms = [0, r.medianCi95Ms[1]];
    const summary = c.summary as Summary | undefined;
    const samples = c.samplesMs as number[] | undefined;
    if (!summary || !(summary.medianCi95Ms?.[0] < 0) || !Array.isArray(samples) || samples.length === 0) continue;
    const note = recompute(c, summary, samples);
    c.error = c.error ? `${String(c.error)}; ${note}` : note;
    notes.push(`${String(c.id)}: ${note}`);
  }
  return notes;
}

function recompute(c: Record<string, unknown>, summary: Summary, samples: number[]): string {
  const reps = (c.repetitions as Rep[] | undefined) ?? [{ count: samples.length }];
  const groups = splitByCounts(samples, reps.map((r) => r.count ?? 0)).filter((g) => g.length > 0);
  const seed = ((c.workload as { seed?: number } | undefined)?.seed ?? 0) | 0;
  const pooled = summarize(samples, seed);
  const { medianMs, ci } = repetitionMedian(groups.length > 0 ? groups : [samples], pooled);
  const old = summary.medianCi95Ms;
  c.summary = { ...summary, medianMs, medianCi95Ms: ci, medianCiRelHalfWidth: (ci[1] - ci[0]) / 2 / medianMs };
  const work = c.work as WorkAccounting | undefined;
  if (work) {
    c.throughput = throughputOf(work, { medianMs });
    const overheadMs = (c.overhead as { medianMs?: number } | undefined)?.medianMs;
    if (overheadMs !== undefined) {
      const corrected = correctedThroughput(work, { medianMs }, overheadMs);
      if (corrected) c.throughputCorrected = corrected;
      else delete c.throughputCorrected;
    }
  }
  const roofline = c.roofline as { floorMs: number; fraction: number } | undefined;
  if (roofline) roofline.fraction = roofline.floorMs / medianMs;
  const p = (x: number) => x.toPrecision(4);
  return `interval recomputed on read: [${p(old[0])}, ${p(old[1])}] ms was on a linear scale (before schema 1.3), now [${p(ci[0])}, ${p(ci[1])}] ms around ${p(medianMs)} ms`;
}
