import { describe, expect, it } from 'vitest';
import { noisyReason } from '../run/execute.js';
import { StdRelRule, WarmupRule, type StdRelOptions } from '../measure/stopping.js';
import { makeRng } from '../workloads/rng.js';

const opts: StdRelOptions = { targetRelHalfWidth: 0.02, minSamples: 10, minTimeMs: 500, maxTimeMs: 2000, maxSamples: 10_000 };

/** Feeds a synthetic stream; elapsed time is the sum of the samples, as in a real run. */
function feed(samples: (i: number) => number, o = opts) {
  const rule = new StdRelRule(o);
  let elapsed = 0;
  for (let i = 0; ; i++) {
    const ms = samples(i);
    rule.add(ms);
    elapsed += ms;
    const decision = rule.decide(elapsed);
    if (decision !== 'continue') return { decision, count: i + 1, relHalfWidth: rule.relHalfWidth() };
  }
}

describe('stdrel stopping rule', () => {
  it('a stable stream converges as soon as the minimum time is reached', () => {
    const r = feed((i) => 10 + 0.001 * (i % 3));
    expect(r.decision).toBe('converged');
    // 10 ms samples: 0.5 s of sampling takes 50 of them
    expect(r.count).toBe(50);
  });

  it('a fast stable stream still takes the minimum number of samples', () => {
    const r = feed(() => 100, { ...opts, minTimeMs: 1 });
    expect(r).toEqual({ decision: 'converged', count: 10, relHalfWidth: 0 });
  });

  it('a noisy stream times out and reports the interval it achieved', () => {
    const rng = makeRng(1, 'noise');
    const r = feed(() => 5 + 10 * rng());
    expect(r.decision).toBe('timeout');
    expect(r.relHalfWidth).toBeGreaterThan(0.02);
    expect(r.relHalfWidth).toBeLessThan(0.2);
  });

  it('a drifting stream (throttling) times out', () => {
    const r = feed((i) => 10 + 0.05 * i);
    expect(r.decision).toBe('timeout');
    expect(r.relHalfWidth).toBeGreaterThan(0.02);
  });

  it('a bimodal stream times out: its median is not pinned down', () => {
    const r = feed((i) => (i % 2 ? 20 : 10));
    expect(r.decision).toBe('timeout');
    expect(r.relHalfWidth).toBeGreaterThan(0.2);
  });

  it('noise small against the target converges after the minimum time', () => {
    const rng = makeRng(2, 'small-noise');
    const r = feed(() => 10 * (1 + 0.02 * (rng() - 0.5)));
    expect(r.decision).toBe('converged');
    expect(r.relHalfWidth).toBeLessThanOrEqual(0.02);
  });

  it('calls that take no measurable time stop at the maximum sample count', () => {
    const r = feed(() => 0, { ...opts, maxSamples: 500 });
    expect(r).toEqual({ decision: 'converged', count: 500, relHalfWidth: 0 });
  });

  it('a noisy stream of very fast calls stops at the maximum sample count as noisy', () => {
    const r = feed((i) => (i % 2 ? 0.002 : 0.001), { ...opts, maxSamples: 500 });
    expect(r.decision).toBe('timeout');
    expect(r.count).toBe(500);
  });

  it('calls that drift slowly need more samples than the same values in random order', () => {
    // 10 ms ± 1%: a slow drift over 314 calls, and the same values scrambled
    const drift = (i: number) => 10 * (1 + 0.01 * Math.sin(i / 50));
    const scrambled = (i: number) => drift((i * 7919) % 100_000);
    const loose = { ...opts, targetRelHalfWidth: 0.003, maxTimeMs: 100_000 };
    expect(feed(drift, loose).count).toBeGreaterThan(3 * feed(scrambled, loose).count);
  });

  it('one call slower than the maximum time ends sampling after that call', () => {
    const r = feed(() => 5000);
    expect(r.decision).toBe('timeout');
    expect(r.count).toBe(1);
  });
});

describe('warm-up rule', () => {
  const warm = { minSamples: 3, minTimeMs: 0, maxTimeMs: 1000, maxSamples: 1000, stableWithin: 0.05 };

  function warmCount(samples: number[], o = warm) {
    const rule = new WarmupRule(o);
    let elapsed = 0;
    for (const [i, ms] of samples.entries()) {
      rule.add(ms);
      elapsed += ms;
      if (rule.done(elapsed)) return i + 1;
    }
    return -1;
  }

  it('waits while calls are still getting faster', () => {
    // the first two equal calls in a row end it
    expect(warmCount([80, 40, 20, 10, 10, 10, 10, 10])).toBe(5);
  });

  it('stops at the maximum time even if never stable', () => {
    expect(warmCount([400, 300, 200, 100, 50])).toBe(4);
  });

  it('stops at the maximum sample count when time does not advance', () => {
    expect(warmCount(Array(2000).fill(0), { ...warm, minTimeMs: 100 })).toBe(1000);
  });

  it('needs the minimum number of samples', () => {
    expect(warmCount([1, 1, 1, 1], { ...warm, minSamples: 4 })).toBe(4);
  });
});

describe('why a case stayed noisy', () => {
  const rule = { targetRelHalfWidth: 0.02, minSamples: 10, minTimeMs: 500, maxTimeMs: 10_000, maxSamples: 10_000 };
  it('too few samples: says so, not an interval', () => {
    expect(noisyReason(rule, 3, Infinity, 0)).toBe(
      'took 3 sample(s) in 10000 ms, fewer than the 10 the stopping rule needs: raise --max-time-ms for calls this slow',
    );
  });
  it('independent calls: the interval it reached', () => {
    expect(noisyReason(rule, 400, 0.031, 0.1)).toBe(
      'did not reach ±2.0% in 10000 ms (400 samples): the 95% interval of the median (corrected for correlated calls) stayed at ±3.1%',
    );
  });
  it('stopped by the sample cap, not the time limit: says so, with the time it took', () => {
    expect(noisyReason(rule, 10_000, 0.031, 0, 212.4)).toBe(
      'stopped at the 10000-sample cap after 212 ms without reaching ±2.0%: the 95% interval of the median (corrected for correlated calls) stayed at ±3.1%',
    );
  });
  it('stopped by the time limit: the time it sampled', () => {
    expect(noisyReason(rule, 400, 0.031, 0, 10_004.6)).toMatch(/^did not reach ±2\.0% in 10005 ms \(400 samples\)/);
  });
  it('correlated calls: how many fewer independent calls they count as', () => {
    expect(noisyReason(rule, 400, 0.031, 0.5)).toBe(
      "did not reach ±2.0% in 10000 ms (400 samples): the 95% interval of the median (corrected for correlated calls) stayed at ±3.1%; successive calls were correlated (lag-1 0.50: slow and fast calls came in runs, as when the host's load drifts), so they count as 3.0× fewer independent calls",
    );
  });
});
