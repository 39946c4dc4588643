import { UnsupportedHere, type Backend, type LoadOptions } from '../backends/backend.js';
import { checkCorrectness } from './correctness.js';
import { queryGpus } from '../env/gpus.js';
import type { GpuMonitor } from '../env/gpuMonitor.js';
import { measure, type SamplerOptions } from '../measure/sampler.js';
import { medianVarianceInflation, summarize } from '../measure/stats.js';
import type { StdRelOptions } from '../measure/stopping.js';
import type { CaseResult, GpuInfo } from '../results/schema.js';
import { accountFor } from '../workloads/accounting.js';
import type { WorkloadCase } from '../workloads/spec.js';
import { makeInputs, type CaseInputs } from '../workloads/tensors.js';
import { mathRecord, mathUnsupported } from './math.js';
import { rooflineOf, type CardPeak, type Roofline } from '../env/datasheets.js';
import { correctedThroughput, throughputOf } from '../measure/throughput.js';

export interface ExecuteOptions {
  backend: Backend;
  sampler: SamplerOptions;
  modelDir: string;
  deviceId: number;
  /** Intra-op CPU threads, where the backend can set them. */
  threads?: number;
  /** Recorded card description. */
  device: string;
  /** Reads the card's clocks and temperature; absent without a GPU. */
  readGpu?: () => GpuInfo | undefined;
  /** Starts reading the card through warm-up and the timed calls; absent without a GPU. */
  monitorGpu?: () => GpuMonitor;
  /** Datasheet peaks of the card, for the roofline fraction; absent when unknown (e.g. a CPU). */
  peak?: CardPeak;
  /** Summarise ORT's profiler over a few extra calls after the timed ones. */
  profile?: boolean;
  /** Measure the fixed per-call cost with the no-work model (default true). */
  overhead?: boolean;
  /** Told each stage as it starts, for progress on long cases; the caller decides whether to print. */
  onStage?: (stage: string) => void;
}

/** Runs of the profiling pass: enough for stable per-op means, few enough to stay cheap. */
export const PROFILE_RUNS = 10;

/** The overhead model is cheap per call; a short sampling window is enough. */
function overheadSampler(o: SamplerOptions): SamplerOptions {
  return {
    ...o,
    warmup: { ...o.warmup, minTimeMs: Math.min(o.warmup.minTimeMs, 200) },
    stopping: { ...o.stopping, minTimeMs: Math.min(o.stopping.minTimeMs, 200), maxTimeMs: Math.min(o.stopping.maxTimeMs, 2000) },
  };
}

/** Reads one card's clocks and temperature, found by UUID (its index means nothing inside a pinned worker). */
export function gpuReader(uuid: string): () => GpuInfo | undefined {
  return () => queryGpus().find((g) => g.uuid === uuid);
}

/** What the backend needs to load a case and its overhead model alike. */
function loadOptions(o: ExecuteOptions): LoadOptions {
  return { modelDir: o.modelDir, deviceId: o.deviceId, threads: o.threads };
}

/** Load → check against the reference → measure → one result. Errors become a failed result, never an exception. */
export async function executeCase(c: WorkloadCase, o: ExecuteOptions): Promise<CaseResult> {
  const base = baseResult(c, o.backend, o.device);
  const work = base.work;
  const unsupported = mathUnsupported(o.backend.placement, c.dtype) ?? o.backend.unsupported(c);
  if (unsupported)
    return { ...base, status: 'skipped', error: `not supported by ${o.backend.name}: ${unsupported}`, endedAt: new Date().toISOString() };

  const gpuBefore = o.readGpu?.();
  let loaded;
  try {
    const stage = o.onStage ?? (() => undefined);
    stage('building inputs and loading the model');
    const inputs = makeInputs(c);
    loaded = await o.backend.load(c, inputs, loadOptions(o));
    stage('checking the output against the float64 reference');
    const memoryAfterLoad = loaded.memory?.();
    const correctness = await checkCorrectness(c, inputs, loaded, undefined, o.modelDir);
    const memoryAfterFirstCall = loaded.memory?.();
    if (!correctness.passed) {
      const accuracy = o.backend.accuracyNote?.(c);
      return {
        ...base,
        status: 'invalid',
        correctness,
        details: loaded.details,
        gpuBefore,
        error: `relative L2 error ${correctness.relativeL2Error.toExponential(2)} exceeds ${correctness.tolerance} for ${c.dtype}${accuracy ? `: ${accuracy}` : ''}`,
        endedAt: new Date().toISOString(),
      };
    }
    stage('measuring');
    const monitor = o.monitorGpu?.();
    let m, gpuAfter, gpuDuring;
    try {
      m = await measure(() => loaded!.run(), o.sampler);
      // right after the timed calls, while the card still runs at its working clocks
      gpuAfter = o.readGpu?.();
    } finally {
      // never leave nvidia-smi's loop running, whatever the calls did
      gpuDuring = await monitor?.stop();
    }
    const summary = summarize(m.samplesMs, c.seed);
    const memoryAfterRuns = loaded.memory?.();
    const memory = memoryAfterLoad ? { afterLoad: memoryAfterLoad, afterFirstCall: memoryAfterFirstCall!, afterRuns: memoryAfterRuns! } : undefined;
    const leaked = memory ? memory.afterRuns.numTensors - memory.afterFirstCall.numTensors : 0;
    if (leaked > 0) {
      return {
        ...base,
        status: 'failed',
        correctness,
        memory,
        details: loaded.details,
        gpuBefore,
        error: `leak: ${leaked} tensors more after ${m.samplesMs.length + m.warmupSamplesMs.length} calls than after the first`,
        endedAt: new Date().toISOString(),
      };
    }
    const rooflineWithCompute = o.peak ? rooflineOf(o.peak, c.dtype, work.flopsPerCall, work.bytesPerCall, summary.medianMs) : undefined;
    if (rooflineWithCompute && rooflineWithCompute.computeFraction > 1) {
      return {
        ...base,
        status: 'failed',
        correctness,
        details: loaded.details,
        gpuBefore,
        error: impossibleSpeedText(c, rooflineWithCompute, summary.medianMs),
        endedAt: new Date().toISOString(),
      };
    }
    const { computeFraction: _compute, ...roofline } = rooflineWithCompute ?? { computeFraction: 0 };
    let overhead;
    if (o.overhead !== false) {
      stage('measuring the per-call overhead');
      overhead = await measureOverhead(c, inputs, o);
    }
    let profile;
    if (o.profile && loaded.profile) {
      stage('profiling');
      profile = await loaded.profile(PROFILE_RUNS);
    }
    return {
      ...base,
      status: m.converged ? 'ok' : 'noisy',
      ...(m.converged
        ? {}
        : { error: noisyReason(o.sampler.stopping, m.samplesMs.length, m.relHalfWidth, summary.lag1Autocorrelation, m.sampleTimeMs) }),
      correctness,
      warmupSamplesMs: m.warmupSamplesMs,
      samplesMs: m.samplesMs,
      summary,
      throughput: throughputOf(work, summary),
      details: loaded.details,
      ...(overhead ? { overhead, throughputCorrected: correctedThroughput(work, summary, overhead.medianMs) } : {}),
      ...(rooflineWithCompute ? { roofline: roofline as Roofline } : {}),
      ...(profile ? { profile } : {}),
      ...(memory ? { memory } : {}),
      gpuBefore,
      ...(gpuDuring ? { gpuDuring } : {}),
      gpuAfter,
      endedAt: new Date().toISOString(),
    };
  } catch (err) {
    if (err instanceof UnsupportedHere)
      return { ...base, status: 'skipped', error: `not supported by ${o.backend.name} here: ${err.message}`, endedAt: new Date().toISOString() };
    return { ...base, status: 'failed', error: errorText(err), gpuBefore, endedAt: new Date().toISOString() };
  } finally {
    await loaded?.dispose().catch(() => undefined);
  }
}

