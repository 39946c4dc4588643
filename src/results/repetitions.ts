import type { CaseResult } from './schema.js';

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
