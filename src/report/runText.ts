import { fitSweeps, type SweepFit } from '../measure/sweep.js';
import type { CaseResult } from '../results/schema.js';
import { caseTable, sweepTable } from './table.js';

/** What `moebench show` prints a saved run as. */
export const SHOW_FORMATS = ['table', 'markdown', 'csv'] as const;
export type ShowFormat = (typeof SHOW_FORMATS)[number];

/** How a run was set, as far as its table speaks of it (the run's options, or what a file recorded of them): what a noisy case would need. */
export interface RunTableSettings {
  repetitions: number;
  /** The whole run's budget (a first look), when it had one. */
  timeBudgetMs?: number;
  stopping: { targetRelHalfWidth: number };
}

/** Said under the table when a case came out noisy: how to tighten it, for the run as it was set. */
export function tighterHint(o: RunTableSettings): string {
  return o.timeBudgetMs !== undefined
    ? `a first look (${o.repetitions} processes per case in ${Math.round(o.timeBudgetMs / 1000)} s); for a tighter figure add --repetitions 5 (it lifts the time budget)`
    : `for a tighter figure: more processes (--repetitions ${Math.max(5, o.repetitions + 2)}), more time per process (--max-time-ms), or a quieter host`;
}

/**
 * A run's cases as the run printed them at its end: the case table with its notes, and the fits of
 * its token sweeps. `moebench run` and `moebench show` both print this. Pure.
 */
export function runTableText(
  cases: readonly CaseResult[],
  settings: RunTableSettings | undefined,
  format: 'table' | 'markdown',
  sweeps: SweepFit[] = fitSweeps(cases),
): string {
  const table = caseTable(
    cases,
    settings ? { targetRelHalfWidth: settings.stopping.targetRelHalfWidth, tighterHint: tighterHint(settings) } : {},
    format,
  );
  return `${table}${sweeps.length ? `\n\ntime = a + b·tokens:\n${sweepTable(sweeps)}` : ''}`;
}
