import { dirname } from 'node:path';
import { UsageError } from '../errors.js';
import { geometricMean } from 'simple-statistics';
import { geometricMeanCi95 } from '../measure/stats.js';
import { isMeasured, processMediansMs, processSamplesMs } from '../results/repetitions.js';
import type { CaseResult } from '../results/schema.js';
import type { Run } from '../results/runs.js';
import { THROTTLE_FRACTION, throttled, workingClock } from '../results/throttling.js';
import { environmentFields } from '../results/environment.js';
import { onceEach } from '../results/merge.js';
import { deviceOnHostCpu } from '../env/cards.js';
import { splitCaseIdDtype } from '../workloads/spec.js';
import { checksOfRun, judgeHostOverChecks } from '../env/hostLoad.js';
import { bootstrapRatioCis, mannWhitney, processesToDecide, sideLogMean, sideObservations, welchRatio } from './stats.js';

export type Verdict = 'FASTER' | 'SLOWER' | 'SAME' | 'UNCERTAIN';

export interface CompareOptions {
  /** What tells the sides apart: card (default), backend, file, folder, or an environment field such as node or packages.onnxruntime-node. */
  by: string;
  /** Side label (or a source file of it) to compare against; default: the side of the first run. */
  baseline?: string;
  /** The margin: FASTER/SLOWER need the verdict's interval wholly beyond ±this, SAME wholly within. */
  minDifference: number;
  /** Significance level of every verdict: each is a one-sided test (two for SAME) on the (1 − 2α) interval. */
  alpha: number;
}

export const COMPARE_DEFAULTS = { by: 'card', minDifference: 0.05, alpha: 0.05 } as const;

export interface RowKey {
  id: string;
  backend?: string;
  device?: string;
}

export interface Pair {
  row: RowKey;
  baseline: string;
  candidate: string;
  baselineTokensPerSec: number;
  candidateTokensPerSec: number;
  /** candidate tokens/s ÷ baseline tokens/s (= baseline median time ÷ candidate median time). */
  ratio: number;
  /** 95% interval of the ratio: Welch's t over processes, or a bootstrap of both sides' samples. */
  ratioCi95: [number, number];
  /**
   * The ratio's (1 − 2α) interval, from the same test, behind every verdict (see verdictOf): SAME
   * within ±minDifference is equivalence as two one-sided tests at α (Schuirmann's TOST); FASTER
   * wholly above 1 + minDifference is a one-sided test at α that the gain exceeds the margin.
   */
  verdictCi: [number, number];
  /** Two-sided p-value of `test`. */
  p: number;
  /**
   * welch-processes: one run a side, each of two or more processes (repetitions), compared process
   * by process; welch-runs: a side of several runs (files), each run one observation, so the drift
   * between runs is in the interval (a one-run side against it still counts its processes);
   * mann-whitney-calls: one process on a side, so only its calls can be compared, and drift between
   * processes is not accounted for.
   */
  test: 'welch-processes' | 'welch-runs' | 'mann-whitney-calls';
  samples: { baseline: number; candidate: number };
  processes: { baseline: number; candidate: number };
  /** How many runs (files) each side's figure comes from. */
  runs: { baseline: number; candidate: number };
  verdict: Verdict;
  /**
   * An UNCERTAIN row compared process by process: how many processes a side would decide it, were
   * its ratio and its spread between processes to stay as measured (see processesToDecide); null
   * when more than MAX_PROCESSES_TO_DECIDE. Absent on every other row.
   */
  processesToDecide?: number | null;
  /** The same for an UNCERTAIN row whose sides are both several runs: how many runs a side, each one observation. */
  runsToDecide?: number | null;
  /**
   * What makes the row weaker than its test assumes: a noisy side, or sides measured in different
   * numbers of processes. Compared call by call, such a row is never more than UNCERTAIN: its calls
   * cannot see the drift between processes that one side's status or process count says is there.
   */
  warnings?: string[];
}

/** One candidate against the baseline over every case they share, in hyperfine's manner. */
export interface SideSummary {
  candidate: string;
  baseline: string;
  cases: number;
  /** Geometric mean over the cases of candidate tokens/s ÷ baseline tokens/s. */
  ratio: number;
  /** 95% interval of that mean: Student's t over the cases' log ratios, or the one case's own interval. */
  ratioCi95: [number, number];
  verdicts: Record<Verdict, number>;
}

export interface EnvDifference {
  field: string;
  values: Record<string, string>;
}

