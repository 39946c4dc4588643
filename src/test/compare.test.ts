import { measured } from './helpers/cases.js';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  chosenSidesLine,
  compareBySides,
  compareRuns,
  COMPARE_DEFAULTS,
  nothingComparedLine,
  summarizeSides,
  verdictOf,
  type Comparison,
  type Pair,
} from '../compare/compare.js';
import { formatComparison, summaryLine, testOf, toDecideLine } from '../compare/format.js';
import { mannWhitney, processesToDecide, processLevelRatio, sideLogMean, welchRatio } from '../compare/stats.js';
import { summarize } from '../measure/stats.js';
import { judgeHost, type HostCheck } from '../env/hostLoad.js';
import { combineRepetitions } from '../run/repetitions.js';
import { readResultFile } from '../results/io.js';
import type { CaseResult } from '../results/schema.js';
import { processSamplesMs } from '../results/repetitions.js';
import type { Run } from '../results/runs.js';
import { loadRuns } from '../results/runs.js';
import { makeRng } from '../workloads/rng.js';
import { moebench, fakeScript, tinyFakeRun } from './helpers/cli.js';

const FIX = join(import.meta.dirname, 'fixtures');

/** Standard normal draws (Box–Muller) from a seeded stream, for the simulations of the verdict rule. */
const seededNormal = (stream: string) => {
  const rng = makeRng(12, stream);
  return () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
};
const BASE = join(FIX, 'compare-base.json');
const CAND = join(FIX, 'compare-cand.json');

describe("compare: verdicts from both runs' samples (fixtures written by the harness)", () => {
  const c = compareRuns(loadRuns([BASE, CAND]).runs, { ...COMPARE_DEFAULTS });
  const verdict = (tokens: number) => c.pairs.find((p) => p.row.id === `tiny/dense/decode/t${tokens}/fp32`)!;

  it('the first file is the baseline', () => {
    expect(c.baseline).toBe('fake (H100 stand-in)');
    expect(c.sides.map((s) => s.label)).toEqual(['fake (H100 stand-in)', 'fake (H200 stand-in)']);
  });
  it('a clearly faster case is FASTER', () => {
    expect(verdict(1)).toMatchObject({ verdict: 'FASTER', ratio: 2, ratioCi95: [2, 2] });
    expect(verdict(1).p).toBeLessThan(1e-4);
  });
  it('a clearly slower case is SLOWER', () => {
    expect(verdict(2)).toMatchObject({ verdict: 'SLOWER', ratio: 0.5 });
  });
  it('an identical case is SAME', () => {
    expect(verdict(4)).toMatchObject({ verdict: 'SAME', ratio: 1, p: 1 });
  });
  it('overlapping noise is UNCERTAIN, though the medians differ by 9%', () => {
    const v = verdict(8);
    expect(v.verdict).toBe('UNCERTAIN');
    expect(v.ratio).toBeCloseTo(2 / 2.2, 9);
    expect(v.p).toBeGreaterThan(0.05);
  });
  it('cases on one side only are listed', () => {
    expect(c.unmatched.map((u) => [u.row.id, u.presentIn])).toEqual([
      ['tiny/dense/decode/t16/fp32', ['fake (H100 stand-in)']],
      ['tiny/dense/decode/t32/fp32', ['fake (H200 stand-in)']],
    ]);
  });
  it('environment differences are listed', () => {
    expect(c.envDifferences).toContainEqual({
      field: 'envVars.OMP_NUM_THREADS',
      values: { 'fake (H100 stand-in)': '-', 'fake (H200 stand-in)': '1' },
    });
  });
  it('--baseline picks the other side', () => {
    const r = compareRuns(loadRuns([BASE, CAND]).runs, { ...COMPARE_DEFAULTS, baseline: CAND });
    expect(r.baseline).toBe('fake (H200 stand-in)');
    expect(r.pairs.find((p) => p.row.id === 'tiny/dense/decode/t1/fp32')!.verdict).toBe('SLOWER');
  });
  it('--by backend compares engines on the same card', () => {
    const [run] = loadRuns([BASE]).runs;
    const other = {
      ...run,
      source: 'other',
      cases: run.cases.map(measured).map((x) => ({
        ...x,
        backend: 'tfjs-wasm',
        samplesMs: x.samplesMs.map((s) => s * 4),
        summary: { ...x.summary, medianMs: x.summary.medianMs * 4 },
      })),
    };
    const r = compareRuns([run, other], { ...COMPARE_DEFAULTS, by: 'backend' });
    expect(r.sides.map((s) => s.label)).toEqual(['fake', 'tfjs-wasm']);
    expect(r.pairs.every((p) => Math.abs(p.ratio - 0.25) < 1e-12)).toBe(true);
    // t8 is noisy on both sides and compared call by call: withheld
    expect(r.pairs.map((p) => p.verdict)).toEqual(['SLOWER', 'SLOWER', 'SLOWER', 'UNCERTAIN', 'SLOWER']);
    expect(r.pairs[0].row).toEqual({ id: 'tiny/dense/decode/t1/fp32', device: 'fake (H100 stand-in)' });
  });
  it("a file with no case measured is on no side, and named with its cases' statuses, most first", () => {
    const [run] = loadRuns([BASE]).runs;
    const statuses = ['failed', 'invalid', 'failed', 'skipped', 'failed'] as const;
    expect(run.cases).toHaveLength(statuses.length);
    const broken = { ...run, source: 'broken.json', cases: run.cases.map((c, i) => ({ ...c, status: statuses[i] }) as CaseResult) };
    const c = compareRuns([run, loadRuns([CAND]).runs[0], broken], COMPARE_DEFAULTS);
    expect(c.unmeasured).toEqual([{ source: 'broken.json', statuses: '3 failed, 1 invalid, 1 skipped' }]);
    expect(c.sides.flatMap((s) => s.sources)).not.toContain('broken.json');
    expect(compareRuns([run, loadRuns([CAND]).runs[0]], COMPARE_DEFAULTS).unmeasured).toEqual([]);
  });
  it('files of one card, each of another engine, are compared backend against backend without being asked', () => {
    const [run] = loadRuns([BASE]).runs;
    const engine = (source: string, backend: string) => ({ ...run, source, cases: run.cases.map(measured).map((x) => ({ ...x, backend })) });
    const sittingFiles = [engine('torch.json', 'torch-cuda'), engine('ort.json', 'ort-webgpu'), engine('tfjs.json', 'tfjs-webgpu')];
    const sitting = compareBySides(sittingFiles, COMPARE_DEFAULTS, false);
    expect(sitting.chosen).toBe('backend');
    expect(sitting.comparison.sides.map((s) => s.label)).toEqual(['torch-cuda', 'ort-webgpu', 'tfjs-webgpu']);
    expect(sitting.comparison.pairs).toHaveLength(2 * run.cases.length);
    expect(chosenSidesLine(sitting.allFrom!, sitting.chosen!)).toBe(
      'moebench: every file is from fake (H100 stand-in) and no case of one backend is in two of them: comparing backend against backend (--by backend)',
    );
    // t8 is noisy in every file: its two rows share their reasons, said once above them, each
    // candidate named as the header numbers it
    const text = formatComparison(sitting.comparison, 'table');
    expect(text).toContain('\ncandidates:\n  1. ort-webgpu  (ort.json)\n  2. tfjs-webgpu  (tfjs.json)\n');
    expect(text).toContain('\n* 2 rows: baseline noisy; candidate noisy:\n  - tiny/dense/decode/t8/fp32 (cand 1, cand 2)\n\n');
    expect(text).not.toMatch(/^\* tiny/m);
    // a case of one engine in two files (before and after a change) keeps file against file
    const again = compareBySides([...sittingFiles, engine('torch-after.json', 'torch-cuda')], COMPARE_DEFAULTS, false);
    expect(again.chosen).toBe('file');
    expect(again.comparison.sides.map((s) => s.label)).toEqual(['torch.json', 'ort.json', 'tfjs.json', 'torch-after.json']);
    // an explicit --by card is obeyed: one side, nothing chosen
    const told = compareBySides(sittingFiles, COMPARE_DEFAULTS, true);
    expect([told.chosen, told.comparison.sides.length]).toEqual([undefined, 1]);
  });
});

