import { elapsedMs, hrClock, type Clock } from './clock.js';
import { DEFAULT_STDREL, DEFAULT_WARMUP, StdRelRule, WarmupRule, type StdRelOptions, type WarmupOptions } from './stopping.js';

export interface SamplerOptions {
  warmup: WarmupOptions;
  stopping: StdRelOptions;
  clock: Clock;
}

export const DEFAULT_SAMPLER: SamplerOptions = { warmup: DEFAULT_WARMUP, stopping: DEFAULT_STDREL, clock: hrClock };

const CHECK_INTERVAL_MS = 25;

export interface Measurement {
  warmupSamplesMs: number[];
  samplesMs: number[];
  /** The stopping rule's target was met; false means the case hit its maximum time and is noisy. */
  converged: boolean;
  /** Relative half-width of the median's 95% interval when sampling stopped. */
  relHalfWidth: number;
  /** Time spent sampling (not warming up). */
  sampleTimeMs: number;
}

/** Times `call` until warm, then until the stopping rule says the median is known well enough. Never prints. */
export async function measure(call: () => Promise<void>, opts: SamplerOptions = DEFAULT_SAMPLER): Promise<Measurement> {
  const { clock } = opts;
  const timeOne = async (): Promise<number> => {
    const t0 = clock.nowNs();
    await call();
    return elapsedMs(t0, clock.nowNs());
  };

  const warmup = new WarmupRule(opts.warmup);
  const warmupSamplesMs: number[] = [];
  const warmStart = clock.nowNs();
  do {
    const ms = await timeOne();
    warmup.add(ms);
    warmupSamplesMs.push(ms);
  } while (!warmup.done(elapsedMs(warmStart, clock.nowNs())));

  const rule = new StdRelRule(opts.stopping);
  const samplesMs: number[] = [];
  const start = clock.nowNs();
  // Consulting the rule sorts the samples; between fast calls that work would compete with
  // the engine's spinning worker threads, so it is done at most every 25 ms of sampling.
  let nextCheckMs = 0;
  for (;;) {
    const ms = await timeOne();
    rule.add(ms);
    samplesMs.push(ms);
    const elapsed = elapsedMs(start, clock.nowNs());
    if (elapsed < nextCheckMs && samplesMs.length < opts.stopping.maxSamples) continue;
    nextCheckMs = elapsed + CHECK_INTERVAL_MS;
    const decision = rule.decide(elapsed);
    if (decision !== 'continue') {
      return { warmupSamplesMs, samplesMs, converged: decision === 'converged', relHalfWidth: rule.relHalfWidth(), sampleTimeMs: elapsed };
    }
  }
}
