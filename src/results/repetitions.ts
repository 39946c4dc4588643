import type { CaseResult, MeasuredCase } from './schema.js';

/** Measured (ok or noisy): the statuses that carry samples, a summary and a throughput. */
export function isMeasured(c: CaseResult): c is MeasuredCase {
  return c.status === 'ok' || c.status === 'noisy';
}

/** A failed, invalid or skipped repetition ends the case: more processes would not change that. */
export function isFinal(c: CaseResult): boolean {
  return c.status === 'failed' || c.status === 'invalid' || c.status === 'skipped';
}

/** Whether a case in a result file has all its planned repetitions (or ended early, failed or skipped). */
export function isComplete(c: CaseResult, planned: number): boolean {
  return isFinal(c) || (c.repetitions?.length ?? 1) >= planned;
}

/** The median of each process a case was measured in, as the file records them (one for a case without repetitions). */
export function processMediansMs(c: CaseResult): number[] {
  if (c.repetitions && c.repetitions.length > 1) return c.repetitions.flatMap((r) => (r.medianMs === undefined ? [] : [r.medianMs]));
  return c.summary ? [c.summary.medianMs] : [];
}

/**
 * A case's timed calls, process by process: its pooled samples cut at each repetition's count (the
 * order combineRepetitions pooled them in); one group when the counts do not account for them all.
 */
export function processSamplesMs(c: CaseResult): number[][] {
  const samples = c.samplesMs ?? [];
  const counts = (c.repetitions ?? []).map((r) => r.count ?? 0);
  if (counts.length < 2 || counts.some((n) => n < 1) || counts.reduce((a, n) => a + n, 0) !== samples.length) return [samples];
  let at = 0;
  return counts.map((n) => samples.slice(at, (at += n)));
}

/** How far apart medians are: slowest ÷ fastest − 1; undefined for fewer than two. */
export function medianSpread(mediansMs: readonly number[]): number | undefined {
  if (mediansMs.length < 2) return undefined;
  return Math.max(...mediansMs) / Math.min(...mediansMs) - 1;
}

/** How far apart a case's processes were; undefined for one process. */
export function processSpread(c: CaseResult): number | undefined {
  return medianSpread(processMediansMs(c));
}

/** Consecutive slices of the given lengths: a combined case's pooled samples back into its processes. */
export function splitByCounts<T>(xs: readonly T[], counts: readonly number[]): T[][] {
  let at = 0;
  return counts.map((n) => xs.slice(at, (at += n)));
}