describe('statistics of a comparison', () => {
  it('Mann-Whitney U with the normal approximation and continuity correction', () => {
    // U = 0; z = (0 − 4.5 + 0.5) / √(9·7/12)
    const r = mannWhitney([1, 2, 3], [4, 5, 6]);
    expect(r.u).toBe(0);
    expect(r.z).toBeCloseTo(-4 / Math.sqrt(5.25), 12);
    expect(r.p).toBeCloseTo(0.0809, 3);
  });
  it('identical samples give p = 1', () => {
    expect(mannWhitney([2, 2, 2], [2, 2, 2]).p).toBe(1);
  });
  it('a real but small difference is SAME, not FASTER', () => {
    expect(verdictOf([1.01, 1.03], COMPARE_DEFAULTS)).toBe('SAME');
    expect(verdictOf([1.15, 1.25], COMPARE_DEFAULTS)).toBe('FASTER');
    expect(verdictOf([0.75, 0.85], COMPARE_DEFAULTS)).toBe('SLOWER');
    expect(verdictOf([0.9, 1.5], COMPARE_DEFAULTS)).toBe('UNCERTAIN');
  });
  it('a difference the interval cannot place beyond the margin is UNCERTAIN, however significant against 1', () => {
    // as two runs minutes apart on the development VM, 20 processes a side: ×1.08 with a 90% interval 1.03–1.13 excludes 1
    // (p < 0.05 against no change) but not a drift of 5%, which the host shows between runs
    expect(verdictOf([1.03, 1.13], COMPARE_DEFAULTS)).toBe('UNCERTAIN');
    expect(verdictOf([0.88, 0.97], COMPARE_DEFAULTS)).toBe('UNCERTAIN');
    expect(verdictOf([1.03, 1.13], { minDifference: 0.02 })).toBe('FASTER');
  });
});

