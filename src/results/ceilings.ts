import type { Dtype } from '../workloads/spec.js';
import type { CaseResult } from './schema.js';

/** One ceiling and the probe case it was read from. */
export interface Ceiling {
  value: number;
  caseId: string;
  /** ok, or noisy: a noisy probe's figure is kept, and said to be noisy wherever it is shown. */
  status: CaseResult['status'];
}

/**
 * One engine's measured roofline on one device: the fastest roofline-probe case (`run --suite
 * roofline`, `run --roofline`) per math mode for the compute ceiling, and the fastest across modes
 * for the memory ceiling (bandwidth does not depend on what the bytes hold). Read from the cases a
 * run wrote; readers never measure.
 */
export interface Ceilings {
  device: string;
  backend: string;
  gflopsPerSec: Partial<Record<Dtype, Ceiling>>;
  gbytesPerSec?: Ceiling;
}

const usableProbe = (c: CaseResult) => c.workload.layer.kind === 'matmul' && (c.status === 'ok' || c.status === 'noisy') && c.throughput !== undefined;

const byCases = new WeakMap<readonly CaseResult[], Ceilings[]>();

/** Every (device, engine) the cases hold probes for, with its ceilings; computed once per cases array. */
export function measuredCeilings(cases: readonly CaseResult[]): Ceilings[] {
  const known = byCases.get(cases);
  if (known) return known;
  const groups = new Map<string, Ceilings>();
  const better = (old: Ceiling | undefined, value: number) => !old || value > old.value;
  for (const c of cases) {
    if (!usableProbe(c)) continue;
    const key = `${c.device}\u0000${c.backend}`;
    const g = groups.get(key) ?? groups.set(key, { device: c.device, backend: c.backend, gflopsPerSec: {} }).get(key)!;
    const { gflopsPerSec, gbytesPerSec } = c.throughput!;
    if (better(g.gflopsPerSec[c.workload.dtype], gflopsPerSec)) g.gflopsPerSec[c.workload.dtype] = { value: gflopsPerSec, caseId: c.id, status: c.status };
    if (better(g.gbytesPerSec, gbytesPerSec)) g.gbytesPerSec = { value: gbytesPerSec, caseId: c.id, status: c.status };
  }
  const out = [...groups.values()];
  byCases.set(cases, out);
  return out;
}

/** The ceilings of the engine and device a case ran on, if the cases hold probes for them. */
export function ceilingsOf(cases: readonly CaseResult[], c: Pick<CaseResult, 'device' | 'backend'>): Ceilings | undefined {
  return measuredCeilings(cases).find((g) => g.device === c.device && g.backend === c.backend);
}

/**
 * A case's share of its engine's measured roofline: the time the ceilings allow for its FLOPs and
 * bytes (max of the two) over its median time; undefined without a compute ceiling in its mode.
 */
export function fractionOfCeilings(c: CaseResult, g: Ceilings): number | undefined {
  const peak = g.gflopsPerSec[c.workload.dtype];
  if (!peak || !g.gbytesPerSec || !c.summary || c.summary.medianMs <= 0) return undefined;
  const floorMs = Math.max(c.work.flopsPerCall / (peak.value * 1e9), c.work.bytesPerCall / (g.gbytesPerSec.value * 1e9)) * 1000;
  return floorMs / c.summary.medianMs;
}
