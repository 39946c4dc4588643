import { fmt, formatTable } from '../text/table.js';
import type { Comparison, Pair, RowKey } from './compare.js';

export type CompareFormat = 'table' | 'markdown' | 'csv' | 'json';
export const COMPARE_FORMATS: readonly CompareFormat[] = ['table', 'markdown', 'csv', 'json'];

const rowName = (r: RowKey) => [r.id, r.backend, r.device].filter(Boolean).join(' · ');
const pct = (x: number) => `${x >= 1 ? '+' : ''}${((x - 1) * 100).toFixed(1)}%`;

function header(c: Comparison): string[] {
  const lines = [`sides (by ${c.by}), baseline first:`];
  const ordered = [...c.sides].sort((a, b) => (a.label === c.baseline ? -1 : b.label === c.baseline ? 1 : 0));
  for (const s of ordered) lines.push(`  ${s.label === c.baseline ? '[baseline] ' : ''}${s.label}  (${s.sources.join(', ')})`);
  if (c.envDifferences.length) {
    lines.push('', 'environment differences:');
    for (const d of c.envDifferences)
      lines.push(
        `  ${d.field}: ${Object.entries(d.values)
          .map(([side, v]) => `${side} = ${v}`)
          .join('; ')}`,
      );
  }
  return lines;
}

function rows(c: Comparison): string[][] {
  return c.pairs.map((p) => [
    rowName(p.row),
    p.candidate,
    fmt(p.baselineTokensPerSec, 4),
    fmt(p.candidateTokensPerSec, 4),
    `${p.ratio.toFixed(3)} (${pct(p.ratio)})`,
    `[${p.ratioCi95[0].toFixed(3)}, ${p.ratioCi95[1].toFixed(3)}]`,
    p.p < 1e-4 ? '<1e-4' : p.p.toFixed(4),
    testOf(p),
    p.verdict,
  ]);
}

/** Which test decided the row, in a few words: Welch over N v M processes, or Mann-Whitney over calls. */
export function testOf(p: Pair): string {
  return p.test === 'welch-processes' ? `Welch, ${p.processes.baseline} v ${p.processes.candidate} processes` : 'MWU, calls';
}

const HEAD = ['case', 'candidate', 'baseline tok/s', 'candidate tok/s', 'ratio', '95% CI', 'p', 'test', 'verdict'];

function footer(c: Comparison): string[] {
  const lines: string[] = [];
  if (c.unmatched.length) {
    lines.push('', 'cases on some sides only:');
    for (const u of c.unmatched) lines.push(`  ${rowName(u.row)}: only in ${u.presentIn.join(', ')}; missing in ${u.missingIn.join(', ')}`);
  }
  lines.push(
    '',
    `verdicts: FASTER/SLOWER need p < ${c.alpha} and a ratio at least ${(c.minDifference * 100).toFixed(0)}% from 1; SAME needs the ratio's 95% interval within ±${(c.minDifference * 100).toFixed(0)}%; anything else is UNCERTAIN.`,
  );
  lines.push(
    `test: with two or more processes a side (--repetitions, or several runs), Welch's t on the processes' log medians; otherwise Mann-Whitney U and a bootstrap over the calls, which cannot see drift between processes.`,
  );
  return lines;
}

function csvCell(x: string): string {
  return /[",\n]/.test(x) ? `"${x.replace(/"/g, '""')}"` : x;
}

/** A comparison as text in one format. Pure. */
export function formatComparison(c: Comparison, format: CompareFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(c, null, 2);
    case 'csv':
      return [
        [
          'case',
          'backend',
          'device',
          'baseline',
          'candidate',
          'baseline_tokens_per_sec',
          'candidate_tokens_per_sec',
          'ratio',
          'ratio_ci_low',
          'ratio_ci_high',
          'p',
          'test',
          'baseline_processes',
          'candidate_processes',
          'verdict',
        ].join(','),
        ...c.pairs.map((p) =>
          [
            p.row.id,
            p.row.backend ?? '',
            p.row.device ?? '',
            p.baseline,
            p.candidate,
            p.baselineTokensPerSec,
            p.candidateTokensPerSec,
            p.ratio,
            p.ratioCi95[0],
            p.ratioCi95[1],
            p.p,
            p.test,
            p.processes.baseline,
            p.processes.candidate,
            p.verdict,
          ]
            .map((x) => csvCell(String(x)))
            .join(','),
        ),
      ].join('\n');
    case 'markdown':
      return [
        ...header(c).map((l) => (l ? `${l.startsWith('  ') ? '- ' + l.trim() : l}` : '')),
        '',
        `| ${HEAD.join(' | ')} |`,
        `|${HEAD.map((_, i) => (i >= 2 && i <= 6 ? '---:' : '---')).join('|')}|`,
        ...rows(c).map((r) => `| ${r.map((x) => x.replace(/\|/g, '\\|')).join(' | ')} |`),
        ...footer(c),
      ].join('\n');
    default:
      return [...header(c), '', formatTable([HEAD, ...rows(c)], [false, false, true, true, true, true, true, false, false]), ...footer(c)].join('\n');
  }
}
