import { z } from 'zod';
import { UsageError } from '../errors.js';
import { maxThreads } from './limits.js';
import { issuesText } from '../files/benchFiles.js';
import { DEFAULT_STDREL, DEFAULT_WARMUP } from '../measure/stopping.js';
import { DEFAULTS, loadSuite } from '../workloads/plan.js';
import {
  ATTN_IMPLS,
  DTYPES,
  LAYER_KINDS,
  type AttnImpl,
  MOE_IMPLS,
  PHASES,
  type Dtype,
  type LayerKind,
  type MoeImpl,
  type Phase,
} from '../workloads/spec.js';

/**
 * Every default of `moebench run`, in one place: the CLI's help shows these, the parser fills
 * them in, and a resumed file's options are read through the same schema.
 */
export const RUN_DEFAULTS = {
  backend: 'auto',
  seed: DEFAULTS.seed,
  // One process's interval cannot see how much the next process will differ: two back-to-back
  // single-process runs of the default suite on the development VM differed by up to 11.5% with
  // intervals of ±2%. Three processes per case (JMH forks, pyperf's worker processes) put that
  // drift in the interval and let compare test processes rather than calls.
  repetitions: 3,
  caseTimeoutMs: 30 * 60_000,
  outDir: 'results',
  modelDir: 'models',
  stopping: DEFAULT_STDREL,
  warmup: DEFAULT_WARMUP,
} as const;

const positiveInt = z.number().int().positive();
const positiveNumber = z.number().positive().refine(Number.isFinite, 'must be finite');

/**
 * `moebench run` options after parsing: units in names. Fields that files written by older
 * versions lack default to what those versions did (one process per case, no profile).
 */
/** How a finished run's table is printed. */
export const RUN_FORMATS = ['table', 'markdown', 'csv', 'json'] as const;

export const RunOptionsSchema = z.object({
  suite: z.string().optional(),
  preset: z.array(z.string()).optional(),
  layer: z.array(z.enum(LAYER_KINDS as [LayerKind, ...LayerKind[]])).optional(),
  /** Since 1.5: also run the roofline suite's probes in the run's math modes (the engine's measured ceilings). */
  roofline: z.boolean().default(false),
  phase: z.array(z.enum(PHASES as [Phase, ...Phase[]])).optional(),
  tokens: z.array(positiveInt).optional(),
  dtype: z.array(z.enum(DTYPES as [Dtype, ...Dtype[]])).optional(),
  moeImpl: z.array(z.enum(MOE_IMPLS as [MoeImpl, ...MoeImpl[]])).optional(),
  routing: z.array(z.string()).optional(),
  expertsPerCard: positiveInt.optional(),
  topK: z.array(positiveInt).optional(),
  experts: positiveInt.optional(),
  /** Since 1.5: attention decode's KV-cache lengths. */
  context: z.array(positiveInt).optional(),
  /** Since 1.5: attention decode's spread of cache lengths over the batch (fused only). */
  contextSpread: z.number().optional(),
  /** Since 1.5: attention's formulations. */
  attnImpl: z.array(z.enum(ATTN_IMPLS as [AttnImpl, ...AttnImpl[]])).optional(),
  /** auto, all-available or an engine's name; undefined: the suite's backend, else auto. */
  backend: z.string().optional(),
  /** --device N: nvidia-smi's index of the card; undefined: the first card CUDA may use. */
  device: z.number().int().nonnegative().optional(),
  /** --device all: one process per GPU. */
  deviceAll: z.boolean().default(false),
  /** Card whose datasheet peaks give the roofline, when it cannot be detected. */
  card: z.string().optional(),
  /** Per-case wall-clock limit; past it the case worker is killed and the case fails. */
  caseTimeoutMs: positiveNumber.default(RUN_DEFAULTS.caseTimeoutMs),
  /** V8 heap limit of each case worker, MiB. */
  heapLimitMb: positiveNumber.optional(),
  profile: z.boolean().default(false),
  /** Each case runs in this many separate worker processes; its interval then covers the spread between them. */
  repetitions: positiveInt.default(1),
  /** Wall-clock budget for the whole run (a suite's timeBudgetS, or --time-budget-s); each process's sampling time is capped to its share. */
  timeBudgetMs: positiveNumber.optional(),
  /** Intra-op CPU threads of ONNX Runtime; undefined leaves its default (one per physical core). */
  threads: positiveInt.optional(),
  seed: z.number().int().default(RUN_DEFAULTS.seed),
  out: z.string().optional(),
  outDir: z.string().default(RUN_DEFAULTS.outDir),
  modelDir: z.string().default(RUN_DEFAULTS.modelDir),
  /** Replace an existing --out (moved aside to a .bak first); without it an existing file is refused. */
  force: z.boolean().default(false),
  json: z.boolean().default(false),
  /** How the finished run's table is printed: table, markdown, csv, or json (= --json). */
  format: z.enum(RUN_FORMATS).default('table'),
  dryRun: z.boolean().default(false),
  warmup: z
    .object({ minSamples: positiveInt, minTimeMs: positiveNumber, maxTimeMs: positiveNumber, maxSamples: positiveInt, stableWithin: positiveNumber })
    .default(RUN_DEFAULTS.warmup),
  stopping: z.object({
    targetRelHalfWidth: positiveNumber,
    minSamples: positiveNumber,
    minTimeMs: positiveNumber,
    maxTimeMs: positiveNumber,
    maxSamples: positiveInt,
  }),
});

