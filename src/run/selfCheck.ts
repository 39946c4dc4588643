import type { Backend } from '../backends/backend.js';
import { chooseCard, visibleCards, type CardChoice } from '../env/cards.js';
import { queryGpus } from '../env/gpus.js';
import { describeDevice } from '../env/machine.js';
import type { CaseResult, GpuInfo } from '../results/schema.js';
import { planCases } from '../workloads/plan.js';
import type { WorkloadCase } from '../workloads/spec.js';
import { executeIsolated, probeBackend } from './isolate.js';
import { mathEnv } from './math.js';

/**
 * `moebench env --check`: what a lab user runs after `npm ci` (and `npm run setup:cuda`), and
 * attaches to a bug report. Every engine is probed; every one that loads runs a tiny dense and a
 * tiny MoE case on each card it can use, checked against the float64 reference, with a few timed
 * calls. One verdict per engine and card.
 */

export type Verdict = 'works' | 'wrong numbers' | 'fails' | 'unavailable';

export interface EngineCheck {
  backend: string;
  /** The card or host the cases ran on; absent when the engine did not load. */
  device?: string;
  verdict: Verdict;
  /** Times and errors when it works; the reason when it does not. */
  detail: string;
  fix?: string;
  cases: { id: string; status: CaseResult['status']; medianMs?: number; relativeL2Error?: number; tolerance?: number; error?: string }[];
}

/** Small enough that a case process is mostly its start-up; the MoE case is routed, with a shared expert. */
export const CHECK_CASES: WorkloadCase[] = planCases([{ preset: 'tiny', phase: 'decode', tokens: 4, moeImpl: 'routed' }]);

/** A handful of timed calls is enough to say an engine runs; the figures are not measurements. */
const QUICK = {
  warmup: { minSamples: 2, minTimeMs: 10, maxTimeMs: 200, maxSamples: 50, stableWithin: 1 },
  stopping: { targetRelHalfWidth: 1, minSamples: 5, minTimeMs: 20, maxTimeMs: 200, maxSamples: 200 },
};

/** The cards an engine can be pinned to (each CUDA card), or its one device (host, WebGPU adapter). */
function cardsFor(b: Backend, gpus: GpuInfo[]): CardChoice[] {
  if (b.placement !== 'cuda') return [chooseCard(b.name, b.placement, undefined, gpus, visibleCards(gpus, process.env.CUDA_VISIBLE_DEVICES))];
  const visible = visibleCards(gpus, process.env.CUDA_VISIBLE_DEVICES);
  if (!visible?.length) return [chooseCard(b.name, b.placement, undefined, gpus, visible)];
  return visible.map((g) => chooseCard(b.name, b.placement, g.index, gpus, visible, process.env.CUDA_VISIBLE_DEVICES));
}

export function verdictOf(cases: CaseResult[]): Pick<EngineCheck, 'verdict' | 'detail'> {
  const failed = cases.find((c) => c.status === 'failed');
  if (failed) return { verdict: 'fails', detail: `${failed.id}: ${failed.error}` };
  const wrong = cases.find((c) => c.status === 'invalid');
  if (wrong) {
    const k = wrong.correctness;
    return {
      verdict: 'wrong numbers',
      detail: `${wrong.id}: relative L2 error ${k?.relativeL2Error.toExponential(1)} against the float64 reference, over the ${k?.tolerance} allowed for ${wrong.workload.dtype}`,
    };
  }
  const times = cases.map(
    (c) => `${c.workload.layer.kind === 'moe' ? 'MoE' : 'dense'} ${c.summary ? `${c.summary.medianMs.toPrecision(3)} ms` : c.status}`,
  );
  const worst = Math.max(...cases.map((c) => c.correctness?.relativeL2Error ?? 0));
  const skipped = cases.filter((c) => c.status === 'skipped');
  return {
    verdict: 'works',
    // short enough for env --check's table to keep the error on a 120-column terminal beside
    // lavapipe's "cpu via software WebGPU" (65 columns left); the error is relative L2
    detail: `${times.join(', ')} a call, error ≤ ${worst.toExponential(1)} vs float64${skipped.length ? `; ${skipped.map((c) => `${c.id} skipped: ${c.error}`).join('; ')}` : ''}`,
  };
}

export async function selfCheck(
  backends: Backend[],
  o: { modelDir: string; progress?: (line: string) => void; timeoutMs?: number },
): Promise<EngineCheck[]> {
  const gpus = queryGpus();
  const checks: EngineCheck[] = [];
  for (const b of backends) {
    o.progress?.(`${b.name}: probing`);
    const probe = await probeBackend(b);
    if (!probe.available) {
      checks.push({ backend: b.name, verdict: 'unavailable', detail: probe.reason, fix: probe.fix, cases: [] });
      continue;
    }
    for (const choice of cardsFor(b, gpus)) {
      const device = b.deviceLabel ?? describeDevice(b.placement, choice, gpus);
      const results: CaseResult[] = [];
      for (const c of CHECK_CASES) {
        o.progress?.(`${b.name} on ${device}: ${c.id}`);
        results.push(
          await executeIsolated(
            {
              case: c,
              backend: b.name,
              deviceId: choice.deviceId,
              workerEnv: { ...choice.workerEnv, ...mathEnv(b.placement, c.dtype) },
              gpuUuid: choice.card?.uuid,
              device,
              modelDir: o.modelDir,
              ...QUICK,
              profile: false,
            },
            b,
            { timeoutMs: o.timeoutMs ?? 60_000 },
          ),
        );
      }
      checks.push({
        backend: b.name,
        device,
        ...verdictOf(results),
        cases: results.map((c) => ({
          id: c.id,
          status: c.status,
          ...(c.summary ? { medianMs: c.summary.medianMs } : {}),
          ...(c.correctness ? { relativeL2Error: c.correctness.relativeL2Error, tolerance: c.correctness.tolerance } : {}),
          ...(c.error ? { error: c.error } : {}),
        })),
      });
    }
  }
  return checks;
}
