import { COMPARE_DEFAULTS } from '../compare/compare.js';
import { deviceOnHostCpu } from '../env/cards.js';
import { checksOfRun, judgeHostOverChecks } from '../env/hostLoad.js';
import { UsageError } from '../errors.js';
import { runTableText, type RunTableSettings, type ShowFormat } from '../report/runText.js';
import { caseCsv } from '../report/table.js';
import { loadingNotes, loadRuns, type Run } from '../results/runs.js';
import type { CaseResult } from '../results/schema.js';
import { TERMINAL_COLUMNS, wrap } from '../text/table.js';
import type { Io } from './io.js';

/** "2026-12-04 17:15:07 UTC": a recorded instant as a terminal line reads it (a first look takes under a minute). */
const instant = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;

/** What a file recorded of how its run was set, when it recorded enough to say what a noisy case needs. */
function settingsOf(run: Run): RunTableSettings | undefined {
  const o = run.run.options;
  const stopping = o.stopping as { targetRelHalfWidth?: unknown } | undefined;
  if (typeof o.repetitions !== 'number' || typeof stopping?.targetRelHalfWidth !== 'number') return undefined;
  return {
    repetitions: o.repetitions,
    timeBudgetMs: typeof o.timeBudgetMs === 'number' ? o.timeBudgetMs : undefined,
    stopping: { targetRelHalfWidth: stopping.targetRelHalfWidth },
  };
}

/**
 * Where and when a saved run ran, a line each: its suite, engine and card, host, time and
 * moebench; whether its host checks found the host busy or moving; and, for a run that never
 * reached its end, the command that finishes it. Pure.
 */
export function runFacts(run: Run): string[] {
  const e = run.environment;
  const settings = settingsOf(run);
  const ended = e.endedAt ? (e.endedAt.slice(0, 10) === e.startedAt.slice(0, 10) ? e.endedAt.slice(11, 19) : instant(e.endedAt)) : undefined;
  // what ran where, then when and how
  const lines = [
    [run.run.suite ? `${run.run.suite} suite` : 'cases from the command line', `${run.run.backend} on ${run.run.device}`, `host ${e.host}`].join(
      ' · ',
    ),
    [
      ended ? `${instant(e.startedAt).replace(' UTC', '')}–${ended} UTC` : `started ${instant(e.startedAt)}`,
      ...(settings ? [`${settings.repetitions} process${settings.repetitions === 1 ? '' : 'es'} per case`] : []),
      `moebench ${e.moebench.version}`,
    ].join(' · '),
  ];
  // a file from before the host check says nothing of its host
  if (e.hostCheck) {
    const host = judgeHostOverChecks(checksOfRun(e, 'the start', 'the end'), {
      hostCases: run.cases.some((c) => deviceOnHostCpu(c.device)),
      margin: COMPARE_DEFAULTS.minDifference,
    });
    if (!host.quiet) lines.push(`host not quiet during this run: ${host.reasons.join('; ')}`);
  }
  if (!e.endedAt) lines.push(`unfinished: it never reached its end; continue with moebench run --resume ${run.source}`);
  return lines;
}

/** `moebench show FILE...`: saved runs' tables in the terminal, as each run printed its own at its end. */
export async function showCommand(paths: string[], format: ShowFormat, io: Io): Promise<number> {
  const loaded = loadRuns(paths);
  for (const line of loadingNotes(loaded)) io.err(line);
  const { runs, bad } = loaded;
  if (runs.length === 0) throw new UsageError(`no readable result files in ${paths.join(', ')}`);
  if (format === 'csv') {
    const fileOf = new Map<CaseResult, string>(runs.flatMap((r) => r.cases.map((c) => [c, r.source] as const)));
    io.out(
      caseCsv(
        runs.flatMap((r) => r.cases),
        (c) => fileOf.get(c)!,
      ),
    );
  } else {
    const heading = (run: Run) =>
      format === 'markdown'
        ? [`### ${run.source}`, '', ...runFacts(run).map((l) => `- ${l}`)]
        : [run.source, ...runFacts(run).flatMap((l) => wrap(`  ${l}`, TERMINAL_COLUMNS, '    '))];
    io.out(runs.map((run) => [...heading(run), '', runTableText(run.cases, settingsOf(run), format)].join('\n')).join('\n\n'));
  }
  return bad.length ? 1 : 0;
}
