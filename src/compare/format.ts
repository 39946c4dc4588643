import { fmt, formatTableWithin, TERMINAL_COLUMNS, wrap } from '../text/table.js';
import { summarizeSides, type Comparison, type Pair, type RowKey, type SideSummary } from './compare.js';
import { MAX_PROCESSES_TO_DECIDE } from './stats.js';

export type CompareFormat = 'table' | 'markdown' | 'csv' | 'json';
export const COMPARE_FORMATS: readonly CompareFormat[] = ['table', 'markdown', 'csv', 'json'];

/** What every row shares is said once above the table; a row names only what varies. */
interface Layout {
  backend?: string;
  device?: string;
  oneCandidate: boolean;
}

function layoutOf(c: Comparison): Layout {
  const only = (xs: (string | undefined)[]) => (new Set(xs).size === 1 ? xs[0] : undefined);
  return {
    backend: only(c.pairs.map((p) => p.row.backend)),
    device: only(c.pairs.map((p) => p.row.device)),
    oneCandidate: new Set(c.pairs.map((p) => p.candidate)).size <= 1,
  };
}

const rowName = (r: RowKey, l?: Layout) =>
  [r.id, l?.backend === r.backend ? undefined : r.backend, l?.device === r.device ? undefined : r.device].filter(Boolean).join(' · ');

/**
 * Each side as the header lists it: baseline, candidate, or with several candidates "cand N" by
 * its place in the list, since labels (a card and its CPU) run to 50 characters.
 */
function shortSideNames(c: Comparison): Map<string, string> {
  const others = c.sides.filter((s) => s.label !== c.baseline);
  return new Map(
    c.sides.map((s) => [s.label, s.label === c.baseline ? 'baseline' : others.length === 1 ? 'candidate' : `cand ${others.indexOf(s) + 1}`]),
  );
}

function header(c: Comparison, l: Layout): string[] {
  // a side that is one file (--by file) is named once, not as itself and its source
  const named = (s: Comparison['sides'][number]) =>
    s.sources.length === 1 && s.sources[0] === s.label ? s.label : `${s.label}  (${s.sources.join(', ')})`;
  const base = c.sides.find((s) => s.label === c.baseline)!;
  const others = c.sides.filter((s) => s.label !== c.baseline);
  const lines = [`by ${c.by}; baseline: ${named(base)}`];
  if (others.length === 1) lines.push(`candidate: ${named(others[0])}`);
  else lines.push('candidates:', ...others.map((s, i) => `  ${i + 1}. ${named(s)}`));
  const common = [l.backend && `backend ${l.backend}`, l.device && `device ${l.device}`].filter(Boolean);
  if (common.length) lines.push(`every case: ${common.join(', ')}`);
  if (c.envDifferences.length) {
    // each side by its place above, not its label (a card and its CPU, 50 characters), and sides
    // with one value together: a field over four sides was 3 lines of labels around 4 values
    const shortName = shortSideNames(c);
    lines.push('', 'environment differences:');
    for (const d of c.envDifferences) {
      const byValue = new Map<string, string[]>();
      for (const s of c.sides) {
        const value = d.values[s.label] ?? '-';
        byValue.set(value, [...(byValue.get(value) ?? []), shortName.get(s.label)!]);
      }
      lines.push(`  ${d.field}: ${[...byValue].map(([v, sides]) => `${sides.join(', ')} = ${v}`).join('; ')}`);
    }
  }
  if (c.unmeasured.length) lines.push('', ...unmeasuredLines(c));
  if (!c.host.quiet) lines.push('', hostLine(c));
  return lines;
}

/** The files given that no side holds, since none of their cases was measured. */
export const unmeasuredLines = (c: Pick<Comparison, 'unmeasured'>) =>
  c.unmeasured.flatMap((u) => wrap(`not compared: ${u.source}: no case measured (${u.statuses})`));

/** What the host checks of the runs compared say, when it is not that the host stayed quiet. */
export const hostLine = (c: Comparison) => `host not quiet over these runs: ${c.host.reasons.join('; ')}: a difference may be the host's`;

function head(c: Comparison, l: Layout): string[] {
  // p and the 95% interval stay in csv and json: the interval shown is the one the verdict reads, so a
  // row can be checked by eye against the margin, and the table fits 120 columns
  return [
    'case',
    ...(l.oneCandidate ? [] : ['candidate']),
    'base tok/s',
    'cand tok/s',
    'ratio',
    `${verdictLevelText(c.alpha)} CI`,
    'test',
    'verdict',
  ];
}

