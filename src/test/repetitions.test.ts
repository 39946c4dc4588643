import { measured } from './helpers/cases.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repetitionMedian, summarize } from '../measure/stats.js';
import { combineRepetitions, splitRepetitions } from '../run/repetitions.js';
import { isComplete } from '../results/repetitions.js';
import { readResultFile } from '../results/io.js';
import type { CaseResult, MeasuredCase } from '../results/schema.js';
import { moebench, fakeScript, tinyFakeRun } from './helpers/cli.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'compare-base.json');

describe("median over repetitions and its interval (Student's t)", () => {
  const within = (center: number) => Array.from({ length: 60 }, (_, i) => center * (1 + 0.002 * ((i % 5) - 2)));

  it("is the geometric mean of the repetitions' medians ×/÷ exp(t(0.975, k − 1) · sd(log medians) / √k)", () => {
    // medians 2, 3, 4: geometric mean 24^(1/3) = 2.884499; sd of ln 2, ln 3, ln 4 = 0.348238;
    // t(0.975, 2) = 4.302653, so the factor is exp(4.302653 · 0.348238 / √3) = 2.375175
    const groups = [
      [1, 2, 3],
      [2, 3, 4],
      [3, 4, 5],
    ];
    const { medianMs, ci } = repetitionMedian(groups, summarize(groups.flat()));
    expect(medianMs).toBeCloseTo(2.884499, 6);
    expect(ci[0]).toBeCloseTo(1.214438, 5);
    expect(ci[1]).toBeCloseTo(6.851181, 5);
  });

  it('never goes below zero, however far apart the processes are', () => {
    // on a linear scale, medians 1, 1 and 100 give 34 ± 141.9: a negative lower bound
    const { ci } = repetitionMedian([[1], [1], [100]], summarize([1, 1, 100]));
    expect(ci[0]).toBeGreaterThan(0);
    // ln medians 0, 0, 4.605170: mean 1.535057, sd 2.658798; factor exp(4.302653 · 2.658798 / √3) = 737.7
    expect(ci[0]).toBeCloseTo(Math.exp(1.535057 - 6.604816), 4);
  });

  it('weighs each process the same, however many samples it took', () => {
    // a slow, noisy process that sampled ten times longer does not outvote the other two: (10 · 10 · 13.3)^(1/3)
    const slow = Array.from({ length: 600 }, (_, i) => 13 + (i % 7) / 10);
    expect(repetitionMedian([within(10), within(10), slow], summarize([...within(10), ...within(10), ...slow])).medianMs).toBeCloseTo(10.997244, 5);
  });

  it('reaches past the extreme repetitions, which a bootstrap over three processes cannot', () => {
    const groups = [within(10), within(10.4), within(9.7)];
    const { ci } = repetitionMedian(groups, summarize(groups.flat()));
    expect(ci[0]).toBeLessThan(9.7);
    expect(ci[1]).toBeGreaterThan(10.4);
  });

  it("is never narrower than the pooled samples' own interval", () => {
    const groups = [
      [1, 2, 3, 9],
      [1, 2, 3, 9],
      [1, 2, 3, 9],
    ];
    // every process has median 2.5: the interval over processes is a point, the pooled one [1.5, 3.5] stands
    const pooled = { ...summarize(groups.flat()), medianMs: 2.5, medianCi95Ms: [1.5, 3.5] as [number, number] };
    const { medianMs, ci } = repetitionMedian(groups, pooled);
    expect(medianMs).toBeCloseTo(2.5, 12);
    expect(ci).toEqual([1.5, 3.5]);
  });

  it("is the samples' own median and interval for a single repetition", () => {
    const pooled = { ...summarize(within(10)), medianMs: 10, medianCi95Ms: [9.9, 10.1] as [number, number] };
    expect(repetitionMedian([within(10)], pooled)).toEqual({ medianMs: 10, ci: [9.9, 10.1] });
  });

  it('is a point when every sample is equal', () => {
    expect(
      repetitionMedian(
        [
          [2, 2],
          [2, 2, 2],
        ],
        summarize([2, 2, 2, 2, 2]),
      ),
    ).toEqual({ medianMs: 2, ci: [2, 2] });
  });
});

