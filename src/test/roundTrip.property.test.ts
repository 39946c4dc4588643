import fc from 'fast-check';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareRuns, COMPARE_DEFAULTS } from '../compare/compare.js';
import { processLevelRatio, bootstrapRatioCis } from '../compare/stats.js';
import { repetitionMedian, summarize } from '../measure/stats.js';
import { correctedThroughput, throughputOf } from '../measure/throughput.js';
import { readResultFile, writeResultFileAtomic } from '../results/io.js';
import { mergeRuns } from '../results/merge.js';
import { loadRuns } from '../results/runs.js';
import { judgeHost, type HostSignals } from '../env/hostLoad.js';
import type { CaseResult, Environment, MeasuredCase, ResultFileBody } from '../results/schema.js';
import { SCHEMA_VERSION } from '../results/schema.js';
import { ResultSession } from '../results/session.js';
import { recordedRunOptions, runOptionsFrom } from '../run/options.js';
import { combineRepetitions, splitRepetitions } from '../run/repetitions.js';
import { reportCommand } from '../commands/report.js';
import { measured } from './helpers/cases.js';
import { accountFor } from '../workloads/accounting.js';
import { PRESETS } from '../workloads/presets.js';
import { caseId, type WorkloadCase } from '../workloads/spec.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'fake-run.json');
const fixture = readResultFile(FIXTURE);
const base = measured(fixture.cases[0]);
const dir = mkdtempSync(join(tmpdir(), 'moebench-roundtrip-'));

/** Every kind of layer the writer can record: the fixture's dense case, the roofline probe, GQA decode, MLA prefill and decode. */
const WORKLOADS: CaseResult['workload'][] = [
  base.workload,
  { ...base.workload, preset: 'tiny', layer: PRESETS.tiny.matmul!, phase: 'prefill', batch: 1, seqLen: 64, numTokens: 64 },
  { ...base.workload, preset: 'tiny', layer: PRESETS.tiny.attention!, phase: 'decode', batch: 4, seqLen: 1, numTokens: 4, context: 16 },
  { ...base.workload, preset: 'tiny-mla', layer: PRESETS['tiny-mla'].attention!, phase: 'prefill', batch: 2, seqLen: 8, numTokens: 16 },
  { ...base.workload, preset: 'tiny-mla', layer: PRESETS['tiny-mla'].attention!, phase: 'decode', batch: 3, seqLen: 1, numTokens: 3, context: 1 },
];

/** The fixture's case as another workload, with that workload's id and analytic work. */
function templateOf(layer: number): MeasuredCase {
  const workload = WORKLOADS[layer];
  const c = { ...workload, id: '' } as WorkloadCase;
  return { ...base, id: caseId(c), workload, work: accountFor(c) };
}

/** One worker process's result, as executeCase makes it: its samples summarized, its throughput from their median. */
function processResult(base: MeasuredCase, id: string, samplesMs: number[], overheadMs: number | undefined, status: 'ok' | 'noisy'): MeasuredCase {
  const summary = summarize(samplesMs, base.workload.seed);
  const overhead =
    overheadMs === undefined ? undefined : { medianMs: overheadMs, medianCi95Ms: [overheadMs, overheadMs] as [number, number], count: 10 };
  return {
    ...base,
    id,
    status,
    ...(status === 'noisy' ? { error: 'did not reach ±2.0% in 10000 ms' } : { error: undefined }),
    samplesMs,
    warmupSamplesMs: samplesMs.slice(0, 3),
    summary,
    throughput: throughputOf(base.work, summary),
    ...(overhead ? { overhead, throughputCorrected: correctedThroughput(base.work, summary, overhead.medianMs) } : {}),
  };
}

const processArb = fc.record({
  count: fc.integer({ min: 1, max: 25 }),
  medianMs: fc.double({ min: 1e-3, max: 1e4, noNaN: true }),
  // identical samples, a tight spread, a wide one
  spread: fc.constantFrom(0, 0.01, 0.9),
  noisy: fc.boolean(),
});

const caseArb = fc.record({
  status: fc.constantFrom('measured', 'measured', 'measured', 'invalid', 'failed', 'skipped'),
  processes: fc.array(processArb, { minLength: 1, maxLength: 5 }),
  // processes 100× apart, as on a host whose neighbour came and went
  apart: fc.boolean(),
  overheadMs: fc.constantFrom(undefined, 0, 0.5),
  layer: fc.integer({ min: 0, max: WORKLOADS.length - 1 }),
});

// a probe's median, its spread from 0 (identical timings) to far past any threshold, and two processes up to 10× apart
const steadinessArb = <K extends string>(key: K) =>
  fc.record({
    [key]: fc.double({ min: 1e-3, max: 1e3, noNaN: true }),
    spread: fc.double({ min: 0, max: 5, noNaN: true }),
    between: fc.double({ min: 0, max: 9, noNaN: true }),
  }) as fc.Arbitrary<Record<K, number> & { spread: number; between: number }>;