function rows(c: Comparison, l: Layout): string[][] {
  const names = shortSideNames(c);
  return c.pairs.map((p) => [
    rowName(p.row, l),
    ...(l.oneCandidate ? [] : [names.get(p.candidate)!]),
    fmt(p.baselineTokensPerSec, 4),
    fmt(p.candidateTokensPerSec, 4),
    p.ratio.toFixed(3),
    `${p.verdictCi[0].toFixed(3)}–${p.verdictCi[1].toFixed(3)}`,
    testOf(p),
    // a row with warnings is marked; the warnings follow the table
    `${p.verdict}${p.warnings?.length ? '*' : ''}`,
  ]);
}

/** The level of the interval behind every verdict, 1 − 2α, as a percentage: "90%" at α = 0.05. */
export function verdictLevelText(alpha: number): string {
  return `${Number(((1 - 2 * alpha) * 100).toFixed(2))}%`;
}

/** The verdict rule in one sentence, as the table's footer and the HTML report say it. */
export function verdictRuleText(c: Pick<Comparison, 'alpha' | 'minDifference'>): string {
  const m = `${(c.minDifference * 100).toFixed(0)}%`;
  return `verdicts, from the ratio's ${verdictLevelText(c.alpha)} interval (one-sided tests at ${c.alpha}): FASTER when it lies wholly above 1 + ${m}, SLOWER wholly below 1 − ${m}, SAME wholly within ±${m}; anything else is UNCERTAIN.`;
}

/**
 * Which test decided the row, in a few characters: Welch over N v M processes ("Welch 3v3"), Welch
 * with runs as the observations on a side of several runs ("Welch 3r v 2r", "Welch 3p v 2r"), or
 * Mann-Whitney over calls.
 */
export function testOf(p: Pair): string {
  if (p.test === 'welch-processes') return `Welch ${p.processes.baseline}v${p.processes.candidate}`;
  if (p.test === 'welch-runs') {
    const count = (side: 'baseline' | 'candidate') => (p.runs[side] >= 2 ? `${p.runs[side]}r` : `${p.processes[side]}p`);
    return `Welch ${count('baseline')} v ${count('candidate')}`;
  }
  return 'MWU calls';
}

/**
 * "B ran 1.83 times faster than A over 6 cases (95% interval 1.76–1.90; …)": hyperfine's last line,
 * with the verdicts behind it. The interval as its bounds, not hyperfine's ±: it is symmetric in
 * the logs, and across cases 7× to 300× apart (a GPU against a CPU) a ± half-width read as
 * "39.52 ± 116.08 times faster", a speed-up that could be negative.
 */
export function summaryLine(s: SideSummary): string {
  const faster = s.ratio >= 1;
  const [x, lo, hi] = faster ? [s.ratio, s.ratioCi95[0], s.ratioCi95[1]] : [1 / s.ratio, 1 / s.ratioCi95[1], 1 / s.ratioCi95[0]];
  const counts = (['FASTER', 'SLOWER', 'SAME', 'UNCERTAIN'] as const).filter((v) => s.verdicts[v]).map((v) => `${s.verdicts[v]} ${v}`);
  return `${s.candidate} ran ${x.toFixed(2)} times ${faster ? 'faster' : 'slower'} than ${s.baseline} over ${s.cases} case${s.cases === 1 ? '' : 's'} (95% interval ${fmt(lo, 3)}–${fmt(hi, 3)}; ${counts.join(', ')})`;
}

/**
 * What would decide the UNCERTAIN rows compared process by process (or, `runs`, run by run), were
 * their ratios and spreads to hold: "--repetitions 12 would decide half of them, --repetitions 40
 * all", or "4 runs a side would decide half of them, 9 all". Undefined when none.
 */
