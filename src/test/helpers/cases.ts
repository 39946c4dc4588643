import type { CaseResult, MeasuredCase } from '../../results/schema.js';
import { PRESETS, type MoeShape } from '../../workloads/presets.js';
import { parseRouting } from '../../workloads/routing.js';
import { caseId, type WorkloadCase } from '../../workloads/spec.js';

/** A tiny case with overrides; the id is recomputed so it stays consistent. */
export function tinyCase(o: Partial<Omit<WorkloadCase, 'routing'>> & { routing?: string; moe?: Partial<MoeShape> } = {}): WorkloadCase {
  const { moe, routing, ...rest } = o;
  const wantsMoe = moe || routing || rest.moeImpl || rest.expertsPerCard !== undefined;
  const layer = rest.layer ?? (wantsMoe ? { ...PRESETS.tiny.moe!, ...moe } : PRESETS.tiny.dense!);
  const numTokens = rest.numTokens ?? 16;
  const c: Omit<WorkloadCase, 'id'> = {
    preset: 'tiny',
    phase: 'prefill',
    batch: 1,
    seqLen: numTokens,
    dtype: 'fp32',
    seed: 7,
    ...rest,
    numTokens,
    layer,
    ...(layer.kind === 'moe' ? { moeImpl: rest.moeImpl ?? 'routed', routing: parseRouting(routing ?? 'uniform') } : {}),
  };
  return { ...c, id: caseId(c) };
}

/** A fixture's case as the measured (ok or noisy) case it is; fails the test otherwise. */
export function measured(c: CaseResult): MeasuredCase {
  if (c.status !== 'ok' && c.status !== 'noisy') throw new Error(`fixture case ${c.id} is ${c.status}, not measured`);
  return c;
}
