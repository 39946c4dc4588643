import { z } from 'zod';

/**
 * The one schema of moebench result files, shared by the writer and every reader.
 * Bump MINOR for additive, optional fields (older files still validate);
 * bump MAJOR when a reader of the old version would misread the new file.
 */
export const SCHEMA_MAJOR = 1;
export const SCHEMA_MINOR = 8;
export const SCHEMA_VERSION = `${SCHEMA_MAJOR}.${SCHEMA_MINOR}`;

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const nonNegative = finite.refine((x) => x >= 0, 'must be ≥ 0');
const positive = finite.refine((x) => x > 0, 'must be > 0');

const HostCheckSchema = z.object({
  cpus: z.number().int(),
  loadAverage1m: z.number(),
  busyProcesses: z.array(z.object({ pid: z.number().int(), name: z.string(), cpuPercent: z.number() })),
  calibration: z.object({ loopMs: z.number(), spread: z.number(), between: z.number() }).optional(),
  /** Since 1.7: passes over a buffer past the last-level cache, in the same two processes. */
  memory: z.object({ passMs: z.number(), spread: z.number(), between: z.number() }).optional(),
  noisy: z.boolean(),
  reasons: z.array(z.string()),
});

export const GpuDuringSchema = z.object({
  readings: z.number().int().positive(),
  smClockMHz: z.object({ min: nonNegative, median: nonNegative, max: nonNegative }),
  temperatureC: z.object({ max: finite }),
});
export type GpuDuring = z.infer<typeof GpuDuringSchema>;

export const GpuInfoSchema = z.object({
  index: z.number().int(),
  name: z.string(),
  uuid: z.string(),
  memoryTotalMiB: z.number().optional(),
  driverVersion: z.string().optional(),
  smClockMHz: z.number().optional(),
  maxSmClockMHz: z.number().optional(),
  powerLimitW: z.number().optional(),
  temperatureC: z.number().optional(),
});

export const EnvironmentSchema = z.object({
  host: z.string(),
  os: z.object({ platform: z.string(), release: z.string(), arch: z.string() }),
  cpu: z.object({ model: z.string(), cores: z.number().int() }),
  memoryBytes: z.number(),
  node: z.string(),
  /** Versions of the engine packages that were installed. */
  packages: z.record(z.string(), z.string()),
  /** Execution providers / backends that probed available. */
  backendsAvailable: z.array(z.string()),
  gpus: z.array(GpuInfoSchema),
  moebench: z.object({ version: z.string(), gitSha: z.string().optional() }),
  commandLine: z.array(z.string()),
  /** Environment variables that change what runs where (VK_ICD_FILENAMES, CUDA_VISIBLE_DEVICES, ...). */
  envVars: z.record(z.string(), z.string()),
  startedAt: z.string(),
  endedAt: z.string().optional(),
  /** Since 1.6: the Slurm job the run ran in (moebench slurm); recorded, never compared by resume (a requeued task gets new ids). */
  slurm: z
    .object({
      jobId: z.string(),
      arrayJobId: z.string().optional(),
      arrayTaskId: z.string().optional(),
      partition: z.string().optional(),
      nodeList: z.string().optional(),
      restartCount: z.string().optional(),
    })
    .optional(),
  /** Since 1.3: how busy the host was just before the first case, and why it was judged noisy (env/hostLoad.ts). */
  hostCheck: HostCheckSchema.optional(),
  /**
   * Since 1.8: the same check after the last case of a run long enough to drift over (commands/run.ts):
   * a host that changed during the run, beside the one it started on.
   */
  hostCheckAfter: HostCheckSchema.optional(),
});

const DtypeSchema = z.enum(['fp32', 'tf32', 'fp16', 'bf16', 'fp8']);

export const RoutingSchema = z.union([
  z.object({ kind: z.literal('uniform') }),
  z.object({ kind: z.literal('zipf'), exponent: nonNegative }),
  z.object({ kind: z.literal('hot'), fraction: nonNegative }),
  z.object({ kind: z.literal('file'), path: z.string(), assignments: z.array(z.array(z.number().int())) }),
]);