describe('combining repetitions of a case', () => {
  const c = measured(readResultFile(FIXTURE).cases[0]); // t1: 2 ms every call
  const rep = (scale: number, warmupCount = 50, overheadMs = 0): MeasuredCase => {
    const samplesMs = c.samplesMs!.map((s) => s * scale);
    // as executeCase does: the workload's seed drives the bootstrap
    const summary = summarize(samplesMs, c.workload.seed);
    return {
      ...c,
      samplesMs,
      summary,
      throughput: { ...c.throughput!, tokensPerSec: c.work.tokensPerCall / (summary.medianMs / 1000) },
      warmupSamplesMs: c.warmupSamplesMs!.slice(0, warmupCount),
      overhead: { ...c.overhead!, medianMs: overheadMs },
    };
  };

  it("pools the samples, keeps each repetition's median and takes the interval over repetitions", () => {
    const r = combineRepetitions([rep(1), rep(1.005), rep(0.995)], 0.02, 1);
    expect(r.samplesMs).toHaveLength(3 * c.samplesMs!.length);
    expect(r.repetitions!.map((x) => x.medianMs)).toEqual([2, 2.01, 1.99]);
    // geometric mean (2 · 2.01 · 1.99)^(1/3) = 1.999983; sd of the logs 0.0050003, t(0.975, 2) = 4.302653:
    // ×/÷ exp(4.302653 · 0.0050003 / √3) gives [1.975296, 2.024980], wider than the pooled samples' own
    expect(r.summary!.medianMs).toBeCloseTo(1.999983, 6);
    expect(r.summary!.medianCi95Ms[0]).toBeCloseTo(1.975296, 6);
    expect(r.summary!.medianCi95Ms[1]).toBeCloseTo(2.02498, 6);
    // one token per call
    expect(r.throughput!.tokensPerSec).toBeCloseTo(500.0042, 4);
    expect(r.status).toBe('ok');
  });

  it('is noisy when the repetitions disagree by more than the target', () => {
    const r = combineRepetitions([rep(1), rep(1.2), rep(0.8)], 0.02, 1);
    expect(r.status).toBe('noisy');
    // the slowest process's median is 1.2 / 0.8 = 1.5 times the fastest's
    expect(r.error).toMatch(/^±\d+\.\d% over 3 processes \(target ±2\.0%\), processes 50\.0% apart$/);
  });

  it('a process that timed out unconverged makes the case noisy and is named, even when the interval over processes is narrow', () => {
    const timedOut = {
      ...rep(1.005),
      status: 'noisy' as const,
      error: 'did not reach ±2.0% in 10000 ms (412 samples): the 95% interval of the median (corrected for correlated calls) stayed at ±2.4%',
    };
    const r = combineRepetitions([rep(1), timedOut, rep(0.995)], 0.02, 1);
    expect(r.status).toBe('noisy');
    expect(r.error).toMatch(/^process 2 of 3 stopped short of ±2\.0%: did not reach ±2\.0% in 10000 ms \(412 samples\): .*stayed at ±2\.4%$/);
    // and a resume, which splits the case back into its processes, says the same
    const [a, b] = splitRepetitions(r);
    expect(combineRepetitions([a, b, rep(0.995)], 0.02, 1).error).toBe(r.error);
  });

  it("keeps the card's lowest clock and hottest reading over every process", () => {
    const during = (minMHz: number, medianMHz: number, tempC: number) => ({
      readings: 4,
      smClockMHz: { min: minMHz, median: medianMHz, max: 1980 },
      temperatureC: { max: tempC },
    });
    const r = combineRepetitions(
      [
        { ...rep(1), gpuDuring: during(1900, 1980, 60) },
        { ...rep(1.005), gpuDuring: during(1410, 1755, 84) },
        { ...rep(0.995), gpuDuring: during(1980, 1980, 58) },
      ],
      0.02,
      1,
    );
    expect(r.gpuDuring).toEqual({ readings: 12, smClockMHz: { min: 1410, median: 1980, max: 1980 }, temperatureC: { max: 84 } });
  });

  it('a case with more repetitions to come lists the one it has', () => {
    const r = combineRepetitions([rep(1)], 0.02, 1, 3);
    expect(r.repetitions).toHaveLength(1);
    expect(isComplete(r, 3)).toBe(false);
    expect(isComplete(r, 1)).toBe(true);
  });

  it('splits back into the results it was combined from', () => {
    const parts = [rep(1, 50, 0.1), rep(1.005, 20, 0.3), rep(0.995, 35, 0.2)];
    const split = splitRepetitions(combineRepetitions(parts, 0.02, 1));
    expect(split.map((r) => r.samplesMs)).toEqual(parts.map((r) => r.samplesMs));
    expect(split.map((r) => r.summary!.medianMs)).toEqual([2, 2.01, 1.99]);
    expect(split.map((r) => r.warmupSamplesMs!.length)).toEqual([50, 20, 35]);
    expect(split.map((r) => r.overhead!.medianMs)).toEqual([0.1, 0.3, 0.2]);
    // so a resumed case combines to what an uninterrupted one would have
    expect(combineRepetitions([...split.slice(0, 2), parts[2]], 0.02, 1)).toEqual(combineRepetitions(parts, 0.02, 1));
  });

  it('a failed repetition fails the case and says which', () => {
    const { samplesMs: _s, summary: _m, throughput: _t, throughputCorrected: _c, warmupSamplesMs: _w, ...unmeasured } = c;
    const failed: CaseResult = { ...unmeasured, status: 'failed', error: 'crashed: killed by SIGSEGV' };
    const r = combineRepetitions([rep(1), failed], 0.02, 1);
    expect(r.status).toBe('failed');
    expect(r.error).toBe('repetition 2 of 2: crashed: killed by SIGSEGV');
  });
});

