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
  if (o.context) out.context = o.context;
  if (o.attnImpl) out.attnImpl = o.attnImpl;
  if (o.contextSpread !== undefined) out.contextSpread = o.contextSpread;
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
  if (o.roofline) plan.cases = withRooflineProbes(plan.cases, o.seed);
  checkPlanning(plan.cases);
  return plan;
}

/** The roofline suite's probes in each math mode the run measures, after its own cases (none twice). */
function withRooflineProbes(cases: WorkloadCase[], seed: number): WorkloadCase[] {
  const dtype = [...new Set(cases.map((c) => c.dtype))];
  const probes = planCases(
    loadSuite('roofline').cases.map((e) => ({ ...e, dtype })),
    seed,
  );
  const ids = new Set(cases.map((c) => c.id));
  return [...cases, ...probes.filter((p) => !ids.has(p.id))];
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