export const WorkloadSchema = z.object({
  preset: z.string(),
  layer: z.union([
    z.object({ kind: z.literal('dense'), hiddenSize: z.number().int(), intermediateSize: z.number().int() }),
    z.object({
      kind: z.literal('moe'), hiddenSize: z.number().int(), expertIntermediateSize: z.number().int(),
      numExperts: z.number().int(), topK: z.number().int(), numSharedExperts: z.number().int(),
      sharedIntermediateSize: z.number().int(), renormalize: z.boolean(),
    }),
    /** Since 1.5: the roofline probe, a chain of `depth` d×d products (presets.ts MatmulShape). */
    z.object({ kind: z.literal('matmul'), hiddenSize: z.number().int(), depth: z.number().int() }),
    /** Since 1.5: grouped-query attention (presets.ts GqaShape). */
    z.object({
      kind: z.literal('attention'), form: z.literal('gqa'), hiddenSize: z.number().int(), numHeads: z.number().int(),
      numKvHeads: z.number().int(), headDim: z.number().int(), ropeTheta: z.number(), defaultContext: z.number().int(),
    }),
    /** Since 1.5: DeepSeek's multi-head latent attention (presets.ts MlaShape). */
    z.object({
      kind: z.literal('attention'), form: z.literal('mla'), hiddenSize: z.number().int(), numHeads: z.number().int(),
      qLoraRank: z.number().int(), kvLoraRank: z.number().int(), qkNopeHeadDim: z.number().int(), qkRopeHeadDim: z.number().int(),
      vHeadDim: z.number().int(), ropeTheta: z.number(), defaultContext: z.number().int(),
    }),
  ]),
  phase: z.enum(['prefill', 'decode']),
  batch: z.number().int(),
  seqLen: z.number().int(),
  numTokens: z.number().int(),
  /** Since 1.4: tf32 (float32 storage, TF32 tensor-core matmuls on purpose). Since 1.6: bf16 and fp8 (the torch peers). */
  dtype: DtypeSchema,
  seed: z.number().int(),
  moeImpl: z.enum(['routed', 'fused', 'dense-all']).optional(),
  routing: RoutingSchema.optional(),
  expertsPerCard: z.number().int().optional(),
  /** Since 1.5: attention decode's KV-cache length per sequence. */
  context: z.number().int().optional(),
  /** Since 1.5: attention's formulation; absent is standard. */
  attnImpl: z.enum(['standard', 'fused']).optional(),
  /** Since 1.5: attention decode's spread of cache lengths over the batch (spec.ts contextsOf). */
  contextSpread: z.number().optional(),
});

export const WorkSchema = z.object({
  tokensPerCall: positive,
  flopsPerCall: nonNegative,
  bytesPerCall: nonNegative,
  /** Since 1.5: attention's projections and its QKᵀ and PV products. */
  flops: z.object({
    router: nonNegative, routedExperts: nonNegative, sharedExperts: nonNegative, dense: nonNegative,
    attention: nonNegative.optional(),
  }),
  /** Since 1.5: the KV cache attention decode reads. */
  bytes: z.object({ weights: nonNegative, activations: nonNegative, kvCache: nonNegative.optional() }),
  expertTokens: z.array(z.number().int()).optional(),
  receivedTokens: z.number().int().optional(),
});

export const SummarySchema = z.object({
  count: z.number().int().positive(),
  medianMs: nonNegative,
  meanMs: nonNegative,
  minMs: nonNegative,
  maxMs: nonNegative,
  p10Ms: nonNegative,
  p90Ms: nonNegative,
  stddevMs: nonNegative,
  madMs: nonNegative,
  medianCi95Ms: z.tuple([nonNegative, nonNegative]),
  medianCiRelHalfWidth: nonNegative,
  outliers: z.number().int(),
  /** Since 1.1: lag-1 autocorrelation of "at most the median" in time order (see medianIndicatorLag1). */
  lag1Autocorrelation: z.number().optional(),
});

export const ThroughputSchema = z.object({
  tokensPerSec: nonNegative,
  gflopsPerSec: nonNegative,
  gbytesPerSec: nonNegative,
});

export const CorrectnessSchema = z.object({
  relativeL2Error: z.number(),
  tolerance: positive,
  rowsChecked: z.number().int(),
  rowsTotal: z.number().int(),
  passed: z.boolean(),
});

export const CaseStatusSchema = z.enum(['ok', 'invalid', 'noisy', 'failed', 'skipped']);

const OverheadSchema = z.object({ medianMs: nonNegative, medianCi95Ms: z.tuple([nonNegative, nonNegative]), count: z.number().int() });