describe('moebench run --repetitions', () => {
  it('goes in rounds over the suite: every case once, then every case again', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'moebench-reps-')), 'r.json');
    const r = moebench(tinyFakeRun('8,16', '--min-time-ms', '20', '--repetitions', '2', '--out', out), fakeScript({ latenciesMs: [2] }));
    expect(r.status).toBe(0);
    const order = r.stderr
      .split('\n')
      .filter((l) => /: measuring( ·|$)/.test(l))
      .map((l) => l.replace(/ \(repetition (\d)\/2\): measuring( · .*)?$/, ' r$1'));
    expect(order).toEqual([
      '[1/2] tiny/dense/decode/t8/fp32 r1',
      '[2/2] tiny/dense/decode/t16/fp32 r1',
      '[1/2] tiny/dense/decode/t8/fp32 r2',
      '[2/2] tiny/dense/decode/t16/fp32 r2',
    ]);
    expect(readResultFile(out).cases.map((c) => [c.id, c.repetitions!.length])).toEqual([
      ['tiny/dense/decode/t8/fp32', 2],
      ['tiny/dense/decode/t16/fp32', 2],
    ]);
  });

  it('runs the case in separate workers and records every repetition', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'moebench-reps-')), 'r.json');
    const r = moebench(tinyFakeRun('8', '--min-time-ms', '20', '--repetitions', '3', '--out', out), fakeScript({ latenciesMs: [2] }));
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/\(repetition 3\/3\)/);
    const [c] = readResultFile(out).cases;
    expect(c.repetitions).toHaveLength(3);
    expect(c.samplesMs).toHaveLength(3 * 14);
    expect(c.summary!.medianCi95Ms).toEqual([2, 2]);
  });
});