const environmentArb = fc.record({
  host: fc.string({ minLength: 1, maxLength: 30 }),
  gpus: fc.boolean(),
  envVars: fc.dictionary(fc.constantFrom('CUDA_VISIBLE_DEVICES', 'OMP_NUM_THREADS', 'NVIDIA_TF32_OVERRIDE'), fc.string({ maxLength: 8 })),
  // what the host checks read, judged as a run judges them; absent as in files from before 1.3 (the
  // one before the cases) and 1.8 (the one after them, taken only by runs long enough)
  hostSignals: fc.option(hostSignalsArb(), { nil: undefined }),
  hostSignalsAfter: fc.option(hostSignalsArb(), { nil: undefined }),
});

function hostSignalsArb() {
  return fc.record({
    cpus: fc.integer({ min: 1, max: 256 }),
    loadAverage1m: fc.double({ min: 0, max: 64, noNaN: true }),
    busyProcesses: fc.array(
      fc.record({
        pid: fc.integer({ min: 1, max: 4_194_304 }),
        name: fc.string({ maxLength: 15 }),
        cpuPercent: fc.integer({ min: 10, max: 1600 }),
      }),
      { maxLength: 3 },
    ),
    calibration: fc.option(steadinessArb('loopMs'), { nil: undefined }),
    memory: fc.option(steadinessArb('passMs'), { nil: undefined }),
  });
}

type CaseSpec = {
  status: string;
  processes: { count: number; medianMs: number; spread: number; noisy: boolean }[];
  apart: boolean;
  overheadMs?: number;
  layer: number;
};

function caseFrom(i: number, spec: CaseSpec): CaseResult {
  const base = templateOf(spec.layer);
  const id = `${base.id}#${i}`;
  const { samplesMs: _s, summary: _m, throughput: _t, warmupSamplesMs: _w, throughputCorrected: _c, ...unmeasured } = base;
  if (spec.status === 'invalid') return { ...unmeasured, id, status: 'invalid', error: 'output differs from the reference' };
  if (spec.status === 'failed') return { ...unmeasured, id, status: 'failed', error: 'worker crashed (SIGSEGV)' };
  if (spec.status === 'skipped') return { ...unmeasured, id, status: 'skipped', error: 'the backend cannot run this case' };
  const results = spec.processes.map((p, k) => {
    const centre = p.medianMs * (spec.apart && k % 2 === 1 ? 100 : 1);
    const samples = Array.from({ length: p.count }, (_, j) => centre * (1 + p.spread * (((j * 7919) % 13) / 13 - 0.5)));
    return processResult(base, id, samples, spec.overheadMs, p.noisy ? 'noisy' : 'ok');
  });
  return combineRepetitions(results, 0.02, base.workload.seed, results.length);
}

function fileFrom(
  cases: CaseResult[],
  env: { host: string; gpus: boolean; envVars: Record<string, string>; hostSignals?: HostSignals; hostSignalsAfter?: HostSignals },
): ResultFileBody {
  const environment: Environment = {
    ...fixture.environment,
    host: env.host,
    envVars: env.envVars,
    ...(env.hostSignals ? { hostCheck: judgeHost(env.hostSignals) } : {}),
    ...(env.hostSignalsAfter ? { hostCheckAfter: judgeHost(env.hostSignalsAfter) } : {}),
    gpus: env.gpus
      ? [{ index: 0, name: 'NVIDIA H100 80GB HBM3', uuid: 'GPU-0', memoryTotalMiB: 81559, driverVersion: '550.54.15' } as Environment['gpus'][number]]
      : [],
  };
  const options = runOptionsFrom({ backend: 'fake', preset: 'tiny', repetitions: 5 });
  return { schemaVersion: SCHEMA_VERSION, tool: 'moebench', environment, run: { backend: 'fake', device: 'fake', options }, cases };
}

