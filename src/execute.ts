import type { Backend } from './backends/backend.js';
import { checkCorrectness } from './correctness.js';
import { queryGpus } from './env/gpus.js';
import { measure, type SamplerOptions } from './measure/sampler.js';
import { summarize, type SampleSummary } from './measure/stats.js';
import type { CaseResult, GpuInfo } from './results/schema.js';
import { accountFor, type WorkAccounting } from './workloads/accounting.js';
import type { WorkloadCase } from './workloads/spec.js';
import { makeInputs } from './workloads/tensors.js';

export interface ExecuteOptions {
  backend: Backend;
  sampler: SamplerOptions;
  modelDir: string;
  deviceId: number;
  /** Recorded card description. */
  device: string;
  /** Reads the card's clocks and temperature; absent without a GPU. */
  readGpu?: () => GpuInfo | undefined;
}

export function throughputOf(work: WorkAccounting, s: SampleSummary): NonNullable<CaseResult['throughput']> {
  const seconds = s.medianMs / 1000;
  return {
    tokensPerSec: work.tokensPerCall / seconds,
    gflopsPerSec: work.flopsPerCall / seconds / 1e9,
    gbytesPerSec: work.bytesPerCall / seconds / 1e9,
  };
}

export function gpuReader(deviceId: number): () => GpuInfo | undefined {
  return () => queryGpus().find((g) => g.index === deviceId);
}

/** Load → check against the reference → measure → one result. Errors become a failed result, never an exception. */
export async function executeCase(c: WorkloadCase, o: ExecuteOptions): Promise<CaseResult> {
  const startedAt = new Date().toISOString();
  const work = accountFor(c);
  const base = {
    id: c.id, workload: stripId(c), backend: o.backend.name, engine: o.backend.engine,
    executionProvider: o.backend.executionProvider, device: o.device, work, startedAt,
  };
  const unsupported = o.backend.unsupported(c);
  if (unsupported) return { ...base, status: 'failed', error: `unsupported: ${unsupported}`, endedAt: new Date().toISOString() };

  const gpuBefore = o.readGpu?.();
  let loaded;
  try {
    const inputs = makeInputs(c);
    loaded = await o.backend.load(c, inputs, { modelDir: o.modelDir, deviceId: o.deviceId });
    const correctness = await checkCorrectness(c, inputs, loaded);
    if (!correctness.passed) {
      return {
        ...base, status: 'invalid', correctness, details: loaded.details, gpuBefore,
        error: `relative L2 error ${correctness.relativeL2Error.toExponential(2)} exceeds ${correctness.tolerance} for ${c.dtype}`,
        endedAt: new Date().toISOString(),
      };
    }
    const m = await measure(() => loaded!.run(), o.sampler);
    const summary = summarize(m.samplesMs, c.seed);
    return {
      ...base,
      status: m.converged ? 'ok' : 'noisy',
      ...(m.converged ? {} : { error: `did not reach ±${(o.sampler.stopping.targetRelHalfWidth * 100).toFixed(1)}% in ${o.sampler.stopping.maxTimeMs} ms: achieved ±${(m.relHalfWidth * 100).toFixed(1)}%` }),
      correctness, warmupSamplesMs: m.warmupSamplesMs, samplesMs: m.samplesMs, summary,
      throughput: throughputOf(work, summary), details: loaded.details,
      gpuBefore, gpuAfter: o.readGpu?.(), endedAt: new Date().toISOString(),
    };
  } catch (err) {
    return { ...base, status: 'failed', error: errorText(err), gpuBefore, endedAt: new Date().toISOString() };
  } finally {
    await loaded?.dispose().catch(() => undefined);
  }
}

export function stripId(c: WorkloadCase): CaseResult['workload'] {
  const { id: _id, ...workload } = c;
  return workload;
}

export function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n').map((l) => l.trim()).filter(Boolean).slice(0, 3).join(' | ');
}