describe('compare process by process', () => {
  it("Welch's t on log medians: d = 0.1, se = √(0.02/3), 4 degrees of freedom", () => {
    // log medians 0.1, 0.2, 0.3 against 0, 0.1, 0.2: t = √1.5; p from the closed form of t with 4 df
    const r = processLevelRatio([0.1, 0.2, 0.3].map(Math.exp), [0, 0.1, 0.2].map(Math.exp));
    expect(r.df).toBeCloseTo(4, 9);
    expect(r.p).toBeCloseTo(0.287864, 5);
    expect(r.cis[0][0]).toBeCloseTo(Math.exp(0.1 - 2.776445 * Math.sqrt(0.02 / 3)), 5);
    expect(r.cis[0][1]).toBeCloseTo(Math.exp(0.1 + 2.776445 * Math.sqrt(0.02 / 3)), 5);
  });

  it('the interval at another level: 90% uses t(0.95, 4) = 2.131847', () => {
    const r = processLevelRatio([0.1, 0.2, 0.3].map(Math.exp), [0, 0.1, 0.2].map(Math.exp), [0.9]);
    expect(r.cis[0][0]).toBeCloseTo(Math.exp(0.1 - 2.131847 * Math.sqrt(0.02 / 3)), 5);
    expect(r.cis[0][1]).toBeCloseTo(Math.exp(0.1 + 2.131847 * Math.sqrt(0.02 / 3)), 5);
    expect(r.p).toBeCloseTo(0.287864, 5);
  });

  it('processes that agree exactly give a point interval', () => {
    expect(processLevelRatio([2, 2], [1, 1, 1])).toEqual({ cis: [[2, 2]], p: 0, df: 3 });
    expect(processLevelRatio([2, 2], [2, 2])).toEqual({ cis: [[1, 1]], p: 1, df: 2 });
  });

  // the fixture's t1 case: 2 ms every call; each side measured in three processes that drift
  const [t1] = readResultFile(BASE)
    .cases.filter((c) => c.id === 'tiny/dense/decode/t1/fp32')
    .map(measured);
  const processes = (scales: number[]): CaseResult =>
    combineRepetitions(
      scales.map((k) => {
        const samplesMs = t1.samplesMs!.map((x) => x * k);
        return { ...t1, samplesMs, summary: summarize(samplesMs, t1.workload.seed) };
      }),
      0.02,
      1,
    );
  const side = (source: string, card: string, c: CaseResult): Run => {
    const file = readResultFile(BASE);
    return {
      ...file,
      source,
      cases: [{ ...c, device: card }],
      environment: { ...file.environment, gpus: [] },
      run: { ...file.run, device: card },
    } as unknown as Run;
  };

  it('a difference as large as the drift between processes is UNCERTAIN, though every call says FASTER', () => {
    const runs = [side('a.json', 'gpu:0 A', processes([1, 1.1, 0.9])), side('b.json', 'gpu:0 B', processes([0.95, 0.85, 0.75]))];
    const [pair] = compareRuns(runs, { ...COMPARE_DEFAULTS, by: 'card' }).pairs;
    expect(pair.test).toBe('welch-processes');
    expect(pair.processes).toEqual({ baseline: 3, candidate: 3 });
    // geometric means: (1 · 1.1 · 0.9)^(1/3) ÷ (0.95 · 0.85 · 0.75)^(1/3) = (0.99 / 0.605625)^(1/3)
    expect(pair.ratio).toBeCloseTo(1.177996, 6);
    expect(pair.verdict).toBe('UNCERTAIN');
    // the same calls compared one by one look decisive
    expect(mannWhitney(runs[0].cases[0].samplesMs!, runs[1].cases[0].samplesMs!).p).toBeLessThan(1e-4);
  });

  it('one process against three: the interval is about the ratio shown, however far the three are apart', () => {
    // the H200's default suite: torch-cuda cut to one process per case against ORT WebGPU's three.
    // The candidate's processes at 2, 2 and 4 ms: its figure is their geometric mean 2 · 2^(1/3), so
    // the ratio is 2^(−1/3) = 0.793701; its pooled calls' median (2 ms) would put the interval at 1
    const runs = [side('a.json', 'gpu:0 A', t1), side('b.json', 'gpu:0 B', processes([1, 1, 2]))];
    const [pair] = compareRuns(runs, { ...COMPARE_DEFAULTS, by: 'card' }).pairs;
    expect(pair.test).toBe('mann-whitney-calls');
    expect(pair.processes).toEqual({ baseline: 1, candidate: 3 });
    expect(pair.ratio).toBeCloseTo(0.793701, 6);
    for (const [low, high] of [pair.ratioCi95, pair.verdictCi]) {
      // (within rounding: the bootstrap and the file take the geometric mean by different sums)
      expect(low).toBeLessThanOrEqual(pair.ratio * (1 + 1e-12));
      expect(high).toBeGreaterThanOrEqual(pair.ratio * (1 - 1e-12));
      expect(high).toBeLessThan(0.9);
    }
    expect(pair.warnings).toContain('1 v 3 processes');
  });

  it('a case’s calls are split back into its processes by their counts', () => {
    const three = processes([1, 1, 2]);
    const groups = processSamplesMs(three);
    expect(groups.map((g) => g.length)).toEqual([t1.samplesMs!.length, t1.samplesMs!.length, t1.samplesMs!.length]);
    expect(groups[2][0]).toBe(t1.samplesMs![0] * 2);
    // one process, or counts that do not add up (a file from before counts were kept): one group
    expect(processSamplesMs(t1)).toEqual([t1.samplesMs]);
    const miscounted = { ...three, repetitions: three.repetitions!.map((r) => ({ ...r, count: 1 })) };
    expect(processSamplesMs(miscounted)).toEqual([three.samplesMs]);
  });

  it('SAME is equivalence at α (two one-sided tests): the 90% interval within ±5%, where the 95% one is not', () => {
    // log medians 0, 0.025, 0.05 on both sides: d = 0, se = √(2 · 0.000625 / 3) = 0.0204124, 4 degrees of freedom
    const runs = [
      side('a.json', 'gpu:0 A', processes([0, 0.025, 0.05].map(Math.exp))),
      side('b.json', 'gpu:0 B', processes([0, 0.025, 0.05].map(Math.exp))),
    ];
    const [pair] = compareRuns(runs, { ...COMPARE_DEFAULTS, by: 'card' }).pairs;
    expect(pair.ratio).toBeCloseTo(1, 12);
    // t(0.95, 4) = 2.131847: exp(±0.0435161)
    expect(pair.verdictCi[0]).toBeCloseTo(0.957417, 5);
    expect(pair.verdictCi[1]).toBeCloseTo(1.044477, 5);
    // t(0.975, 4) = 2.776445: exp(±0.0566739), past 1.05
    expect(pair.ratioCi95[0]).toBeCloseTo(0.944902, 5);
    expect(pair.ratioCi95[1]).toBeCloseTo(1.058311, 5);
    expect(pair.verdict).toBe('SAME');
    // at α = 0.025 SAME needs the 95% interval, which reaches past ±5%
    const strict = compareRuns(runs, { ...COMPARE_DEFAULTS, by: 'card', alpha: 0.025 }).pairs[0];
    expect(strict.verdictCi).toEqual(pair.ratioCi95);
    expect(strict.verdict).toBe('UNCERTAIN');
    // the table shows the interval its verdict read, so a row can be checked against the margin by eye
    const row = (t: string) => t.split('\n').find((l) => /Welch 3v3/.test(l));
    const table = formatComparison(compareRuns(runs, { ...COMPARE_DEFAULTS, by: 'card' }), 'table');
    expect(table).toMatch(/ 90% CI /);
    expect(row(table)).toMatch(/ 0\.957–1\.044 +Welch 3v3 +SAME\*?$/);
    const strictTable = formatComparison(compareRuns(runs, { ...COMPARE_DEFAULTS, by: 'card', alpha: 0.025 }), 'table');
    expect(strictTable).toMatch(/ 95% CI /);
    expect(row(strictTable)).toMatch(/ 0\.945–1\.058 +Welch 3v3 +UNCERTAIN\*?$/);
  });

  it('an UNCERTAIN row says how many processes a side would decide it, were its ratio and spread to hold', () => {
    // log medians −0.045, 0, 0.045 on both sides: d = 0, sd 0.045. 3 v 3: the 90% interval exp(±2.131847 · 0.045 · √(2/3))
    // = exp(±0.078330) reaches past ln 1.05 = 0.048790. n v n: t(0.95, 2n − 2) · 0.045 · √(2/n); n = 5: 1.859548 · 0.045 · 0.632456
    // = 0.052924, still past; n = 6: 1.812461 · 0.045 · 0.577350 = 0.047089, within: SAME at 6 processes a side
    const spread = [-0.045, 0, 0.045].map(Math.exp);
    const [pair] = compareRuns([side('a.json', 'gpu:0 A', processes(spread)), side('b.json', 'gpu:0 B', processes(spread))], {
      ...COMPARE_DEFAULTS,
      by: 'card',
    }).pairs;
    expect(pair.verdict).toBe('UNCERTAIN');
    expect(pair.processesToDecide).toBe(6);
  });

  it('a difference hidden by the spread: FASTER once the interval clears the margin', () => {
    // log medians ln 12.5 + (−0.2, 0, 0.2) against ln 10 + (−0.2, 0, 0.2): d = ln 1.25 = 0.223144, sd 0.2; FASTER needs
    // d − t(0.95, 2n − 2) · 0.2 · √(2/n) > ln 1.05 = 0.048790, so t · 0.2 · √(2/n) < 0.174354:
    // n = 8, 1.761310 · 0.2 · 0.5 = 0.176131, not under; n = 9, 1.745884 · 0.2 · 0.471405 = 0.164603
    const around = (x: number) => [-0.2, 0, 0.2].map((l) => x * Math.exp(l));
    expect(processesToDecide(around(12.5), around(10), COMPARE_DEFAULTS)).toBe(9);
    // sd 0.045 at ratio 1.049: SAME would need 1.7 · 0.045 · √(2/n) ≤ ln 1.05 − ln 1.049 = 0.000953, about 13,000 processes
    const tight = [-0.045, 0, 0.045].map((l) => Math.exp(l));
    expect(
      processesToDecide(
        tight.map((x) => x * 1.049),
        tight,
        COMPARE_DEFAULTS,
      ),
    ).toBeNull();
  });

  it('decided rows and rows compared call by call carry no processes to decide', () => {
    const decided = compareRuns([side('a.json', 'gpu:0 A', processes([1, 1.01, 0.99])), side('b.json', 'gpu:0 B', processes([1, 1.01, 0.99]))], {
      ...COMPARE_DEFAULTS,
      by: 'card',
    }).pairs[0];
    expect(decided.verdict).toBe('SAME');
    expect(decided).not.toHaveProperty('processesToDecide');
    const byCalls = compareRuns([side('a.json', 'gpu:0 A', processes([1, 1.1, 0.9])), side('b.json', 'gpu:0 B', { ...t1 })], {
      ...COMPARE_DEFAULTS,
      by: 'card',
    }).pairs[0];
    expect(byCalls.verdict).toBe('UNCERTAIN');
    expect(byCalls).not.toHaveProperty('processesToDecide');
  });

  // runs whose processes agree within each run (0, 1, 2% apart) while the runs sit 10% apart: the
  // host moved between them, as the development VM's runs minutes apart did
  // (each run started a second after the last: one measurement met twice counts once)
  let startS = 0;
  const drifting = (source: string, card: string, runLog: number) =>
    side(source, card, {
      ...processes([0, 0.01, 0.02].map((l) => Math.exp(runLog + l))),
      startedAt: new Date(Date.UTC(2026, 11, 5, 3, 0, startS++)).toISOString(),
    });

  it('several runs a side: each run is one observation, so the drift between runs is in the interval', () => {
    // run log means 0.01 and 0.11 against 0.16 and 0.26: d = 0.06 − 0.21 = −0.15; each side's runs' variance
    // 0.005, so se = √(0.005/2 + 0.005/2) = 0.0707107 with 2 degrees of freedom; t(0.95, 2) = 2.919986:
    // exp(−0.15 ± 0.206476) = 0.700141 … 1.058099
    const runs = [
      drifting('a1.json', 'gpu:0 A', 0),
      drifting('a2.json', 'gpu:0 A', 0.1),
      drifting('b1.json', 'gpu:0 B', 0.15),
      drifting('b2.json', 'gpu:0 B', 0.25),
    ];
    const [pair] = compareRuns(runs, { ...COMPARE_DEFAULTS, by: 'card' }).pairs;
    expect(pair.test).toBe('welch-runs');
    expect(pair.runs).toEqual({ baseline: 2, candidate: 2 });
    expect(pair.processes).toEqual({ baseline: 6, candidate: 6 });
    expect(testOf(pair)).toBe('Welch 2r v 2r');
    expect(pair.ratio).toBeCloseTo(Math.exp(-0.15), 9);
    expect(pair.verdictCi[0]).toBeCloseTo(0.700141, 5);
    expect(pair.verdictCi[1]).toBeCloseTo(1.058099, 5);
    expect(pair.verdict).toBe('UNCERTAIN');
    expect(pair).not.toHaveProperty('processesToDecide');
    // were it to hold, SLOWER needs −0.15 + t(0.95, 2n − 2) · √(2 · 0.005 / n) < ln 0.95 = −0.051293: n = 3,
    // 2.131847 · 0.057735 = 0.123085, not under 0.098707; n = 4, 1.943180 · 0.05 = 0.097159
    expect(pair.runsToDecide).toBe(4);
    // the same twelve processes pooled as one run a side: sd of each side's six logs √0.00308, se 0.0320416 with
    // 10 degrees of freedom, t(0.95, 10) = 1.812461: upper bound exp(−0.15 + 0.058074) = 0.912173, SLOWER, a
    // verdict on the host's move rather than the code
    const sixMs = (...runLogs: number[]) => runLogs.flatMap((r) => [0, 0.01, 0.02].map((l) => 2 * Math.exp(r + l)));
    const pooled = processLevelRatio(sixMs(0, 0.1), sixMs(0.15, 0.25), [0.9]);
    expect(pooled.cis[0][1]).toBeCloseTo(0.912173, 5);
    expect(verdictOf(pooled.cis[0], COMPARE_DEFAULTS)).toBe('SLOWER');
  });

  it('one run against several: the one run counts its processes, and the row says its drift is not in the interval', () => {
    const runs = [drifting('a.json', 'gpu:0 A', 0), drifting('b1.json', 'gpu:0 B', 0.15), drifting('b2.json', 'gpu:0 B', 0.25)];
    const [pair] = compareRuns(runs, { ...COMPARE_DEFAULTS, by: 'card' }).pairs;
    expect(pair.test).toBe('welch-runs');
    expect(testOf(pair)).toBe('Welch 3p v 2r');
    // 0.01 against the runs' mean 0.21
    expect(pair.ratio).toBeCloseTo(Math.exp(-0.2), 9);
    // (each run's processes, 0–2% apart, missed combineRepetitions' 2% target: noisy sides, said too)
    expect(pair.warnings).toEqual([
      'baseline noisy',
      'candidate noisy',
      "baseline is one run: the host's drift between runs is not in its part of the interval",
    ]);
  });

  it('a run met twice (its file and a collection holding it) is one observation, not two that agree exactly', () => {
    const a = drifting('a.json', 'gpu:0 A', 0);
    const runs = [a, { ...a, source: 'all.json' }, drifting('b1.json', 'gpu:0 B', 0.15), drifting('b2.json', 'gpu:0 B', 0.25)];
    const c = compareRuns(runs, { ...COMPARE_DEFAULTS, by: 'card' });
    expect(c.repeated).toBe(1);
    expect(c.pairs[0].runs).toEqual({ baseline: 1, candidate: 2 });
    expect(testOf(c.pairs[0])).toBe('Welch 3p v 2r');
  });

  it("a side's observations: its processes when it is one run, its runs' mean log medians when several", () => {
    // logs 0, 0.01, 0.02: mean 0.01, variance 0.0001, of the mean 0.0001/3
    const one = sideLogMean([[0, 0.01, 0.02].map(Math.exp)]);
    expect(one).toMatchObject({ unit: 'processes', df: 2 });
    expect(one.logs.map((x) => Number(x.toFixed(12)))).toEqual([0, 0.01, 0.02]);
    expect(one.mean).toBeCloseTo(0.01, 12);
    expect(one.varianceOfMean).toBeCloseTo(0.0001 / 3, 12);
    // runs of 1 and 3 processes: each run one observation, however many processes it had
    const two = sideLogMean([[Math.exp(0.3)], [0.1, 0.2, 0.3].map(Math.exp)]);
    expect(two).toMatchObject({ unit: 'runs', df: 1 });
    expect(two.logs.map((x) => Number(x.toFixed(12)))).toEqual([0.3, 0.2]);
    expect(two.mean).toBeCloseTo(0.25, 12);
    expect(two.varianceOfMean).toBeCloseTo(0.005 / 2, 12);
    expect(() => sideLogMean([[2]])).toThrow(/at least two processes, or two runs/);
  });

  it('a side with one process is compared call by call', () => {
    const runs = [side('a.json', 'gpu:0 A', processes([1, 1.1, 0.9])), side('b.json', 'gpu:0 B', { ...t1 })];
    const [pair] = compareRuns(runs, { ...COMPARE_DEFAULTS, by: 'card' }).pairs;
    expect(pair.test).toBe('mann-whitney-calls');
    expect(pair.processes).toEqual({ baseline: 3, candidate: 1 });
  });

  it('three processes against one, 2× faster call by call: UNCERTAIN with the reason, never FASTER from calls alone', () => {
    const half = {
      ...t1,
      samplesMs: t1.samplesMs!.map((x) => x / 2),
      summary: summarize(
        t1.samplesMs!.map((x) => x / 2),
        1,
      ),
    };
    const runs = [side('a.json', 'gpu:0 A', processes([1, 1.1, 0.9])), side('b.json', 'gpu:0 B', half)];
    const [pair] = compareRuns(runs, { ...COMPARE_DEFAULTS, by: 'card' }).pairs;
    expect(pair.test).toBe('mann-whitney-calls');
    expect(mannWhitney(runs[0].cases[0].samplesMs!, runs[1].cases[0].samplesMs!).p).toBeLessThan(1e-4);
    expect(pair.verdict).toBe('UNCERTAIN');
    // the baseline's processes are 20% apart, so it is noisy too
    expect(pair.warnings).toEqual(['baseline noisy', '3 v 1 processes', 'FASTER withheld: calls alone cannot see the drift between processes']);
    // a side's tokens/s is its run table's: 1 token over the geometric mean of 2, 2.2 and 1.8 ms
    expect(pair.baselineTokensPerSec).toBeCloseTo(1000 / (2 * Math.cbrt(0.99)), 9);
    expect(pair.candidateTokensPerSec).toBeCloseTo(1000, 9);
  });

  it('one process a side, one of them noisy: UNCERTAIN with the reason', () => {
    const half = {
      ...t1,
      status: 'noisy',
      samplesMs: t1.samplesMs!.map((x) => x / 2),
      summary: summarize(
        t1.samplesMs!.map((x) => x / 2),
        1,
      ),
    };
    const [pair] = compareRuns([side('a.json', 'gpu:0 A', { ...t1 }), side('b.json', 'gpu:0 B', half as CaseResult)], {
      ...COMPARE_DEFAULTS,
      by: 'card',
    }).pairs;
    expect(pair.verdict).toBe('UNCERTAIN');
    expect(pair.warnings).toEqual(['candidate noisy', 'FASTER withheld: calls alone cannot see the drift between processes']);
    // without the noisy status the same calls are FASTER
    expect(
      compareRuns([side('a.json', 'gpu:0 A', { ...t1 }), side('b.json', 'gpu:0 B', { ...half, status: 'ok' } as CaseResult)], {
        ...COMPARE_DEFAULTS,
        by: 'card',
      }).pairs[0].verdict,
    ).toBe('FASTER');
  });

  it("says when the runs' host checks found the host busy, or one machine's level moving between runs past the margin", () => {
    const check = (passMs: number, busyCpuPercent = 0) =>
      judgeHost({
        cpus: 2,
        loadAverage1m: 0.2,
        busyProcesses: busyCpuPercent ? [{ pid: 7, name: 'make', cpuPercent: busyCpuPercent }] : [],
        calibration: { loopMs: 5.43, spread: 0.05, between: 0.01 },
        memory: { passMs, spread: 0.04, between: 0.01 },
      });
    const onHost = (source: string, host: string, hostCheck?: HostCheck) => {
      const r = side(source, 'cpu (AMD EPYC, 2 cores)', t1);
      return { ...r, environment: { ...r.environment, host, hostCheck } } as Run;
    };
    const byFile = { ...COMPARE_DEFAULTS, by: 'file' };
    // one machine, each check quiet, its memory pass 7.52 then 5.29 ms: 7.52 / 5.29 − 1 = 42.2%
    const moved = compareRuns([onHost('a.json', 'vm', check(7.52)), onHost('b.json', 'vm', check(5.29))], byFile);
    expect(moved.host).toEqual({ quiet: false, reasons: ['its memory pass moved 42.2% from check to check, past the ±5% margin'] });
    // wrapped to 120 columns, its second line indented
    expect(formatComparison(moved, 'table')).toContain(
      "\nhost not quiet over these runs: its memory pass moved 42.2% from check to check, past the ±5% margin: a difference may\n  be the host's\n",
    );
    // two machines: their levels differ by their hardware, and only a busy check is said
    expect(compareRuns([onHost('a.json', 'vm', check(7.52)), onHost('b.json', 'box', check(5.29))], byFile).host.quiet).toBe(true);
    const busy = compareRuns([onHost('a.json', 'vm', check(7.52)), onHost('b.json', 'box', check(7.52, 90))], byFile);
    expect(busy.host.reasons).toEqual(['its check called it busy at b.json (other processes use 90% of a CPU (make pid 7 90%))']);
    // a run's check after its last case counts as one more: busy at a.json's end, its memory pass
    // 6.0 ms there against 5.7 at the starts (6.0 / 5.7 − 1 = 5.3%)
    const a = { ...onHost('a.json', 'vm', check(5.7)) };
    const ended = { ...a, environment: { ...a.environment, hostCheckAfter: check(6.0, 90) } } as Run;
    expect(compareRuns([ended, onHost('b.json', 'vm', check(5.7))], byFile).host.reasons).toEqual([
      'its check called it busy at the end of a.json (other processes use 90% of a CPU (make pid 7 90%))',
      'its memory pass moved 5.3% from check to check, past the ±5% margin',
    ]);
    // files from before the host check say nothing about their host, and nothing is said for them
    const old = compareRuns([onHost('a.json', 'vm'), onHost('b.json', 'vm')], byFile);
    expect(old.host).toEqual({ quiet: true, reasons: [] });
    expect(formatComparison(old, 'table')).not.toContain('host not quiet');
  });
});