export type RunOptions = z.infer<typeof RunOptionsSchema>;

/** The options a result file recorded, for --resume: validated, never cast. */
export function recordedRunOptions(recorded: Record<string, unknown>, path: string): RunOptions {
  const parsed = RunOptionsSchema.safeParse(recorded);
  if (!parsed.success) throw new UsageError(`${path}: its recorded run options cannot be resumed: ${issuesText(parsed.error)}`);
  return parsed.data;
}

/** An option's camelCase key as its command-line flag: maxTimeMs → max-time-ms. */
const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Options built from the command line → validated; a value out of range names its option (--seed, not seed). */
function checked(raw: Record<string, unknown>): RunOptions {
  const parsed = RunOptionsSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const flag = kebab(String(issue.path[0] ?? ''));
  throw new UsageError(
    `--${flag}${issue.path.length > 1 ? ` (${issue.path.slice(1).join('.')})` : ''}: ${issue.message}, got ${JSON.stringify(raw[String(issue.path[0])])}`,
  );
}

// ---- the command line → RunOptions --------------------------------------------------------------

const csv = (v: unknown): string[] | undefined =>
  v === undefined
    ? undefined
    : (Array.isArray(v) ? v : [v])
        .flatMap((x) => String(x).split(','))
        .map((s) => s.trim())
        .filter(Boolean);

/** A list option given with nothing in it (--phase '', --tokens ,) would plan no case at all: refused. */
function listOf(name: string, v: unknown): string[] | undefined {
  const items = csv(v);
  if (items && items.length === 0) throw new UsageError(`--${name} was given no value (got ${JSON.stringify(v)}): name at least one`);
  return items;
}

export function csvOf<T extends string>(name: string, v: unknown, allowed: readonly T[]): T[] | undefined {
  const items = listOf(name, v);
  for (const i of items ?? []) if (!allowed.includes(i as T)) throw new UsageError(`--${name} "${i}": use ${allowed.join(', ')}`);
  return items as T[] | undefined;
}

function intsOf(name: string, v: unknown): number[] | undefined {
  return listOf(name, v)?.map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} must be positive integers, got "${s}"`);
    return n;
  });
}

/** A significance level or other probability: strictly between 0 and 1. */
export function probability(name: string, v: unknown, below = 1, why = ''): number {
  const n = Number(v);
  if (!(n > 0 && n < below)) throw new UsageError(`--${name} must be between 0 and ${below} (exclusive${why}), got "${v}"`);
  return n;
}

/** Below this a case process cannot even start: V8 aborts while loading its own snapshot. */
export const MIN_CASE_HEAP_MB = 64;

function atLeast(name: string, v: number, min: number, why: string): number {
  if (v < min) throw new UsageError(`--${name} ${v} is less than ${min}: ${why}`);
  return v;
}

function atMost(name: string, v: number | undefined, max: number, why: string): number | undefined {
  if (v !== undefined && v > max) throw new UsageError(`--${name} ${v} is more than ${max}: ${why}`);
  return v;
}

export function positive(name: string, v: unknown): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number, got "${v}"`);
  return n;
}

