import { loadBenchFile } from './benchFiles.js';
import { DEFAULT_STDREL, DEFAULT_WARMUP, type StdRelOptions, type WarmupOptions } from './measure/stopping.js';
import { DEFAULTS, planCases, SuiteSchema, type Suite, type SuiteEntry } from './workloads/plan.js';
import type { WorkloadCase } from './workloads/spec.js';

/** `moebench run` options after parsing: defaults in one place, units in names. */
export interface RunOptions {
  suite?: string;
  preset?: string[];
  layer?: ('dense' | 'moe')[];
  phase?: ('prefill' | 'decode')[];
  tokens?: number[];
  dtype?: ('fp32' | 'fp16')[];
  moeImpl?: ('routed' | 'fused' | 'dense-all')[];
  routing?: string[];
  expertsPerCard?: number;
  topK?: number[];
  experts?: number;
  backend?: string;
  /** --device N: nvidia-smi's index of the card; undefined: the first card CUDA may use. */
  device?: number;
  /** --device all: one process per GPU. */
  deviceAll: boolean;
  /** Card whose datasheet peaks give the roofline, when it cannot be detected. */
  card?: string;
  /** Per-case wall-clock limit; past it the case worker is killed and the case fails. */
  caseTimeoutMs: number;
  /** V8 heap limit of each case worker, MiB. */
  heapLimitMb?: number;
  profile: boolean;
  /** Each case runs in this many separate worker processes; its interval then covers the spread between them. */
  repetitions: number;
  /** Intra-op CPU threads of ONNX Runtime; undefined leaves its default (one per physical core). */
  threads?: number;
  seed: number;
  out?: string;
  outDir: string;
  modelDir: string;
  json: boolean;
  dryRun: boolean;
  warmup: WarmupOptions;
  stopping: StdRelOptions;
}

export const RUN_DEFAULTS = {
  seed: DEFAULTS.seed,
  // One process's interval cannot see how much the next process will differ: two back-to-back
  // single-process runs of the default suite on the development VM differed by up to 11.5% with
  // intervals of ±2%. Three processes per case (JMH forks, pyperf's worker processes) put that
  // drift in the interval and let compare test processes rather than calls.
  repetitions: 3,
  caseTimeoutMs: 30 * 60_000,
  outDir: 'results',
  modelDir: 'models',
  targetRelHalfWidth: DEFAULT_STDREL.targetRelHalfWidth,
  minSamples: DEFAULT_STDREL.minSamples,
  minTimeMs: DEFAULT_STDREL.minTimeMs,
  maxTimeMs: DEFAULT_STDREL.maxTimeMs,
  maxSamples: DEFAULT_STDREL.maxSamples,
  warmup: DEFAULT_WARMUP,
};

/** A suite by name (bench/suites/NAME.json) or by path. */
export function loadSuite(nameOrPath: string): Suite {
  return loadBenchFile('suites', 'suite', nameOrPath, SuiteSchema);
}

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
  if (o.preset && !o.suite) {
    const entry: SuiteEntry = { preset: o.preset, ...overrides(o) };
    return { backend: o.backend ?? 'auto', cases: planCases([entry], o.seed) };
  }
  const suite = loadSuite(o.suite ?? 'default');
  const entries = suite.cases.map((e) => ({ ...e, ...(o.preset ? { preset: o.preset } : {}), ...overrides(o) }));
  return { suite, backend: o.backend ?? suite.backend, cases: planCases(entries, o.seed) };
}