export function toDecideLine(c: Pick<Comparison, 'pairs'>, by: 'processes' | 'runs' = 'processes'): string | undefined {
  const needs = c.pairs.flatMap((p) => {
    const n = by === 'processes' ? p.processesToDecide : p.runsToDecide;
    return n === undefined ? [] : [n];
  });
  if (!needs.length) return undefined;
  const reachable = needs.filter((n): n is number => n !== null).sort((a, b) => a - b);
  const beyond = needs.length - reachable.length;
  const one = needs.length === 1;
  const [how, unit] = by === 'processes' ? ['process by process', 'processes'] : ['run by run', 'runs'];
  const intro = one
    ? `UNCERTAIN row compared ${how}: were its ratio and spread between ${unit} to hold, `
    : `UNCERTAIN rows compared ${how} (${needs.length}): were their ratios and spreads between ${unit} to hold, `;
  const tooNear = `too near a verdict's boundary to be decided within ${MAX_PROCESSES_TO_DECIDE} ${unit} a side`;
  const take = (n: number, first = true) => (by === 'processes' ? `--repetitions ${n}` : first ? `${n} runs a side` : `${n}`);
  if (!reachable.length) return `${intro}${one ? 'its ratio sits' : 'their ratios sit'} ${tooNear}.`;
  const all = reachable[reachable.length - 1];
  if (one) return `${intro}${take(all)} would decide it.`;
  const half = reachable[Math.ceil(needs.length / 2) - 1];
  const rest = beyond ? ` (${beyond === 1 ? "one row's ratio sits" : `${beyond} rows' ratios sit`} ${tooNear})` : '';
  if (half === undefined) return `${intro}${take(all)} would decide ${reachable.length} of them${rest}.`;
  const allText = beyond ? `all but ${beyond}` : 'all';
  return half < all
    ? `${intro}${take(half)} would decide half of them, ${take(all, false)} ${allText}${rest}.`
    : `${intro}${take(all)} would decide ${allText}${rest}.`;
}

/**
 * The starred rows' reasons, each reason said once: a row alone keeps its line; rows that share
 * their reasons (every engine of a sitting noisy against one baseline) are listed under them,
 * a case's candidates on its line (a nested list, so markdown keeps it a list), so ten such rows
 * of two candidates take seven lines, not twenty. A candidate is named as the table's candidate
 * column names it (`names`: shortSideNames).
 */
function footnotes(warned: Pair[], l: Layout, names: Map<string, string>): string[] {
  const byReasons = new Map<string, Pair[]>();
  for (const p of warned) {
    const reasons = p.warnings!.join('; ');
    byReasons.set(reasons, [...(byReasons.get(reasons) ?? []), p]);
  }
  return [...byReasons].flatMap(([reasons, pairs]) => {
    if (pairs.length === 1) {
      const [p] = pairs;
      return wrap(`* ${rowName(p.row, l)}${l.oneCandidate ? '' : ` (${names.get(p.candidate)})`}: ${reasons}`);
    }
    const candidatesByRow = new Map<string, string[]>();
    for (const p of pairs) {
      const name = rowName(p.row, l);
      candidatesByRow.set(name, [...(candidatesByRow.get(name) ?? []), names.get(p.candidate)!]);
    }
    const rows = [...candidatesByRow].map(([name, candidates]) => (l.oneCandidate ? name : `${name} (${candidates.join(', ')})`));
    return [...wrap(`* ${pairs.length} rows: ${reasons}:`), ...rows.map((row) => `  - ${row}`)];
  });
}

/** How many cases of one group of unmatched cases a terminal is shown; json, csv and markdown list every one. */
const UNMATCHED_SHOWN = 5;

/**
 * The cases on some sides only, grouped by where they are: one line for where, then the cases
 * (a folder of every engine against one card's file listed 60 cases, a line of up to 200
 * columns each, saying the same sides again and again).
 */
function unmatchedLines(c: Comparison, l: Layout, terminal: boolean): string[] {
  const groups = new Map<string, { where: string; names: string[] }>();
  for (const u of c.unmatched) {
    const where = `only in ${u.presentIn.join(', ')}; missing in ${u.missingIn.join(', ')}`;
    (groups.get(where) ?? groups.set(where, { where, names: [] }).get(where)!).names.push(rowName(u.row, l));
  }
  return [...groups.values()].flatMap(({ where, names }) => {
    const shown = terminal && names.length > UNMATCHED_SHOWN + 1 ? names.slice(0, UNMATCHED_SHOWN) : names;
    return [
      ...wrap(`- ${where} (${names.length}):`),
      ...shown.map((name) => `  - ${name}`),
      ...(shown.length < names.length ? [`  - … and ${names.length - shown.length} more (--format markdown or json lists every one)`] : []),
    ];
  });
}