function sweepTokens(v: unknown): number[] | undefined {
  if (v === undefined) return undefined;
  const m = /^tokens=(.+)$/.exec(String(v));
  if (!m) throw new UsageError(`--sweep "${v}": use --sweep tokens=64,128,256`);
  const tokens = intsOf('sweep', m[1])!;
  if (new Set(tokens).size < 3) throw new UsageError('--sweep needs at least three token counts to fit time = a + b·tokens');
  return tokens;
}

/**
 * The stopping rule's minimum and maximum time per case. A maximum under the default minimum (a
 * quick check) lowers the minimum to it; an explicit minimum over the maximum is refused: the
 * case could then only ever stop at the maximum, as noisy.
 */
function sampleTimes(argv: Record<string, unknown>): { minTimeMs: number; maxTimeMs: number } {
  const maxTimeMs = positive('max-time-ms', argv.maxTimeMs ?? RUN_DEFAULTS.stopping.maxTimeMs);
  if (argv.minTimeMs === undefined) return { minTimeMs: Math.min(RUN_DEFAULTS.stopping.minTimeMs, maxTimeMs), maxTimeMs };
  const minTimeMs = positive('min-time-ms', argv.minTimeMs);
  if (minTimeMs > maxTimeMs)
    throw new UsageError(
      `--min-time-ms ${minTimeMs} is more than --max-time-ms ${maxTimeMs}: no case could stop before the maximum, so every one would be noisy`,
    );
  return { minTimeMs, maxTimeMs };
}

/** Options that take one value: yargs turns a repeated one into an array, which would be read wrongly ("3" and "1" as 3,1). */
const SCALAR_OPTIONS = [
  'suite',
  'backend',
  'device',
  'card',
  'sweep',
  'repetitions',
  'threads',
  'caseTimeoutS',
  'caseMemoryMb',
  'expertsPerCard',
  'experts',
  'contextSpread',
  'seed',
  'out',
  'resume',
  'modelDir',
  'targetCi',
  'minSamples',
  'minTimeMs',
  'maxTimeMs',
  'timeBudgetS',
];

/** A scalar option given more than once, or a comma list where one value is meant, is refused by name. */
function refuseRepeated(argv: Record<string, unknown>): void {
  for (const name of SCALAR_OPTIONS) {
    const v = argv[name];
    if (Array.isArray(v)) throw new UsageError(`--${kebab(name)} was given ${v.length} times (${v.join(', ')}): give it once`);
  }
}

/** Options a resumed run takes from its file: given beside --resume they would be ignored, so they are refused. */
const RECORDED_OPTIONS = [
  ...SCALAR_OPTIONS.filter((n) => n !== 'resume'),
  'preset',
  'layer',
  'phase',
  'tokens',
  'dtype',
  'moeImpl',
  'routing',
  'topK',
  'context',
  'attnImpl',
  'profile',
  'roofline',
  'force',
];

/** `run --resume FILE` continues FILE with the options recorded in it; only --json, --format and --dry-run may be added. */
export function refuseIgnoredWithResume(argv: Record<string, unknown>): void {
  if (argv.resume === undefined) return;
  const given = RECORDED_OPTIONS.filter((n) => argv[n] !== undefined && argv[n] !== false);
  if (given.length)
    throw new UsageError(
      `--resume continues ${String(argv.resume)} with the options recorded in it, so ${given.map((n) => `--${kebab(n)}`).join(', ')} would be ignored: drop ${given.length > 1 ? 'them' : 'it'}, or start a new run with another --out`,
    );
}

/** A whole number that a result file can hold exactly (--seed 1.5, abc or 1e20 are refused). */
function integerOption(name: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new UsageError(`--${name} must be a whole number of at most 2^53, got "${v}"`);
  return n;
}

