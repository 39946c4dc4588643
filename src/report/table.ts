import { processMediansMs, processSpread } from '../results/repetitions.js';
import { THROTTLE_FRACTION, throttled, workingClock } from '../results/throttling.js';
import { fmt, formatTable, formatTableWithin, TERMINAL_COLUMNS, wrap } from '../text/table.js';
import type { SweepFit } from '../measure/sweep.js';
import type { CaseResult } from '../results/schema.js';
import { ceilingsOf, fractionOfCeilings, measuredCeilings } from '../results/ceilings.js';
import type { WorkAccounting } from '../workloads/accounting.js';
import type { WorkloadCase } from '../workloads/spec.js';

export interface CaseTableOptions {
  /** The run's target half-width: a noisy case whose interval missed it is explained by its columns. */
  targetRelHalfWidth?: number;
  /** Said under the table when some case is noisy: how to get a tighter figure. */
  tighterHint?: string;
}

/** The columns a table too wide for a terminal leaves out, in this order: the figures least read first. */
const LEFT_OUT_FIRST = ['overhead', 'GB/s', 'GFLOP/s', 'rel err'];

const pct = (x: number | undefined) => (x === undefined ? '-' : `${(x * 100).toFixed(1)}%`);

/**
 * The per-case table of a run: throughput with its noise and the spread between processes, and
 * the correctness error. Columns that no case fills (a backend all share, a roofline no card
 * has) are left out so it fits a terminal. Notes say only what differs from case to case, one
 * line each; what the noisy cases share is said once.
 */
export function caseTable(cases: readonly CaseResult[], o: CaseTableOptions = {}, format: 'table' | 'markdown' = 'table'): string {
  const backends = new Set(cases.map((c) => c.backend));
  const checked = cases.filter((c) => c.correctness);
  // cases skipped or failed before their check have no output to match: they do not keep the column
  const allPassed = checked.length > 0 && checked.every((c) => c.correctness!.passed);
  const columns: { head: string; right: boolean; cell: (c: CaseResult) => string; shown: boolean }[] = [
    { head: 'case', right: false, cell: (c) => c.id, shown: true },
    { head: 'backend', right: false, cell: (c) => c.backend, shown: backends.size > 1 },
    { head: 'status', right: false, cell: (c) => c.status, shown: true },
    { head: 'tokens/s', right: true, cell: (c) => fmt(c.throughput?.tokensPerSec, 4), shown: true },
    { head: 'median ms', right: true, cell: (c) => fmt(c.summary?.medianMs, 4), shown: true },
    { head: '±95%', right: true, cell: (c) => pct(c.summary?.medianCiRelHalfWidth), shown: true },
    { head: 'spread', right: true, cell: (c) => pct(processSpread(c)), shown: cases.some((c) => processSpread(c) !== undefined) },
    { head: 'overhead', right: true, cell: (c) => fmt(c.overhead?.medianMs), shown: cases.some((c) => c.overhead) },
    { head: 'GFLOP/s', right: true, cell: (c) => fmt(c.throughput?.gflopsPerSec), shown: true },
    { head: 'GB/s', right: true, cell: (c) => fmt(c.throughput?.gbytesPerSec), shown: true },
    // over 100% of the memory roofline: the weights came from the card's cache, said rather than hidden
    {
      head: 'roofline',
      right: true,
      cell: (c) => `${pct(c.roofline?.fraction)}${c.roofline?.cacheResident ? ' cache' : ''}`,
      shown: cases.some((c) => c.roofline),
    },
    // its share of its engine's ceilings as the run's own roofline probes measured them
    {
      head: 'of measured',
      right: true,
      cell: (c) => {
        const g = ceilingsOf(cases, c);
        return pct(g && fractionOfCeilings(c, g));
      },
      shown: measuredCeilings(cases).length > 0,
    },
    // when every output passed, one note says so and the column's width goes to fitting a terminal
    { head: 'rel err', right: true, cell: (c) => (c.correctness ? c.correctness.relativeL2Error.toExponential(1) : '-'), shown: !allPassed },
  ];
  const shown = columns.filter((c) => c.shown);
  const rows = [shown.map((c) => c.head), ...cases.map((c) => shown.map((col) => col.cell(c)))];
  // a terminal's width: the figures least read go first (a GPU run's all-engines table ran to 145
  // columns), said in a note; markdown and csv keep every column
  const fitted =
    format === 'table'
      ? formatTableWithin(
          rows,
          shown.map((c) => c.right),
          LEFT_OUT_FIRST.map((head) => [head]),
        )
      : undefined;
  const leftOut = fitted?.leftOut ?? [];

  const notes: string[] = [];
  if (allPassed) {
    const worst = Math.max(...checked.map((c) => c.correctness!.relativeL2Error));
    notes.push(`  every output matched the float64 reference (relative L2 error at most ${worst.toExponential(1)})`);
  }
  const target = o.targetRelHalfWidth;
  // noisy because the interval missed the target: the ±95% and spread columns already say by how much
  const wide = cases.filter((c) => c.status === 'noisy' && target !== undefined && c.summary.medianCiRelHalfWidth > target);
  for (const c of cases) {
    if (c.status === 'ok' || wide.includes(c) || !c.error) continue;
    notes.push(`  ${c.id}: ${c.error}`);
  }
  if (wide.length) {
    const spreads = wide.map(processSpread).filter((x): x is number => x !== undefined);
    notes.push(
      `  noisy: ${wide.length === cases.length ? 'every case' : `${wide.length} case(s)`}: the 95% interval missed the ±${pct(target)} target${
        spreads.length ? `; processes up to ${pct(Math.max(...spreads))} apart` : ''
      }`,
    );
  }
  for (const c of cases.filter(throttled)) {
    const { workingMHz, lowMHz, maxMHz, during, readings } = workingClock(c)!;
    const when = during ? `during the timed calls (median of ${readings} readings, lowest ${lowMHz})` : 'right after the timed calls';
    notes.push(
      `  ${c.id}: the card ran at ${workingMHz} MHz ${when}, under ${THROTTLE_FRACTION * 100}% of its ${maxMHz} MHz maximum: throttled (temperature up to ${c.gpuDuring?.temperatureC.max ?? c.gpuAfter?.temperatureC ?? '-'} C)`,
    );
  }
  const cached = cases.filter((c) => c.roofline?.cacheResident);
  if (cached.length) {
    notes.push(
      `  cache: ${cached.length === cases.length ? 'every case' : `${cached.length} case(s)`} ran faster than the card's memory bandwidth allows: the weights were served from its cache (L2), so the figure is not what a layer too big for the cache gets`,
    );
  }
  const singleProcess = cases.filter((c) => c.summary && processMediansMs(c).length < 2).length;
  if (singleProcess) {
    notes.push(
      `  ±95% of ${singleProcess === cases.length ? 'every case' : `${singleProcess} case(s)`} is the median's interval within one process: it cannot see how much the next process will differ; the default of three processes per case (--repetitions 3) puts that drift in the interval`,
    );
  }
  for (const g of measuredCeilings(cases)) {
    const noisy = (x: { status: string }) => (x.status === 'noisy' ? ' (noisy)' : '');
    const compute = Object.entries(g.gflopsPerSec).map(([dtype, x]) => `${fmt(x.value)} GFLOP/s ${dtype}${noisy(x)}`);
    const memory = g.gbytesPerSec ? [`${fmt(g.gbytesPerSec.value)} GB/s${noisy(g.gbytesPerSec)}`] : [];
    notes.push(`  measured roofline of ${g.backend} on ${g.device}: ${[...compute, ...memory].join(', ')}`);
  }
  if (o.tighterHint && cases.some((c) => c.status === 'noisy')) notes.push(`  ${o.tighterHint}`);
  if (leftOut.length)
    notes.push(
      `  left out to fit ${TERMINAL_COLUMNS} columns: ${leftOut.join(', ')} (every column: --format markdown or csv, here or in moebench show FILE)`,
    );
  if (format === 'markdown') {
    const cell = (x: string) => x.replace(/\|/g, '\\|');
    return [
      `| ${rows[0].map(cell).join(' | ')} |`,
      `|${shown.map((c) => (c.right ? '---:' : '---')).join('|')}|`,
      ...rows.slice(1).map((r) => `| ${r.map(cell).join(' | ')} |`),
      ...(notes.length ? ['', ...notes.map((n) => `- ${n.trim()}`)] : []),
    ].join('\n');
  }
  return `${fitted!.text}${notes.length ? `\n\nnotes:\n${notes.flatMap((n) => wrap(n, TERMINAL_COLUMNS, '    ')).join('\n')}` : ''}`;
}