describe("the verdict rule's operating envelope: seeded simulations of 3 v 3 processes", () => {
  // each process's median is lognormal about the case's true time with sd `sd` (the spread between
  // processes); the rates are what bench:repeat measures on a real host, here with the host's
  // noise known and no drift between runs
  const normal = seededNormal('envelope');
  const rates = (ratio: number, sd: number, trials = 2000) => {
    const t = { FASTER: 0, SLOWER: 0, SAME: 0, UNCERTAIN: 0 };
    const side = (ms: number) => Array.from({ length: 3 }, () => ms * Math.exp(sd * normal()));
    for (let i = 0; i < trials; i++) {
      const [ci] = processLevelRatio(side(10 * ratio), side(10), [1 - 2 * COMPARE_DEFAULTS.alpha]).cis;
      t[verdictOf(ci, COMPARE_DEFAULTS)]++;
    }
    return { faster: t.FASTER / trials, slower: t.SLOWER / trials, same: t.SAME / trials, different: (t.FASTER + t.SLOWER) / trials };
  };

  it('unchanged code is called FASTER or SLOWER at most α of the time, however far apart its processes are', () => {
    for (const sd of [0.01, 0.04, 0.1]) expect(rates(1, sd).different, `sd ${sd}`).toBeLessThanOrEqual(0.05);
  });

  it('on a quiet host (processes within 1.5%) unchanged code is SAME at least half the time: the rule is useful', () => {
    expect(rates(1, 0.015).same).toBeGreaterThanOrEqual(0.5);
  });

  it('a true difference of exactly the margin is called SAME at most α of the time (equivalence at α)', () => {
    for (const sd of [0.01, 0.02, 0.04]) {
      expect(rates(1.05, sd).same, `×1.05, sd ${sd}`).toBeLessThanOrEqual(0.05);
      expect(rates(0.95, sd).same, `×0.95, sd ${sd}`).toBeLessThanOrEqual(0.05);
    }
  });

  it('real gains well past the margin are found: ×1.2 with processes 4% apart, ×1.1 with 2%', () => {
    expect(rates(1.2, 0.04).faster).toBeGreaterThanOrEqual(0.8);
    expect(rates(1.1, 0.02).faster).toBeGreaterThanOrEqual(0.5);
    expect(rates(1 / 1.2, 0.04).slower).toBeGreaterThanOrEqual(0.8);
  });
});