/** yargs' parsed arguments of `run` → validated options, every default filled in from RUN_DEFAULTS. */
export function runOptionsFrom(argv: Record<string, unknown>): RunOptions {
  refuseRepeated(argv);
  refuseIgnoredWithResume(argv);
  const deviceAll = argv.device === 'all';
  const device = deviceAll || argv.device === undefined ? undefined : Number(argv.device);
  if (device !== undefined && (!Number.isInteger(device) || device < 0))
    throw new UsageError(`--device must be a GPU index (0, 1, ...) or all, got "${argv.device}"`);
  const sweep = sweepTokens(argv.sweep);
  if (sweep && argv.tokens !== undefined) throw new UsageError('--sweep tokens=... and --tokens both set the token counts: use one');
  const one = (name: string, v: unknown) => {
    const values = v === undefined ? undefined : intsOf(name, v);
    if (values && values.length > 1) throw new UsageError(`--${name} takes one value, got "${String(v)}"`);
    return values?.[0];
  };
  // a suite may carry its own processes per case and time budget (the default suite's first look)
  const suite = argv.preset !== undefined && argv.suite === undefined ? undefined : loadSuite(String(argv.suite ?? 'default'));
  const thorough = argv.repetitions !== undefined || argv.maxTimeMs !== undefined;
  const budgetS = argv.timeBudgetS !== undefined ? positive('time-budget-s', argv.timeBudgetS) : thorough ? undefined : suite?.timeBudgetS;
  return checked({
    suite: argv.suite as string | undefined,
    preset: listOf('preset', argv.preset),
    layer: csvOf('layer', argv.layer, LAYER_KINDS),
    roofline: Boolean(argv.roofline),
    phase: csvOf('phase', argv.phase, PHASES),
    tokens: sweep ?? intsOf('tokens', argv.tokens),
    dtype: csvOf('dtype', argv.dtype, DTYPES),
    moeImpl: csvOf('moe-impl', argv.moeImpl, MOE_IMPLS),
    routing: listOf('routing', argv.routing),
    expertsPerCard: one('experts-per-card', argv.expertsPerCard),
    topK: intsOf('top-k', argv.topK),
    experts: one('experts', argv.experts),
    context: intsOf('context', argv.context),
    attnImpl: csvOf('attn-impl', argv.attnImpl, ATTN_IMPLS),
    contextSpread: argv.contextSpread === undefined ? undefined : Number(argv.contextSpread),
    backend: argv.backend as string | undefined,
    device,
    deviceAll,
    card: argv.card as string | undefined,
    caseTimeoutMs: argv.caseTimeoutS === undefined ? undefined : positive('case-timeout-s', argv.caseTimeoutS) * 1000,
    heapLimitMb:
      argv.caseMemoryMb === undefined
        ? undefined
        : atLeast(
            'case-memory-mb',
            positive('case-memory-mb', argv.caseMemoryMb),
            MIN_CASE_HEAP_MB,
            'a case process needs that much V8 heap to start (Node, the engine bindings and the case inputs)',
          ),
    profile: Boolean(argv.profile),
    repetitions: one('repetitions', argv.repetitions) ?? suite?.repetitions ?? RUN_DEFAULTS.repetitions,
    timeBudgetMs: budgetS === undefined ? undefined : budgetS * 1000,
    threads: atMost(
      'threads',
      one('threads', argv.threads),
      maxThreads(),
      'each intra-op thread reserves its own stack, and no host has that many cores',
    ),
    seed: integerOption('seed', argv.seed),
    out: argv.out as string | undefined,
    modelDir: argv.modelDir as string | undefined,
    force: Boolean(argv.force),
    json: Boolean(argv.json) || argv.format === 'json',
    format: argv.json ? 'json' : (argv.format ?? 'table'),
    dryRun: Boolean(argv.dryRun),
    stopping: {
      targetRelHalfWidth: positive('target-ci', argv.targetCi ?? RUN_DEFAULTS.stopping.targetRelHalfWidth * 100) / 100,
      minSamples: one('min-samples', argv.minSamples) ?? RUN_DEFAULTS.stopping.minSamples,
      ...sampleTimes(argv),
      maxSamples: RUN_DEFAULTS.stopping.maxSamples,
    },
  });
}