/**
 * The run's cases as CSV for scripts and spreadsheets: every column always, raw numbers (no
 * percent signs or rounding), one row per case; empty where a case has no such figure. Cases of
 * several files (`moebench show`) come with each case's `file` first.
 */
export function caseCsv(cases: readonly CaseResult[], fileOf?: (c: CaseResult) => string): string {
  const columns: [string, (c: CaseResult) => string | number | undefined][] = [
    ...(fileOf ? [['file', fileOf] as [string, (c: CaseResult) => string]] : []),
    ['case', (c) => c.id],
    ['backend', (c) => c.backend],
    ['device', (c) => c.device],
    ['dtype', (c) => c.workload.dtype],
    ['tokens_per_call', (c) => c.work.tokensPerCall],
    ['status', (c) => c.status],
    ['tokens_per_sec', (c) => c.throughput?.tokensPerSec],
    ['median_ms', (c) => c.summary?.medianMs],
    ['median_ci95_low_ms', (c) => c.summary?.medianCi95Ms[0]],
    ['median_ci95_high_ms', (c) => c.summary?.medianCi95Ms[1]],
    ['ci95_rel_half_width', (c) => c.summary?.medianCiRelHalfWidth],
    ['processes', (c) => (c.summary ? processMediansMs(c).length : undefined)],
    ['process_spread', (c) => processSpread(c)],
    ['gflops_per_sec', (c) => c.throughput?.gflopsPerSec],
    ['gbytes_per_sec', (c) => c.throughput?.gbytesPerSec],
    ['roofline_fraction', (c) => c.roofline?.fraction],
    ['relative_l2_error', (c) => c.correctness?.relativeL2Error],
    ['error', (c) => c.error],
  ];
  const cell = (x: string | number | undefined) => {
    const t = x === undefined ? '' : String(x);
    return /[",\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
  };
  return [columns.map(([h]) => h).join(','), ...cases.map((c) => columns.map(([, f]) => cell(f(c))).join(','))].join('\n');
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