const CaseBaseSchema = z.object({
  /** Since 1.4: the math mode the case ran in, and NVIDIA_TF32_OVERRIDE as its process had it (0: TF32 off in cuBLAS and cuDNN). */
  math: z.object({ mode: DtypeSchema, tf32Override: z.string().optional() }).optional(),
  id: z.string(),
  workload: WorkloadSchema,
  backend: z.string(),
  engine: z.string(),
  executionProvider: z.string(),
  /** The card the case ran on: "cpu" or "gpu:N". */
  device: z.string(),
  work: WorkSchema,
  correctness: CorrectnessSchema.optional(),
  details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  /** The no-work model with the same inputs and output: the fixed cost of one call. */
  overhead: OverheadSchema.optional(),
  /** Fraction of the datasheet roofline floor, when the card's peaks are known. */
  roofline: z.object({
    card: z.string(), dtype: z.string(), peakTflops: positive, peakTBps: positive, floorMs: nonNegative,
    fraction: nonNegative, bound: z.enum(['compute', 'memory']), source: z.string(),
    /** Since 1.4: faster than the card's memory bandwidth allows: the weights were served from its cache (L2), not its memory. */
    cacheResident: z.boolean().optional(),
  }).optional(),
  /** The engine's memory figures (TF.js tf.memory()) after load, after the first call and after all timed calls. */
  memory: z.record(z.string(), z.record(z.string(), z.number())).optional(),
  /** ORT profiler summary per operator type (--profile). */
  profile: z.array(z.object({ opType: z.string(), callsPerRun: nonNegative, usPerRun: nonNegative, fraction: nonNegative })).optional(),
  /**
   * With --repetitions N: each repetition's own median and interval. The case's samples are then
   * pooled; summary.medianMs is the geometric mean of the repetitions' medians and its interval is
   * Student's t over their logs (see repetitionMedian); files before 1.3 used the arithmetic mean.
   */
  repetitions: z.array(z.object({
    status: CaseStatusSchema, medianMs: nonNegative.optional(), medianCi95Ms: z.tuple([nonNegative, nonNegative]).optional(), count: z.number().int().optional(),
    /** Since 1.1: this process's warm-up sample count and overhead, so a resumed run can split the case back into its processes. */
    warmupCount: z.number().int().optional(),
    overhead: OverheadSchema.optional(),
    /** Since 1.2: why this process was noisy, and its card's readings, so the combined case can say which and a resume keeps them. */
    error: z.string().optional(),
    gpuDuring: GpuDuringSchema.optional(),
  })).optional(),
  /** The card's clocks and temperature just before and after the case, so throttling shows. */
  gpuBefore: GpuInfoSchema.optional(),
  /** Since 1.2: the card read every 250 ms through warm-up and the timed calls (nvidia-smi -lms). */
  gpuDuring: GpuDuringSchema.optional(),
  gpuAfter: GpuInfoSchema.optional(),
  startedAt: z.string(),
  endedAt: z.string(),
});

/** ok: measured and correct, within the target interval; noisy: measured and correct, the interval wider than the target (error says why). */
const MeasuredCaseSchema = CaseBaseSchema.extend({
  status: z.enum(['ok', 'noisy']),
  error: z.string().optional(),
  warmupSamplesMs: z.array(nonNegative).optional(),
  samplesMs: z.array(nonNegative, { error: 'status ok or noisy needs samplesMs, summary and throughput' }),
  summary: SummarySchema,
  throughput: ThroughputSchema,
  /** Throughput from (raw median − overhead median); absent when the overhead is not smaller than the call. */
  throughputCorrected: ThroughputSchema.extend({ medianMs: positive }).optional(),
});

/** Cases with no throughput: their timing fields are absent, so code cannot read a summary they do not have. */
const unmeasured = (status: string) => {
  const absent = (what: string) => z.undefined({ error: `status ${status} must not carry ${what}` }).optional();
  return {
    warmupSamplesMs: absent('samples'),
    samplesMs: absent('samples'),
    summary: absent('a summary'),
    throughput: absent('a throughput'),
    throughputCorrected: absent('a throughput'),
  };
};

/** invalid: wrong output (correctness says by how much), never timed; failed: see error; skipped: the backend cannot run this case (error says why). */
const InvalidCaseSchema = CaseBaseSchema.extend({ status: z.literal('invalid'), error: z.string().optional(), ...unmeasured('invalid') });
const FailedCaseSchema = CaseBaseSchema.extend({ status: z.literal('failed'), error: z.string({ error: 'status failed needs an error' }), ...unmeasured('failed') });
const SkippedCaseSchema = CaseBaseSchema.extend({ status: z.literal('skipped'), error: z.string({ error: 'status skipped needs an error' }), ...unmeasured('skipped') });

