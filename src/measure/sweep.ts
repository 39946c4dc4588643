import { linearRegression, linearRegressionLine, rSquared } from 'simple-statistics';
import type { CaseResult } from '../results/schema.js';

/** time = a + b·tokens across token counts of one workload: the fixed cost and the marginal throughput. */
export interface SweepFit {
  /** The workload with its token count left out. */
  key: string;
  backend: string;
  device: string;
  points: { tokens: number; medianMs: number; caseId: string }[];
  interceptMs: number;
  slopeMsPerToken: number;
  /** 1 / slope: tokens/sec once the fixed cost is paid; absent when the slope is not positive. */
  marginalTokensPerSec?: number;
  rSquared: number;
}

export function sweepKey(c: CaseResult): string {
  return c.id.replace(/\/t\d+\//, '/t*/');
}

/** Fits every workload measured at three or more token counts. Pure. */
export function fitSweeps(cases: readonly CaseResult[]): SweepFit[] {
  const groups = new Map<string, CaseResult[]>();
  for (const c of cases) {
    if (!c.summary || (c.status !== 'ok' && c.status !== 'noisy')) continue;
    const key = `${c.backend}\u0000${c.device}\u0000${sweepKey(c)}`;
    (groups.get(key) ?? groups.set(key, []).get(key)!).push(c);
  }
  const fits: SweepFit[] = [];
  for (const group of groups.values()) {
    const points = group
      .map((c) => ({ tokens: c.work.tokensPerCall, medianMs: c.summary!.medianMs, caseId: c.id }))
      .sort((a, b) => a.tokens - b.tokens);
    if (new Set(points.map((p) => p.tokens)).size < 3) continue;
    const xy = points.map((p) => [p.tokens, p.medianMs]);
    const { m, b } = linearRegression(xy);
    const r2 = rSquared(xy, linearRegressionLine({ m, b }));
    fits.push({
      key: sweepKey(group[0]),
      backend: group[0].backend,
      device: group[0].device,
      points,
      interceptMs: b,
      slopeMsPerToken: m,
      ...(m > 0 ? { marginalTokensPerSec: 1000 / m } : {}),
      // identical times everywhere: the flat line fits exactly
      rSquared: Number.isFinite(r2) ? r2 : 1,
    });
  }
  return fits;
}
