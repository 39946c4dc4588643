import { loadSuite, planCases, type Suite, type SuiteEntry } from '../workloads/plan.js';
import type { WorkloadCase } from '../workloads/spec.js';
import { checkPlanning } from './limits.js';
import { RUN_DEFAULTS, type RunOptions } from './options.js';

/** Command-line axes replace the suite's values for every entry. */
function overrides(o: RunOptions): Partial<SuiteEntry> {
  const out: Partial<SuiteEntry> = {};
  if (o.layer) out.layer = o.layer;
  if (o.phase) out.phase = o.phase;
  if (o.tokens) out.tokens = o.tokens;
  if (o.dtype) out.dtype = o.dtype;
  if (o.moeImpl) out.moeImpl = o.moeImpl;
  if (o.routing) out.routing = o.routing;
  if (o.expertsPerCard !== undefined) out.expertsPerCard = o.expertsPerCard;
  if (o.topK) out.topK = o.topK;
  if (o.experts !== undefined) out.numExperts = o.experts;
  return out;
}

export interface Plan {
  suite?: Suite;
  backend: string;
  cases: WorkloadCase[];
}

/** Options → the cases to run. With neither --suite nor --preset, the default suite. */
export function planRun(o: RunOptions): Plan {
  const plan = plannedCases(o);
  checkPlanning(plan.cases);
  return plan;
}

function plannedCases(o: RunOptions): Plan {
  if (o.preset && !o.suite) {
    const entry: SuiteEntry = { preset: o.preset, ...overrides(o) };
    return { backend: o.backend ?? RUN_DEFAULTS.backend, cases: planCases([entry], o.seed) };
  }
  const suite = loadSuite(o.suite ?? 'default');
  const entries = suite.cases.map((e) => ({ ...e, ...(o.preset ? { preset: o.preset } : {}), ...overrides(o) }));
  return { suite, backend: o.backend ?? suite.backend, cases: planCases(entries, o.seed) };
}