describe('several runs a side on a drifting host: seeded simulations', () => {
  // each run has its own offset (lognormal, sd `drift`) shared by its processes (sd `sd` about it);
  // sides of unchanged code, compared with each run one observation and, for contrast, pooled
  const normal = seededNormal('drift');
  const rates = (o: { runs: number; processes: number; sd: number; drift: number; ratio?: number }, trials = 2000) => {
    const side = (ms: number) =>
      Array.from({ length: o.runs }, () => {
        const offset = Math.exp(o.drift * normal());
        return Array.from({ length: o.processes }, () => ms * offset * Math.exp(o.sd * normal()));
      });
    const count = { runs: { different: 0, same: 0 }, pooled: { different: 0, same: 0 } };
    const level = [1 - 2 * COMPARE_DEFAULTS.alpha];
    for (let i = 0; i < trials; i++) {
      const [a, b] = [side(10 * (o.ratio ?? 1)), side(10)];
      const verdicts = {
        runs: verdictOf(welchRatio(sideLogMean(a), sideLogMean(b), level).cis[0], COMPARE_DEFAULTS),
        pooled: verdictOf(processLevelRatio(a.flat(), b.flat(), level).cis[0], COMPARE_DEFAULTS),
      };
      for (const k of ['runs', 'pooled'] as const) {
        if (verdicts[k] === 'FASTER' || verdicts[k] === 'SLOWER') count[k].different++;
        if (verdicts[k] === 'SAME') count[k].same++;
      }
    }
    return {
      runs: { different: count.runs.different / trials, same: count.runs.same / trials },
      pooled: { different: count.pooled.different / trials, same: count.pooled.same / trials },
    };
  };

  it('runs drifting 6% apart, processes 2%: unchanged code is called different at most α of the time, where pooling the processes is not', () => {
    for (const runs of [2, 3, 5]) {
      const r = rates({ runs, processes: 3, sd: 0.02, drift: 0.06 });
      expect(r.runs.different, `${runs} runs a side`).toBeLessThanOrEqual(0.05);
    }
    // ten processes in each of two runs a side: the pooled interval narrows on the processes while the runs' offsets stay
    const many = rates({ runs: 2, processes: 10, sd: 0.02, drift: 0.06 });
    expect(many.runs.different).toBeLessThanOrEqual(0.05);
    expect(many.pooled.different).toBeGreaterThan(0.1);
  });

  it('runs that do not drift, processes 1.5% apart: three runs a side call unchanged code SAME more often than not', () => {
    expect(rates({ runs: 3, processes: 3, sd: 0.015, drift: 0 }).runs.same).toBeGreaterThanOrEqual(0.5);
  });

  it('a real gain is still found through the drift: ×1.2, runs 3% apart, five runs a side', () => {
    expect(rates({ runs: 5, processes: 3, sd: 0.02, drift: 0.03, ratio: 1.2 }).runs.different).toBeGreaterThanOrEqual(0.9);
  });
});