export interface Comparison {
  by: string;
  baseline: string;
  sides: { label: string; sources: string[] }[];
  pairs: Pair[];
  /** Rows measured on some sides only. */
  unmatched: { row: RowKey; presentIn: string[]; missingIn: string[] }[];
  /**
   * Files given with no case measured (every one invalid, failed or skipped): on no side, so said
   * apart, with their cases' statuses ("8 invalid"), rather than left out without a word.
   */
  unmeasured: { source: string; statuses: string }[];
  envDifferences: EnvDifference[];
  /**
   * Measurements met more than once in a side (a run's file and a collection holding it, or a
   * copy) and counted once, as merge keeps them: each run is one observation of its side, and a
   * run counted twice would pass for two runs that agree exactly.
   */
  repeated: number;
  /**
   * The host checks of the runs compared (judgeHostOverChecks): a check that called its host busy, and,
   * when every run was on one machine, a level that moved between runs past the margin. Either can
   * widen an interval or move a ratio by what the host did, not the code.
   */
  host: { quiet: boolean; reasons: string[] };
  minDifference: number;
  alpha: number;
}

interface Instance {
  run: Run;
  c: CaseResult;
  side: string;
  rowKey: string;
  row: RowKey;
}

function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    const rec = cur as Record<string, unknown>;
    // package names contain dots and slashes: try the longest remaining key first
    cur = part in rec ? rec[part] : undefined;
  }
  return cur;
}