/**
 * A call faster than the card's compute peak for the case's math mode cannot be: the engine did
 * other math than asked (fp32 run as TF32 on tensor cores is the usual one), or the work
 * accounting is wrong. Either way the figure must not reach a sizing.
 */
export function impossibleSpeedText(c: WorkloadCase, r: Roofline & { computeFraction: number }, medianMs: number): string {
  return `${(r.computeFraction * 100).toFixed(0)}% of the ${r.card}'s ${c.dtype} compute peak (${r.peakTflops} TFLOP/s, ${r.source}): ${medianMs.toPrecision(4)} ms per call is faster than the card can do the case's ${c.dtype} work, so the engine did other math than asked (fp32 as TF32? --dtype tf32 measures that on purpose) or the work accounting is wrong; the figure is not used`;
}

/** Why a case stayed noisy, with what made its interval wide when it was the calls' correlation. */
export function noisyReason(stopping: StdRelOptions, samples: number, relHalfWidth: number, lag1: number, sampledMs = stopping.maxTimeMs): string {
  if (samples < stopping.minSamples) {
    return `took ${samples} sample(s) in ${Math.round(sampledMs)} ms, fewer than the ${stopping.minSamples} the stopping rule needs: raise --max-time-ms for calls this slow`;
  }
  const target = `±${(stopping.targetRelHalfWidth * 100).toFixed(1)}%`;
  // the sample cap, not the time limit, can be what stopped a case of very fast calls
  const stop =
    samples >= stopping.maxSamples
      ? `stopped at the ${stopping.maxSamples}-sample cap after ${Math.round(sampledMs)} ms without reaching ${target}`
      : `did not reach ${target} in ${Math.round(sampledMs)} ms (${samples} samples)`;
  const text = `${stop}: the 95% interval of the median (corrected for correlated calls) stayed at ±${(relHalfWidth * 100).toFixed(1)}%`;
  const inflation = medianVarianceInflation(lag1);
  // below 1.5× the correlation is not what kept the interval wide
  return inflation < 1.5
    ? text
    : `${text}; successive calls were correlated (lag-1 ${lag1.toFixed(2)}: slow and fast calls came in runs, as when the host's load drifts), so they count as ${inflation.toFixed(1)}× fewer independent calls`;
}

async function measureOverhead(c: WorkloadCase, inputs: CaseInputs, o: ExecuteOptions) {
  const loaded = await o.backend.loadOverhead(c, inputs, loadOptions(o));
  try {
    const m = await measure(() => loaded.run(), overheadSampler(o.sampler));
    const s = summarize(m.samplesMs, c.seed);
    return { medianMs: s.medianMs, medianCi95Ms: s.medianCi95Ms, count: s.count };
  } finally {
    await loaded.dispose();
  }
}

/** The fields every result has, whatever happens to the case. */
export function baseResult(
  c: WorkloadCase,
  backend: Pick<Backend, 'name' | 'engine' | 'executionProvider'>,
  device: string,
  env: NodeJS.ProcessEnv = process.env,
) {
  return {
    id: c.id,
    workload: stripId(c),
    backend: backend.name,
    engine: backend.engine,
    executionProvider: backend.executionProvider,
    device,
    work: accountFor(c),
    math: mathRecord(c.dtype, env),
    startedAt: new Date().toISOString(),
  };
}

export function stripId(c: WorkloadCase): CaseResult['workload'] {
  const { id: _id, ...workload } = c;
  return workload;
}

export function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(0, 3)
    .join(' | ');
}