describe('the one-line summary, as hyperfine ends', () => {
  const comparison = (ratios: number[], verdicts: Pair['verdict'][]) =>
    ({
      baseline: 'A',
      pairs: ratios.map((ratio, i) => ({ candidate: 'B', baseline: 'A', ratio, ratioCi95: [ratio * 0.9, ratio * 1.1], verdict: verdicts[i] })),
    }) as unknown as Comparison;

  it('over three cases: the geometric mean of the ratios and Student’s t over their logs', () => {
    // ratios 2, 2.2, 1.8: geometric mean 7.92^(1/3) = 1.993311; sd of the logs 0.1003773; t(0.975, 2) = 4.302653:
    // exp(ln 1.993311 ± 4.302653 × 0.1003773 / √3) = 1.553400 … 2.557801: not 1.99 ± 0.50, which would put it at 1.49 … 2.49
    const [s] = summarizeSides(comparison([2, 2.2, 1.8], ['FASTER', 'FASTER', 'UNCERTAIN']));
    expect(s.ratio).toBeCloseTo(1.993311, 6);
    expect(s.ratioCi95[0]).toBeCloseTo(1.5534, 4);
    expect(s.ratioCi95[1]).toBeCloseTo(2.557801, 5);
    expect(summaryLine(s)).toBe('B ran 1.99 times faster than A over 3 cases (95% interval 1.55–2.56; 2 FASTER, 1 UNCERTAIN)');
  });

  it('slower is said as slower, one case keeps its own interval', () => {
    const [s] = summarizeSides(comparison([0.5], ['SLOWER']));
    // 1 / 0.5 = 2, its interval 1 / 0.55 … 1 / 0.45 = 1.8182 … 2.2222
    expect(summaryLine(s)).toBe('B ran 2.00 times slower than A over 1 case (95% interval 1.82–2.22; 1 SLOWER)');
  });
});

describe('what would decide the UNCERTAIN rows, in one line under the table', () => {
  const needing = (...needs: (number | null | undefined)[]) =>
    ({ pairs: needs.map((processesToDecide) => (processesToDecide === undefined ? {} : { processesToDecide })) }) as unknown as Comparison;
  const lead = 'UNCERTAIN rows compared process by process (4): were their ratios and spreads between processes to hold, ';

  it('half of them and all of them', () => {
    expect(toDecideLine(needing(40, 6, undefined, 11, 9))).toBe(`${lead}--repetitions 9 would decide half of them, --repetitions 40 all.`);
  });
  it('one row', () => {
    expect(toDecideLine(needing(6, undefined))).toBe(
      'UNCERTAIN row compared process by process: were its ratio and spread between processes to hold, --repetitions 6 would decide it.',
    );
    expect(toDecideLine(needing(null))).toBe(
      "UNCERTAIN row compared process by process: were its ratio and spread between processes to hold, its ratio sits too near a verdict's boundary to be decided within 200 processes a side.",
    );
  });
  it('rows that no number of processes decides are counted apart', () => {
    expect(toDecideLine(needing(6, 11, null, 11))).toBe(
      `${lead}--repetitions 11 would decide all but 1 (one row's ratio sits too near a verdict's boundary to be decided within 200 processes a side).`,
    );
    expect(toDecideLine(needing(6, null, null, 30))).toBe(
      `${lead}--repetitions 30 would decide all but 2 (2 rows' ratios sit too near a verdict's boundary to be decided within 200 processes a side).`,
    );
    expect(toDecideLine(needing(null, 6, null))).toBe(
      "UNCERTAIN rows compared process by process (3): were their ratios and spreads between processes to hold, --repetitions 6 would decide 1 of them (2 rows' ratios sit too near a verdict's boundary to be decided within 200 processes a side).",
    );
  });
  it('rows compared run by run are counted in runs a side', () => {
    const byRuns = (...needs: (number | null | undefined)[]) =>
      ({ pairs: needs.map((runsToDecide) => (runsToDecide === undefined ? {} : { runsToDecide })) }) as unknown as Comparison;
    expect(toDecideLine(byRuns(9, 4, undefined), 'runs')).toBe(
      'UNCERTAIN rows compared run by run (2): were their ratios and spreads between runs to hold, 4 runs a side would decide half of them, 9 all.',
    );
    expect(toDecideLine(byRuns(4), 'runs')).toBe(
      'UNCERTAIN row compared run by run: were its ratio and spread between runs to hold, 4 runs a side would decide it.',
    );
    // each line speaks of its own rows
    expect(toDecideLine(byRuns(9, 4), 'processes')).toBeUndefined();
  });

  it('nothing to say when no row is UNCERTAIN by processes', () => {
    expect(toDecideLine(needing(undefined, undefined))).toBeUndefined();
  });
});