/** One case's result, a union on status (tinybench's shape): only ok and noisy cases have samples, a summary and a throughput. */
export const CaseResultSchema = z.discriminatedUnion('status', [MeasuredCaseSchema, InvalidCaseSchema, FailedCaseSchema, SkippedCaseSchema]);

export const ResultFileSchema = z.object({
  schemaVersion: z.string().regex(/^\d+\.\d+$/),
  tool: z.literal('moebench'),
  environment: EnvironmentSchema,
  run: z.object({
    suite: z.string().optional(),
    backend: z.string(),
    device: z.string(),
    options: z.record(z.string(), z.unknown()),
  }),
  cases: z.array(CaseResultSchema),
  /** Fits of time = a + b·tokens for workloads measured at three or more token counts. */
  sweeps: z.array(z.object({
    key: z.string(), backend: z.string(), device: z.string().optional(),
    points: z.array(z.object({ tokens: positive, medianMs: nonNegative, caseId: z.string() })),
    interceptMs: finite, slopeMsPerToken: finite, marginalTokensPerSec: positive.optional(), rSquared: finite,
  })).optional(),
  /** sha256 of the file's content without this field; detects files altered after the harness wrote them. */
  integrity: z.string(),
});

export type GpuInfo = z.infer<typeof GpuInfoSchema>;
export type Environment = z.infer<typeof EnvironmentSchema>;
export type CaseResult = z.infer<typeof CaseResultSchema>;
export type MeasuredCase = z.infer<typeof MeasuredCaseSchema>;
/** A case in the making: any status, with whatever timing fields it has (the workers' and combiners' view). */
export type CaseDraft = z.infer<typeof CaseBaseSchema> & Partial<Omit<MeasuredCase, keyof z.infer<typeof CaseBaseSchema>>> & { status: CaseStatus; error?: string };
export type CaseStatus = z.infer<typeof CaseStatusSchema>;
export type ResultFile = z.infer<typeof ResultFileSchema>;
export type ResultFileBody = Omit<ResultFile, 'integrity'>;

/** One run inside a collection: a result file's content, named by where it came from. */
export const CollectedRunSchema = z.object({
  source: z.string(),
  /** The original file's integrity digest, verified when it was merged. */
  sourceIntegrity: z.string(),
  environment: EnvironmentSchema,
  run: ResultFileSchema.shape.run,
  cases: z.array(CaseResultSchema),
});

/** One task of a `moebench slurm` array as it ended: from its exit-status file, Slurm's job record and its log. */
export const SlurmTaskSchema = z.object({
  arrayJobId: z.string(),
  taskId: z.number().int(),
  /** done: exit 0; failed: a non-zero exit; interrupted: stopped by a signal (scancel, a time limit), its file resumable; unknown: no exit status (never ran, or killed hard). */
  outcome: z.enum(['done', 'failed', 'interrupted', 'unknown']),
  exitCode: z.number().int().optional(),
  /** Slurm's own word (COMPLETED, FAILED, CANCELLED, TIMEOUT, NODE_FAIL, ...) where it still knows the job. */
  slurmState: z.string().optional(),
  node: z.string().optional(),
  /** Why it failed: the last line moebench wrote to the task's log, or Slurm's reason. */
  reason: z.string().optional(),
  log: z.string(),
  files: z.array(z.string()),
});
export type SlurmTask = z.infer<typeof SlurmTaskSchema>;

/** Result files from many hosts folded into one, de-duplicated by (host, card uuid, backend, case, start time, Slurm task): results/merge.ts. */
export const CollectionFileSchema = z.object({
  schemaVersion: z.string().regex(/^\d+\.\d+$/),
  tool: z.literal('moebench'),
  kind: z.literal('collection'),
  runs: z.array(CollectedRunSchema),
  /** Same key, different content: the first is kept, the others are listed here, never dropped silently. */
  conflicts: z.array(z.object({ key: z.string(), kept: z.string(), other: z.string(), otherCase: CaseResultSchema })),
  /** Exact duplicates that were folded, for the record. */
  duplicates: z.number().int(),
  /** Since 1.6: the `moebench slurm` submission this collection gathers, and how each task ended. */
  slurm: z.object({ tag: z.string(), jobIds: z.array(z.string()), tasks: z.array(SlurmTaskSchema) }).optional(),
  integrity: z.string(),
});

export type CollectedRun = z.infer<typeof CollectedRunSchema>;
export type CollectionFile = z.infer<typeof CollectionFileSchema>;