describe('every file the writer can produce, every reader accepts', () => {
  it('writer → read, resume, compare, merge and report', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(caseArb, { minLength: 1, maxLength: 4 }), environmentArb, async (specs, env) => {
        const cases = specs.map((s, i) => caseFrom(i, s));
        const path = join(dir, `r${n++}.json`);
        writeResultFileAtomic(path, fileFrom(cases, env));

        const read = readResultFile(path);
        expect(read.cases.map((c) => c.status)).toEqual(cases.map((c) => c.status));
        for (const c of read.cases) {
          if (c.status !== 'ok' && c.status !== 'noisy') continue;
          expect(c.summary.medianCi95Ms[0]).toBeGreaterThan(0);
          expect(c.summary.medianCi95Ms[0]).toBeLessThanOrEqual(c.summary.medianMs);
          expect(c.summary.medianCi95Ms[1]).toBeGreaterThanOrEqual(c.summary.medianMs);
        }

        // resume: the recorded options, and each case split into its processes and combined again
        const session = ResultSession.resume(path);
        const options = recordedRunOptions(session.run.options, path);
        for (const c of session.cases) {
          if (c.status !== 'ok' && c.status !== 'noisy') continue;
          const again = combineRepetitions(splitRepetitions(c), options.stopping.targetRelHalfWidth, c.workload.seed, c.repetitions?.length ?? 1);
          expect(again.status).toBe(c.status);
          expect(again.summary!.medianMs).toBeCloseTo(c.summary.medianMs, 9);
        }

        const { runs, bad } = loadRuns([path, path]);
        expect(bad).toEqual([]);
        const copy = join(dir, `r${n}-copy.json`);
        writeFileSync(copy, readFileSync(path));
        const anyMeasured = read.cases.some((c) => c.status === 'ok' || c.status === 'noisy');
        const pairs = anyMeasured ? compareRuns(loadRuns([path, copy]).runs, { ...COMPARE_DEFAULTS, by: 'file' }).pairs : [];
        expect(pairs).toHaveLength(read.cases.filter((c) => c.status === 'ok' || c.status === 'noisy').length);
        for (const p of pairs) {
          expect(p.ratioCi95[0]).toBeGreaterThan(0);
          expect(p.ratioCi95[0]).toBeLessThanOrEqual(p.ratioCi95[1]);
          // the verdict's (1 − 2α) interval lies inside the 95% one
          expect(p.verdictCi[0]).toBeGreaterThanOrEqual(p.ratioCi95[0]);
          expect(p.verdictCi[1]).toBeLessThanOrEqual(p.ratioCi95[1]);
          expect(p.verdictCi[0]).toBeLessThanOrEqual(p.verdictCi[1]);
        }
        // the same file twice: every case is an exact duplicate, folded
        expect(mergeRuns(runs).duplicates).toBe(read.cases.length);

        const out = join(dir, `r${n}.html`);
        const quiet = { argv: [], out: () => undefined, err: () => undefined, onInterrupt: () => () => undefined };
        expect(await reportCommand([path], { out, model: 'deepseek-v3', layout: 'ep=8', contextTokens: 4096, linkGBps: 50 }, quiet)).toBe(0);
        expect(readFileSync(out, 'utf8')).toContain('<html');
      }),
      { numRuns: 40, seed: 20261124 },
    );
  });
});

describe('intervals that cannot cross zero', () => {
  const mediansArb = fc.array(fc.double({ min: 1e-4, max: 1e5, noNaN: true }), { minLength: 2, maxLength: 8 });

  it('over processes: positive, and around the geometric mean, however far apart the processes are', () => {
    fc.assert(
      fc.property(mediansArb, (medians) => {
        const groups = medians.map((m) => [m]);
        const { medianMs, ci } = repetitionMedian(groups, summarize(medians));
        expect(ci[0]).toBeGreaterThan(0);
        expect(ci[0]).toBeLessThanOrEqual(medianMs * (1 + 1e-12));
        expect(ci[1]).toBeGreaterThanOrEqual(medianMs * (1 - 1e-12));
      }),
      { seed: 7 },
    );
  });

  it("compare's ratio intervals: positive for processes and for calls", () => {
    fc.assert(
      fc.property(mediansArb, mediansArb, (a, b) => {
        const [byProcess] = processLevelRatio(a, b).cis;
        const [byCall] = bootstrapRatioCis([a], [b]);
        for (const ci of [byProcess, byCall]) {
          expect(ci[0]).toBeGreaterThan(0);
          expect(ci[0]).toBeLessThanOrEqual(ci[1]);
          expect(Number.isFinite(ci[1])).toBe(true);
        }
        // SAME's 90% intervals (α = 0.05) lie inside the 95% ones
        for (const [inner, outer] of [
          [processLevelRatio(a, b, [0.9]).cis[0], byProcess],
          [bootstrapRatioCis([a], [b], [0.9])[0], byCall],
        ]) {
          expect(inner[0]).toBeGreaterThanOrEqual(outer[0]);
          expect(inner[1]).toBeLessThanOrEqual(outer[1]);
        }
      }),
      { seed: 11 },
    );
  });

  it('hand-computed: medians 2, 3, 4 and 1, 1, 100', () => {
    // ln 2, ln 3, ln 4: mean 1.059351 (geometric mean 2.884499), sd 0.348238; t(0.975, 2) = 4.302653
    const a = repetitionMedian([[2], [3], [4]], summarize([2, 3, 4]));
    expect(a.medianMs).toBeCloseTo(2.884499, 6);
    expect(a.ci[0]).toBeCloseTo(1.214438, 5);
    expect(a.ci[1]).toBeCloseTo(6.851181, 5);
    // ln 1, ln 1, ln 100: mean 1.535057, sd 2.658798, half-width 6.604816 on the log scale
    const b = repetitionMedian([[1], [1], [100]], summarize([1, 1, 100]));
    expect(b.ci[0]).toBeCloseTo(0.006284, 6);
    expect(b.ci[1]).toBeCloseTo(3428.4, 0);
    // compare: baseline 10, 10, 10.5 ms against 20, 21, 20 ms; the ratio of geometric means is 0.4999
    const [ci] = processLevelRatio([10, 10, 10.5], [20, 21, 20]).cis;
    expect(ci[0]).toBeGreaterThan(0);
    expect(Math.sqrt(ci[0] * ci[1])).toBeCloseTo(0.5, 2);
  });
});