function envValue(run: Run, field: string): string {
  const env = run.environment as unknown as Record<string, unknown>;
  if (field.startsWith('packages.')) return String(run.environment.packages[field.slice('packages.'.length)] ?? '-');
  if (field.startsWith('envVars.')) return String(run.environment.envVars[field.slice('envVars.'.length)] ?? '-');
  const v = getPath(env, field);
  return v === undefined ? '-' : typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function sideOf(run: Run, c: CaseResult, by: string): string {
  if (by === 'card') return c.device;
  // each file its own side: runs of one card before and after a change, or repeated runs
  if (by === 'file') return run.source;
  // each folder a side: several runs of one card before and after a change, each run one observation
  if (by === 'folder') return dirname(run.source);
  if (by === 'backend') return c.backend;
  return `${by}=${envValue(run, by)}`;
}

function rowOf(c: CaseResult, by: string): RowKey {
  return { id: c.id, ...(by !== 'backend' ? { backend: c.backend } : {}), ...(by !== 'card' ? { device: c.device } : {}) };
}

const rowKeyText = (r: RowKey) => [r.id, r.backend ?? '', r.device ?? ''].join('\u0000');

/**
 * The verdict from the ratio's (1 − 2α) interval against the margin, as criterion.rs decides: FASTER
 * when it lies wholly above 1 + minDifference (a one-sided test at α that the gain exceeds the
 * margin), SLOWER wholly below 1 − minDifference, SAME wholly within (two one-sided tests at α).
 * Testing against the margin rather than against 1 is what keeps runs minutes apart on a drifting
 * host from being called different: drift smaller than the margin cannot make a verdict.
 */
export function verdictOf(verdictCi: [number, number], o: Pick<CompareOptions, 'minDifference'>): Verdict {
  if (verdictCi[0] > 1 + o.minDifference) return 'FASTER';
  if (verdictCi[1] < 1 - o.minDifference) return 'SLOWER';
  if (verdictCi[0] >= 1 - o.minDifference && verdictCi[1] <= 1 + o.minDifference) return 'SAME';
  return 'UNCERTAIN';
}

/** Flattened environment fields that explain why two sides differ, and whether their cards throttled. */
function envFields(run: Run, cases: CaseResult[]): Record<string, string> {
  const out = environmentFields(run.environment);
  const slow = cases.filter(throttled);
  if (cases.some((c) => workingClock(c) !== undefined))
    out.throttling = slow.length ? `median SM clock under ${THROTTLE_FRACTION * 100}% of max in ${slow.length} case(s)` : 'none seen';
  return out;
}

/** "8 invalid", "2 failed, 1 skipped": a file's cases by status, most first. */
function statusCounts(cases: CaseResult[]): string {
  const counts = new Map<string, number>();
  for (const c of cases) counts.set(c.status, (counts.get(c.status) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([status, n]) => `${n} ${status}`)
    .join(', ');
}

/** Matches cases across sides and decides each pair from both runs' samples. Pure. */
export function compareRuns(runs: Run[], o: CompareOptions): Comparison {
  const measured = runs.map((run) => ({
    ...run,
    cases: run.cases.filter((c) => c.samplesMs && c.samplesMs.length > 0 && isMeasured(c)),
  }));
  const unmeasured = measured.flatMap((run, i) =>
    run.cases.length || !runs[i].cases.length ? [] : [{ source: run.source, statuses: statusCounts(runs[i].cases) }],
  );
  // once within a side: the same run on both sides (a file against its copy) is still compared
  const once = onceEach(measured, (run, c) => sideOf(run, c, o.by));
  const repeated = once.repeated;
  const instances: Instance[] = once.runs.flatMap((run) =>
    run.cases.map((c) => {
      const row = rowOf(c, o.by);
      return { run, c, side: sideOf(run, c, o.by), row, rowKey: rowKeyText(row) };
    }),
  );
  if (!['card', 'file', 'folder', 'backend'].includes(o.by) && runs.every((run) => envValue(run, o.by) === '-')) {
    throw new UsageError(
      `--by ${o.by}: no file given has that environment field; use card, file, folder, backend or a field of the files' environment such as host, node, cpu.model, os.release, packages.<name> or envVars.<NAME>`,
    );
  }
  const sideLabels = [...new Set(instances.map((i) => i.side))];
  const compared = [...new Set(instances.map((i) => i.run))];
  // a file from before the host check has nothing to say about its host, which is not a reason to speak
  const host = judgeHostOverChecks(
    compared.flatMap((r) => checksOfRun(r.environment, r.source)).filter((c) => c.check),
    {
      hostCases: instances.some((i) => deviceOnHostCpu(i.c.device)),
      // two machines' levels differ by their hardware; only one machine's can drift
      margin: new Set(compared.map((r) => r.environment.host)).size === 1 ? o.minDifference : undefined,
    },
  );
  // each side's cases by run, built once: a lab's collection has thousands of cases and hundreds of runs
  const bySide = new Map<string, Map<Run, CaseResult[]>>();
  for (const i of instances) {
    const runs = bySide.get(i.side) ?? bySide.set(i.side, new Map()).get(i.side)!;
    const cases = runs.get(i.run) ?? runs.set(i.run, []).get(i.run)!;
    cases.push(i.c);
  }
  const sources = (label: string) => [...new Set([...(bySide.get(label)?.keys() ?? [])].map((run) => run.source))];
  const baseline = o.baseline
    ? (sideLabels.find((l) => l === o.baseline || sources(l).includes(o.baseline!)) ?? sideLabels.find((l) => l.includes(o.baseline!)))
    : sideLabels[0];
  if (!baseline)
    throw new UsageError(o.baseline ? `no side matches --baseline "${o.baseline}"; sides: ${sideLabels.join(', ')}` : 'no measured cases to compare');

  // several runs of one side for one row: their processes' calls are gathered, each process kept
  // apart, and each run's process medians kept together (a run is one observation of the side)
  const pooled = new Map<
    string,
    { row: RowKey; processSamples: number[][]; runsProcessMediansMs: number[][]; tokensPerCall: number; noisy: boolean }
  >();
  const rowOrder = new Set<string>();
  for (const i of instances) {
    const key = `${i.side}\u0001${i.rowKey}`;
    rowOrder.add(i.rowKey);
    const entry = pooled.get(key) ?? {
      row: i.row,
      processSamples: [],
      runsProcessMediansMs: [],
      tokensPerCall: i.c.work.tokensPerCall,
      noisy: false,
    };
    entry.processSamples.push(...processSamplesMs(i.c));
    entry.runsProcessMediansMs.push(processMediansMs(i.c));
    entry.noisy ||= i.c.status === 'noisy';
    pooled.set(key, entry);
  }
  const pairs: Pair[] = [];
  const unmatched: Comparison['unmatched'] = [];
  for (const rk of rowOrder) {
    const present = sideLabels.filter((l) => pooled.has(`${l}\u0001${rk}`));
    const row = pooled.get(`${present[0]}\u0001${rk}`)!.row;
    if (present.length < sideLabels.length) unmatched.push({ row, presentIn: present, missingIn: sideLabels.filter((l) => !present.includes(l)) });
    const base = pooled.get(`${baseline}\u0001${rk}`);
    if (!base) continue;
    for (const cand of present.filter((l) => l !== baseline)) {
      const other = pooled.get(`${cand}\u0001${rk}`)!;
      const [baseMedians, candMedians] = [base.runsProcessMediansMs.flat(), other.runsProcessMediansMs.flat()];
      // Welch's t when each side has two observations (processes of one run, or runs), else the calls
      const byWelch = [base, other].every((e) => sideObservations(e.runsProcessMediansMs).logs.length >= 2);
      const [baseSide, candSide] = byWelch ? [sideLogMean(base.runsProcessMediansMs), sideLogMean(other.runsProcessMediansMs)] : [];
      const byRun = baseSide?.unit === 'runs' || candSide?.unit === 'runs';
      // as in a result file, so a side's tokens/s here is its run table's: the geometric mean of its
      // processes' medians; of several runs, the geometric mean of the runs' figures
      const [baseMs, candMs] =
        baseSide && candSide ? [Math.exp(baseSide.mean), Math.exp(candSide.mean)] : [geometricMean(baseMedians), geometricMean(candMedians)];
      const ratio = baseMs / candMs;
      // samples are times: a smaller candidate time is a faster candidate
      // the 95% interval shown, and the verdict's (1 − 2α) one, from one test
      const levels = [0.95, 1 - 2 * o.alpha];
      const [baseCalls, candCalls] = [base.processSamples.flat(), other.processSamples.flat()];
      const {
        cis: [ci, verdictCi],
        p,
      } =
        baseSide && candSide
          ? welchRatio(baseSide, candSide, levels)
          : { cis: bootstrapRatioCis(base.processSamples, other.processSamples, levels), p: mannWhitney(baseCalls, candCalls).p };
      const [nb, nc] = [baseMedians.length, candMedians.length];
      const [rb, rc] = [base.runsProcessMediansMs.length, other.runsProcessMediansMs.length];
      const oneRun = (side: string, s: typeof baseSide) =>
        byRun && s?.unit === 'processes' ? [`${side} is one run: the host's drift between runs is not in its part of the interval`] : [];
      const warnings = [
        ...(base.noisy ? ['baseline noisy'] : []),
        ...(other.noisy ? ['candidate noisy'] : []),
        ...(!byRun && nb !== nc ? [`${nb} v ${nc} processes`] : []),
        ...oneRun('baseline', baseSide),
        ...oneRun('candidate', candSide),
      ];
      let verdict = verdictOf(verdictCi, o);
      if (!byWelch && warnings.length && verdict !== 'UNCERTAIN') {
        warnings.push(`${verdict} withheld: calls alone cannot see the drift between processes`);
        verdict = 'UNCERTAIN';
      }
      pairs.push({
        row,
        baseline,
        candidate: cand,
        baselineTokensPerSec: base.tokensPerCall / (baseMs / 1000),
        candidateTokensPerSec: other.tokensPerCall / (candMs / 1000),
        ratio,
        ratioCi95: ci,
        verdictCi,
        p,
        test: byRun ? 'welch-runs' : byWelch ? 'welch-processes' : 'mann-whitney-calls',
        samples: { baseline: baseCalls.length, candidate: candCalls.length },
        processes: { baseline: nb, candidate: nc },
        runs: { baseline: rb, candidate: rc },
        verdict,
        ...(byWelch && !byRun && verdict === 'UNCERTAIN' ? { processesToDecide: processesToDecide(baseMedians, candMedians, o) } : {}),
        // processesToDecide over the runs' figures: each run one observation, as the test takes them
        ...(baseSide?.unit === 'runs' && candSide?.unit === 'runs' && verdict === 'UNCERTAIN'
          ? { runsToDecide: processesToDecide(baseSide.logs.map(Math.exp), candSide.logs.map(Math.exp), o) }
          : {}),
        ...(warnings.length ? { warnings } : {}),
      });
    }
  }

  const fieldsBySide = new Map<string, Record<string, Set<string>>>();
  for (const label of sideLabels) {
    const acc: Record<string, Set<string>> = {};
    for (const [run, cases] of bySide.get(label) ?? []) {
      for (const [k, v] of Object.entries(envFields(run, cases))) (acc[k] ??= new Set()).add(v);
    }
    fieldsBySide.set(label, acc);
  }
  const allFields = [...new Set([...fieldsBySide.values()].flatMap((f) => Object.keys(f)))];
  const envDifferences = allFields.flatMap((field) => {
    const values = Object.fromEntries(sideLabels.map((l) => [l, [...(fieldsBySide.get(l)![field] ?? new Set(['-']))].join(' | ')]));
    return new Set(Object.values(values)).size > 1 ? [{ field, values }] : [];
  });

  return {
    by: o.by,
    baseline,
    sides: sideLabels.map((label) => ({ label, sources: sources(label) })),
    pairs,
    unmatched,
    unmeasured,
    envDifferences,
    repeated,
    host,
    minDifference: o.minDifference,
    alpha: o.alpha,
  };
}

/** Each candidate against the baseline over the cases they share: one line's worth, as hyperfine ends. Pure. */
export function summarizeSides(c: Comparison): SideSummary[] {
  const candidates = [...new Set(c.pairs.map((p) => p.candidate))];
  return candidates.map((candidate) => {
    const pairs = c.pairs.filter((p) => p.candidate === candidate);
    // over several cases, the spread of their ratios; one case has only its own interval
    const { geometricMean: ratio, ci: ratioCi95 } =
      pairs.length > 1 ? geometricMeanCi95(pairs.map((p) => p.ratio)) : { geometricMean: pairs[0].ratio, ci: pairs[0].ratioCi95 };
    const verdicts: Record<Verdict, number> = { FASTER: 0, SLOWER: 0, SAME: 0, UNCERTAIN: 0 };
    for (const p of pairs) verdicts[p.verdict]++;
    return { candidate, baseline: c.baseline, cases: pairs.length, ratio, ratioCi95, verdicts };
  });
}

/**
 * compareRuns with the sides people mean: by card unless told. When every file is from one card,
 * file against file (runs before and after a change), or, when no case of one backend is in two
 * files (each engine's run of one sitting), backend against backend; `allFrom` then names that
 * card and `chosen` the sides taken.
 */
export function compareBySides(
  runs: Run[],
  o: CompareOptions,
  byGiven: boolean,
): { comparison: Comparison; allFrom?: string; chosen?: 'file' | 'backend' } {
  const comparison = compareRuns(runs, o);
  if (comparison.sides.length > 1 || o.by !== 'card' || byGiven || new Set(runs.map((r) => r.source)).size < 2) return { comparison };
  const allFrom = comparison.sides[0].label;
  const byFile = compareRuns(runs, { ...o, by: 'file' });
  if (byFile.pairs.length === 0) {
    const byBackend = compareRuns(runs, { ...o, by: 'backend' });
    if (byBackend.pairs.length) return { comparison: byBackend, allFrom, chosen: 'backend' };
  }
  return { comparison: byFile, allFrom, chosen: 'file' };
}

/**
 * Why a comparison of two sides or more has no pair, for the one line compare ends with: cases
 * match on their workload and every dimension not used for the sides, so sides that share no
 * engine (one card's torch-cuda file against another's ort-cpu) share no case. Pure.
 */
export function nothingComparedLine(c: Comparison): string {
  const head = `moebench: no case is on two sides (${c.unmatched.length} on some sides only): nothing compared`;
  if (c.by === 'backend') return `${head}; cases match on their workload and card`;
  const engines = c.sides.map((s) => ({
    label: s.label,
    backends: [...new Set(c.unmatched.filter((u) => u.presentIn.includes(s.label)).map((u) => u.row.backend ?? ''))].filter(Boolean),
  }));
  const shared = engines[0]?.backends.filter((b) => engines.every((e) => e.backends.includes(b))) ?? [];
  if (engines.every((e) => e.backends.length) && !shared.length) {
    const noEngine = `${head}: the sides share no engine (${engines.map((e) => `${e.label}: ${e.backends.join(', ')}`).join('; ')})`;
    // --by backend matches cases on their workload, so it helps only where the sides' workloads meet
    const idsOf = (label: string) => c.unmatched.filter((u) => u.presentIn.includes(label)).map((u) => u.row.id);
    const [first, ...rest] = c.sides.map((s) => idsOf(s.label));
    if (first.some((id) => rest.every((ids) => ids.includes(id))))
      return `${noEngine}, and cases match only within one; compare one engine's files, or --by backend for engines of one card`;
    const workloadsOf = (ids: string[]) => ids.map((id) => splitCaseIdDtype(id).workload);
    if (!workloadsOf(first).some((w) => rest.every((ids) => workloadsOf(ids).includes(w))))
      return `${noEngine} and no workload either; compare files that measured the same cases`;
    const dtypes = c.sides.map((s) => `${s.label}: ${[...new Set(idsOf(s.label).map((id) => splitCaseIdDtype(id).dtype))].join(', ')}`);
    return `${noEngine} and no math mode (${dtypes.join('; ')}): a case matches only in its own engine and dtype; measure one side again with the other's --dtype`;
  }
  return `${head}; cases match on their workload and every dimension not used for the sides (--by ${c.by})`;
}

/** What compare and report say when compareBySides chose the sides. */
export function chosenSidesLine(allFrom: string, chosen: 'file' | 'backend'): string {
  return chosen === 'file'
    ? `moebench: every file is from ${allFrom}: comparing file against file (--by file)`
    : `moebench: every file is from ${allFrom} and no case of one backend is in two of them: comparing backend against backend (--by backend)`;
}