function footer(c: Comparison, l: Layout, terminal: boolean, leftOut: string[] = []): string[] {
  const lines: string[] = [];
  const warned = c.pairs.filter((p) => p.warnings?.length);
  if (warned.length) lines.push('', ...footnotes(warned, l, shortSideNames(c)));
  if (leftOut.length)
    lines.push('', `left out to fit ${TERMINAL_COLUMNS} columns: ${leftOut.join(', ')} (--format markdown, csv or json has every column)`);
  if (c.unmatched.length) lines.push('', 'cases on some sides only:', ...unmatchedLines(c, l, terminal));
  lines.push(
    '',
    ...wrap(verdictRuleText(c)),
    ...wrap(
      `test: Welch NvM, Welch's t on the log medians of N and M processes a side (--repetitions); Welch 3r v 2r, the same with a side's runs as its observations when it has several (files), so the host's drift between runs is in the interval (3p: a side of one run, its 3 processes); MWU calls, Mann-Whitney U and a bootstrap over the calls, which cannot see drift between processes, so a row with a noisy side or unequal processes is at most UNCERTAIN.`,
    ),
  );
  for (const by of ['processes', 'runs'] as const) {
    const decide = toDecideLine(c, by);
    if (decide) lines.push(...wrap(decide));
  }
  if (c.pairs.length) lines.push('', ...summarizeSides(c).flatMap((s) => wrap(summaryLine(s))));
  return lines;
}

function csvCell(x: string): string {
  return /[",\n]/.test(x) ? `"${x.replace(/"/g, '""')}"` : x;
}

/** A comparison as text in one format. Pure. */
export function formatComparison(c: Comparison, format: CompareFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify({ ...c, summary: summarizeSides(c) }, null, 2);
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
          'verdict_ci_low',
          'verdict_ci_high',
          'p',
          'test',
          'baseline_processes',
          'candidate_processes',
          'baseline_runs',
          'candidate_runs',
          'verdict',
          'processes_to_decide',
          'runs_to_decide',
          'warnings',
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
            p.verdictCi[0],
            p.verdictCi[1],
            p.p,
            p.test,
            p.processes.baseline,
            p.processes.candidate,
            p.runs.baseline,
            p.runs.candidate,
            p.verdict,
            p.processesToDecide === undefined ? '' : (p.processesToDecide ?? `>${MAX_PROCESSES_TO_DECIDE}`),
            p.runsToDecide === undefined ? '' : (p.runsToDecide ?? `>${MAX_PROCESSES_TO_DECIDE}`),
            p.warnings?.join('; ') ?? '',
          ]
            .map((x) => csvCell(String(x)))
            .join(','),
        ),
      ].join('\n');
    case 'markdown': {
      const l = layoutOf(c);
      const h = head(c, l);
      return [
        // indented lines are list items: the numbered candidates an ordered list, the rest bullets
        ...header(c, l).map((x) => (x.startsWith('  ') ? (/^\d+\. /.test(x.trim()) ? x.trim() : `- ${x.trim()}`) : x)),
        '',
        `| ${h.join(' | ')} |`,
        `|${h.map((name) => (/tok\/s|ratio|CI/.test(name) ? '---:' : '---')).join('|')}|`,
        ...rows(c, l).map((r) => `| ${r.map((x) => x.replace(/\|/g, '\\|')).join(' | ')} |`),
        ...footer(c, l, false),
      ].join('\n');
    }
    default: {
      const l = layoutOf(c);
      const h = head(c, l);
      // long case names (a backend after each) and a candidate column: the test column goes first,
      // then the two sides' tokens/s (the ratio and its interval are what the verdict reads)
      const { text, leftOut } = formatTableWithin(
        [h, ...rows(c, l)],
        h.map((name) => /tok\/s|ratio|CI/.test(name)),
        [['test'], ['base tok/s', 'cand tok/s']],
      );
      return [
        // a terminal's 120 columns: an environment difference between two long paths runs to 300
        ...header(c, l).flatMap((x) => wrap(x, TERMINAL_COLUMNS, x.startsWith('  ') ? '      ' : '  ')),
        '',
        text,
        ...footer(c, l, true, leftOut),
      ].join('\n');
    }
  }
}