describe('moebench compare', () => {
  it('prints environment differences above the table and the verdicts', () => {
    const r = moebench(['compare', BASE, CAND]);
    expect(r.status).toBe(0);
    const envAt = r.stdout.indexOf('environment differences:');
    const tableAt = r.stdout.indexOf('verdict');
    expect(envAt).toBeGreaterThan(0);
    expect(envAt).toBeLessThan(tableAt);
    // the sides and what every row shares are said once, above the table
    // a side's files (whole paths, so wrapped where the checkout's path is long) after its name
    expect(r.stdout).toMatch(
      /^by card; baseline: fake \(H100 stand-in\)\s+\(\S+compare-base\.json\)\ncandidate: fake \(H200 stand-in\)\s+\(\S+compare-cand\.json\)\nevery case: backend fake$/m,
    );
    expect(r.stdout).toMatch(/^tiny\/dense\/decode\/t1\/fp32\s+500\s+1,000\s+2\.000\s+2\.000–2\.000\s+MWU calls\s+FASTER$/m);
    // both sides of t8 are noisy: marked, and said under the table
    expect(r.stdout).toMatch(/^tiny\/dense\/decode\/t8\/fp32 .* UNCERTAIN\*$/m);
    expect(r.stdout).toMatch(/^\* tiny\/dense\/decode\/t8\/fp32: baseline noisy; candidate noisy$/m);
    // hyperfine's last line: ratios 2, 0.5, 1 and 0.909 over the four cases
    expect(r.stdout).toMatch(
      /^fake \(H200 stand-in\) ran 1\.02 times slower than fake \(H100 stand-in\) over 4 cases \(95% interval [\d.]+–[\d.]+; 1 FASTER, 1\n {2}SLOWER, 1 SAME, 1 UNCERTAIN\)$/m,
    );
    expect(r.stdout).toContain(
      '\ncases on some sides only:\n- only in fake (H100 stand-in); missing in fake (H200 stand-in) (1):\n  - tiny/dense/decode/t16/fp32\n',
    );
  });

  it('runs with --repetitions are compared process by process', () => {
    const dir = mkdtempSync(join(tmpdir(), 'moebench-cmp-reps-'));
    const run = (device: string, latencyMs: number) => {
      const out = join(dir, `${latencyMs}.json`);
      const r = moebench(
        tinyFakeRun('8', '--min-time-ms', '20', '--repetitions', '3', '--out', out),
        fakeScript({ latenciesMs: [latencyMs], device }),
      );
      expect(r.status, r.stderr).toBe(0);
      return out;
    };
    const r = moebench(['compare', run('H100 stand-in', 2), run('H200 stand-in', 1)]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/tiny\/dense\/decode\/t8\/fp32\s+4,000\s+8,000\s+2\.000\s+2\.000–2\.000\s+Welch 3v3\s+FASTER/);
  });

  it('--by file makes each file a side: two runs of one card', () => {
    const dir = mkdtempSync(join(tmpdir(), 'moebench-cmp-file-'));
    const run = (name: string, latencyMs: number) => {
      const out = join(dir, `${name}.json`);
      const r = moebench(tinyFakeRun('8', '--min-time-ms', '20', '--out', out), fakeScript({ latenciesMs: [latencyMs], device: 'H100 stand-in' }));
      expect(r.status, r.stderr).toBe(0);
      return out;
    };
    const before = run('before', 2);
    const after = run('after', 1);
    // files of one card are compared file against file without being asked, and it says so
    const plain = moebench(['compare', before, after]);
    expect(plain.status, plain.stderr).toBe(0);
    expect(plain.stderr).toMatch(/every file is from fake \(H100 stand-in\): comparing file against file \(--by file\)/);
    // an explicit --by is obeyed: one side is one side
    expect(moebench(['compare', before, after, '--by', 'card']).stderr).toMatch(/everything given is one side .* use --by file/);
    // a CI gate: SLOWER verdicts exit 3 (the baseline first: after → before is 2× slower); a threshold above the slowdown passes
    const gate = moebench(['compare', after, before, '--fail-on', 'slower']);
    expect(gate.status).toBe(3);
    expect(gate.stderr).toMatch(/--fail-on: 1 SLOWER verdict\(s\): tiny\/dense\/decode\/t8\/fp32 ×0\.500/);
    expect(moebench(['compare', after, before, '--fail-on', 'slower:60']).status).toBe(0);
    expect(moebench(['compare', before, after, '--fail-on', 'slower']).status).toBe(0);
    expect(moebench(['compare', before, after, '--fail-on', 'faster']).stderr).toMatch(/--fail-on "faster": use slower, or slower:PCT/);
    const r = moebench(['compare', before, after, '--by', 'file', '--format', 'json']);
    expect(r.status, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.sides.map((side: { label: string }) => side.label)).toEqual([before, after]);
    expect(json.pairs.map((p: { row: { device: string }; ratio: number; verdict: string }) => [p.row.device, p.ratio, p.verdict])).toEqual([
      ['fake (H100 stand-in)', 2, 'FASTER'],
    ]);
  });

  it('a file with no case measured (every one invalid) is named with its statuses, not left out without a word', () => {
    const dir = mkdtempSync(join(tmpdir(), 'moebench-cmp-invalid-'));
    const run = (name: string, script: object) => {
      const out = join(dir, `${name}.json`);
      moebench(tinyFakeRun('8', '--min-time-ms', '20', '--out', out), fakeScript({ device: 'H100 stand-in', ...script }));
      return out;
    };
    const [before, after] = [run('before', { latenciesMs: [2] }), run('after', { latenciesMs: [1] })];
    const wrong = run('wrong', { latenciesMs: [1], outputError: 0.5 });
    expect(readResultFile(wrong).cases.map((c) => c.status)).toEqual(['invalid']);
    // the one good file against the wrong one: that is the reason given, not the grouping
    const alone = moebench(['compare', before, wrong]);
    expect(alone.status).toBe(2);
    expect(alone.stderr).toContain(`moebench: only one side has a measured case (${before}): no case measured in ${wrong} (1 invalid)`);
    // beside two good files: compared without it, and named above the table
    const r = moebench(['compare', before, after, wrong]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^by file; baseline: ${before}\ncandidate: ${after}\n`));
    expect(r.stdout).toContain(`\nnot compared: ${wrong}: no case measured (1 invalid)\n`);
    // and the report's comparison, which chooses its sides as compare does and says so
    const html = join(dir, 'report.html');
    const page = moebench(['report', before, after, wrong, '--out', html]);
    expect(page.status, page.stderr).toBe(0);
    expect(page.stderr).toContain('moebench: every file is from fake (H100 stand-in): comparing file against file (--by file)');
    expect(readFileSync(html, 'utf8')).toContain(`<p>Not compared, no case measured: ${wrong} (1 invalid)</p>`);
    expect(r.stdout).toMatch(/tiny\/dense\/decode\/t8\/fp32\s+4,000\s+8,000\s+2\.000/);
  });

  it('--by folder makes each folder a side: several runs of one card before and after, each run one observation', () => {
    const dir = mkdtempSync(join(tmpdir(), 'moebench-cmp-folder-'));
    const run = (folder: string, name: string, latencyMs: number) => {
      const r = moebench(
        tinyFakeRun('8', '--min-time-ms', '20', '--out', join(dir, folder, `${name}.json`)),
        fakeScript({ latenciesMs: [latencyMs], device: 'H100 stand-in' }),
      );
      expect(r.status, r.stderr).toBe(0);
    };
    run('before', 'r1', 2);
    run('before', 'r2', 2);
    run('after', 'r1', 1);
    run('after', 'r2', 1);
    run('after', 'r3', 1);
    const r = moebench(['compare', join(dir, 'before'), join(dir, 'after'), '--by', 'folder', '--format', 'json']);
    expect(r.status, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.sides.map((side: { label: string; sources: string[] }) => [side.label, side.sources.length])).toEqual([
      [join(dir, 'before'), 2],
      [join(dir, 'after'), 3],
    ]);
    expect(json.pairs.map((p: Pair) => [p.test, p.runs, p.ratio, p.verdict])).toEqual([['welch-runs', { baseline: 2, candidate: 3 }, 2, 'FASTER']]);
    expect(r.stderr).not.toMatch(/more than once/);
    // the after runs' collection beside them: its three runs are the files' own, counted once and said so
    expect(moebench(['merge', join(dir, 'after'), '--out', join(dir, 'all.json')]).status).toBe(0);
    copyFileSync(join(dir, 'all.json'), join(dir, 'after', 'all.json'));
    const again = moebench(['compare', join(dir, 'before'), join(dir, 'after'), '--by', 'folder', '--format', 'json']);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toContain(
      "moebench: 3 measurement(s) given more than once (a run's file and a collection holding it, or a copy) are counted once",
    );
    expect(JSON.parse(again.stdout).pairs.map((p: Pair) => p.runs)).toEqual([{ baseline: 2, candidate: 3 }]);
    expect(moebench(['compare', join(dir, 'before'), join(dir, 'after'), '--by', 'folder']).stdout).toMatch(
      /tiny\/dense\/decode\/t8\/fp32\s+4,000\s+8,000\s+2\.000\s+2\.000–2\.000\s+Welch 2r v 3r\s+FASTER/,
    );
  });

  it("a table too wide for a terminal leaves out the test column, then the sides' tokens/s, and says so", () => {
    // two engines a card, so each case names its engine: the development VM's lavapipe against the H200
    const RESULTS = join(import.meta.dirname, '..', '..', 'results');
    const files = [
      '2026-12-04T19-41Z-vm-default-ort-webgpu.json',
      '2026-12-04T19-49Z-vm-default-tfjs-webgpu.json',
      '2026-12-04T17-15Z-h200-default-ort-webgpu.json',
      '2026-12-04T17-15Z-h200-default-tfjs-webgpu.json',
    ].map((f) => join(RESULTS, f));
    const c = compareRuns(loadRuns(files).runs, COMPARE_DEFAULTS);
    const text = formatComparison(c, 'table');
    expect(text.split('\n').filter((line) => line.length > 120)).toEqual([]);
    expect(text).toMatch(/^case {2,}ratio {2,}90% CI {2}verdict$/m);
    expect(text).toMatch(/^small\/dense\/prefill\/t256\/fp32 · ort-webgpu {2,}[\d.]+ {2,}[\d.]+–[\d.]+ {2}FASTER\*?$/m);
    expect(text).toContain('\nleft out to fit 120 columns: test, base tok/s, cand tok/s (--format markdown, csv or json has every column)\n');
    // markdown keeps every column
    expect(formatComparison(c, 'markdown')).toMatch(/^\| case \| base tok\/s \| cand tok\/s \| ratio \| 90% CI \| test \| verdict \|$/m);
  });

  it('with several candidates, each is numbered and named so in environment differences and the table; equal values together', () => {
    const [base] = loadRuns([BASE]).runs;
    const withVars = (source: string, vars: Record<string, string>) => ({
      ...base,
      source,
      environment: { ...base.environment, envVars: { ...base.environment.envVars, ...vars } },
    });
    const c = compareRuns(
      [base, withVars('one.json', { OMP_NUM_THREADS: '4' }), withVars('two.json', { OMP_NUM_THREADS: '4', MKL_NUM_THREADS: '2' })],
      {
        ...COMPARE_DEFAULTS,
        by: 'file',
      },
    );
    const text = formatComparison(c, 'table');
    expect(text).toContain('\ncandidates:\n  1. one.json\n  2. two.json\n');
    expect(text).toContain('\n  envVars.OMP_NUM_THREADS: baseline = -; cand 1, cand 2 = 4\n');
    expect(text).toContain('\n  envVars.MKL_NUM_THREADS: baseline, cand 1 = -; cand 2 = 2\n');
    expect(text).toMatch(/^tiny\/dense\/decode\/t1\/fp32 {2,}cand 1 {2,}500 {2,}500 {2,}1\.000 /m);
    expect(text).toMatch(/^tiny\/dense\/decode\/t1\/fp32 {2,}cand 2 {2,}500 {2,}500 {2,}1\.000 /m);
    // markdown: the candidates an ordered list, the differences bullets
    const md = formatComparison(c, 'markdown');
    expect(md).toContain('\ncandidates:\n1. one.json\n2. two.json\n');
    expect(md).toContain('\n- envVars.OMP_NUM_THREADS: baseline = -; cand 1, cand 2 = 4\n');
  });

  it('cases on some sides only are grouped by where they are; a terminal is shown five of a group', () => {
    const [run] = loadRuns([BASE]).runs;
    const renamed = (tag: string) => run.cases.map((c) => ({ ...c, id: `${c.id}/${tag}` }));
    const other = { ...run, source: 'other.json', environment: { ...run.environment }, cases: [...run.cases, ...renamed('a'), ...renamed('b')] };
    const c = compareRuns([run, other], { ...COMPARE_DEFAULTS, by: 'file' });
    expect(c.unmatched).toHaveLength(10);
    const table = formatComparison(c, 'table');
    expect(table).toContain(`\ncases on some sides only:\n- only in other.json; missing in ${BASE} (10):\n  - tiny/dense/decode/t1/fp32/a\n`);
    expect(table.match(/^ {2}- tiny\//gm)).toHaveLength(5);
    expect(table).toContain('\n  - … and 5 more (--format markdown or json lists every one)\n');
    expect(formatComparison(c, 'markdown').match(/^ {2}- tiny\//gm)).toHaveLength(10);
  });

  it('sides that share no case compare nothing: exit 2 and why, not an empty table that passes a --fail-on gate', () => {
    const dir = mkdtempSync(join(tmpdir(), 'moebench-cmp-none-'));
    const run = (name: string, tokens: string, device: string) => {
      const out = join(dir, `${name}.json`);
      expect(moebench(tinyFakeRun(tokens, '--min-time-ms', '20', '--out', out), fakeScript({ latenciesMs: [1], device })).status).toBe(0);
      return out;
    };
    // one card's t8 against another's t16: no workload on both
    const r = moebench(['compare', run('h100', '8', 'H100 stand-in'), run('h200', '16', 'H200 stand-in'), '--fail-on', 'slower']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      'moebench: no case is on two sides (2 on some sides only): nothing compared; cases match on their workload and every dimension not used for the sides (--by card)',
    );
  });

  it('sides of two cards that share no engine are told so', () => {
    const [run] = loadRuns([BASE]).runs;
    const [cand] = loadRuns([CAND]).runs;
    const engine = (r: Run, backend: string) => ({ ...r, cases: r.cases.map((c) => ({ ...c, backend })) });
    const c = compareRuns([engine(run, 'ort-cpu'), engine(cand, 'torch-cuda')], COMPARE_DEFAULTS);
    expect(c.pairs).toEqual([]);
    expect(nothingComparedLine(c)).toBe(
      `moebench: no case is on two sides (${c.unmatched.length} on some sides only): nothing compared: the sides share no engine (fake (H100 stand-in): ort-cpu; fake (H200 stand-in): torch-cuda), and cases match only within one; compare one engine's files, or --by backend for engines of one card`,
    );
  });

  it('sides that share no engine and no math mode are not sent to --by backend, which would match nothing either', () => {
    const [run] = loadRuns([BASE]).runs;
    // the H200 sitting's case: torch-cuda measured fp16, ORT WebGPU fp32, on one card
    const as = (r: Run, backend: string, dtype: string) => ({
      ...r,
      cases: r.cases.map((c) => ({ ...c, backend, id: c.id.replace('/fp32', `/${dtype}`) })),
    });
    const byFile = { ...COMPARE_DEFAULTS, by: 'file' as const };
    const torch = { ...as(run, 'torch-cuda', 'fp16'), source: 'torch.json' };
    const ort = { ...as(run, 'ort-webgpu', 'fp32'), source: 'ort.json' };
    expect(run.cases.every((c) => c.id.includes('/fp32'))).toBe(true);
    const c = compareRuns([torch, ort], byFile);
    expect(c.pairs).toEqual([]);
    expect(nothingComparedLine(c)).toBe(
      `moebench: no case is on two sides (${c.unmatched.length} on some sides only): nothing compared: the sides share no engine (torch.json: torch-cuda; ort.json: ort-webgpu) and no math mode (torch.json: fp16; ort.json: fp32): a case matches only in its own engine and dtype; measure one side again with the other's --dtype`,
    );
    // nor a workload: other token counts
    const other = { ...ort, cases: ort.cases.map((x) => ({ ...x, id: x.id.replace(/\/t(\d+)\//, '/t9$1/') })) };
    const d = compareRuns([torch, other], byFile);
    expect(nothingComparedLine(d)).toBe(
      `moebench: no case is on two sides (${d.unmatched.length} on some sides only): nothing compared: the sides share no engine (torch.json: torch-cuda; ort.json: ort-webgpu) and no workload either; compare files that measured the same cases`,
    );
  });

  it('fits 120 columns', () => {
    const r = moebench(['compare', BASE, CAND]);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.filter((l) => l.length > 120)).toEqual([]);
  });

  it('--format markdown, csv and json', () => {
    const md = moebench(['compare', BASE, CAND, '--format', 'markdown']).stdout;
    expect(md).toMatch(/^\| case \| base tok\/s \| cand tok\/s \| ratio \| 90% CI \| test \| verdict \|$/m);
    expect(md).toMatch(/\| FASTER \|$/m);
    const csv = moebench(['compare', BASE, CAND, '--format', 'csv']).stdout.trim().split('\n');
    expect(csv[0]).toBe(
      'case,backend,device,baseline,candidate,baseline_tokens_per_sec,candidate_tokens_per_sec,ratio,ratio_ci_low,ratio_ci_high,verdict_ci_low,verdict_ci_high,p,test,baseline_processes,candidate_processes,baseline_runs,candidate_runs,verdict,processes_to_decide,runs_to_decide,warnings',
    );
    expect(csv).toHaveLength(5);
    const json = JSON.parse(moebench(['compare', BASE, CAND, '--format', 'json']).stdout);
    expect(json.pairs.map((p: { verdict: string }) => p.verdict)).toEqual(['FASTER', 'SLOWER', 'SAME', 'UNCERTAIN']);
    expect(json.summary).toMatchObject([{ candidate: 'fake (H200 stand-in)', cases: 4, verdicts: { FASTER: 1, SLOWER: 1, SAME: 1, UNCERTAIN: 1 } }]);
  });

  it('a folder of one machine merges with nothing else to compare: says what to do', () => {
    const r = moebench(['compare', BASE]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/everything given is one side/);
  });

  describe('bad files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'moebench-compare-'));
    copyFileSync(BASE, join(dir, 'a.json'));
    copyFileSync(CAND, join(dir, 'b.json'));
    writeFileSync(join(dir, 'truncated.json'), '{"schemaVersion": "1.0", "tool": "moebench", "cases": [');
    const v2 = JSON.parse(JSON.stringify(loadRuns([BASE]).runs[0]));
    writeFileSync(join(dir, 'future.json.txt'), JSON.stringify({ ...v2, schemaVersion: '2.0', tool: 'moebench' }));

    it.each([
      ['truncated.json', /truncated.json: not valid JSON .* may be truncated/],
      ['future.json.txt', /future.json.txt: schema version 2.0 is not supported: this moebench reads 1.x \(upgrade moebench\)/],
      ['nope.json', /nope.json: cannot read: no such file or folder/],
    ])('%s given explicitly is refused with exit 2', (name, message) => {
      const r = moebench(['compare', BASE, join(dir, name)]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(message);
    });

    it('a folder with one bad file still compares the rest and names the bad one', () => {
      const r = moebench(['compare', dir]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/skipped .*truncated.json: not valid JSON/);
      expect(r.stdout).toMatch(/FASTER/);
    });
  });
});
