#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { envCommand } from './commands/env.js';
import { processIo, type Io } from './commands/io.js';
import { runCommand } from './commands/run.js';
import { sizeCommand } from './commands/size.js';
import { compareCommand } from './commands/compare.js';
import { mergeCommand } from './commands/merge.js';
import { reportCommand } from './commands/report.js';
import { COMPARE_DEFAULTS } from './compare/compare.js';
import { COMPARE_FORMATS } from './compare/format.js';
import { COMPOSE_DEFAULTS } from './sizing/compose.js';
import { UsageError } from './errors.js';
import { RUN_DEFAULTS, type RunOptions } from './options.js';
import { presetNames } from './workloads/presets.js';
import { DTYPES, MOE_IMPLS, PHASES } from './workloads/spec.js';
import { ResultFileError } from './results/io.js';

const csv = (v: unknown): string[] | undefined =>
  v === undefined ? undefined : (Array.isArray(v) ? v : [v]).flatMap((x) => String(x).split(',')).map((s) => s.trim()).filter(Boolean);

function csvOf<T extends string>(name: string, v: unknown, allowed: readonly T[]): T[] | undefined {
  const items = csv(v);
  for (const i of items ?? []) if (!allowed.includes(i as T)) throw new UsageError(`--${name} "${i}": use ${allowed.join(', ')}`);
  return items as T[] | undefined;
}

function intsOf(name: string, v: unknown): number[] | undefined {
  return csv(v)?.map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} must be positive integers, got "${s}"`);
    return n;
  });
}

function positive(name: string, v: unknown): number {
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
  const maxTimeMs = positive('max-time-ms', argv.maxTimeMs ?? RUN_DEFAULTS.maxTimeMs);
  if (argv.minTimeMs === undefined) return { minTimeMs: Math.min(RUN_DEFAULTS.minTimeMs, maxTimeMs), maxTimeMs };
  const minTimeMs = positive('min-time-ms', argv.minTimeMs);
  if (minTimeMs > maxTimeMs) throw new UsageError(`--min-time-ms ${minTimeMs} is more than --max-time-ms ${maxTimeMs}: no case could stop before the maximum, so every one would be noisy`);
  return { minTimeMs, maxTimeMs };
}

export function runOptionsFrom(argv: Record<string, unknown>): RunOptions {
  const deviceAll = argv.device === 'all';
  const device = deviceAll || argv.device === undefined ? undefined : Number(argv.device);
  if (device !== undefined && (!Number.isInteger(device) || device < 0)) throw new UsageError(`--device must be a GPU index (0, 1, ...) or all, got "${argv.device}"`);
  const sweep = sweepTokens(argv.sweep);
  if (sweep && argv.tokens !== undefined) throw new UsageError('--sweep tokens=... and --tokens both set the token counts: use one');
  return {
    suite: argv.suite as string | undefined,
    preset: csv(argv.preset),
    layer: csvOf('layer', argv.layer, ['dense', 'moe'] as const),
    phase: csvOf('phase', argv.phase, PHASES),
    tokens: sweep ?? intsOf('tokens', argv.tokens),
    dtype: csvOf('dtype', argv.dtype, DTYPES),
    moeImpl: csvOf('moe-impl', argv.moeImpl, MOE_IMPLS),
    routing: csv(argv.routing),
    expertsPerCard: argv.expertsPerCard === undefined ? undefined : intsOf('experts-per-card', argv.expertsPerCard)?.[0],
    topK: intsOf('top-k', argv.topK),
    experts: argv.experts === undefined ? undefined : intsOf('experts', argv.experts)?.[0],
    backend: argv.backend as string | undefined,
    device,
    deviceAll,
    card: argv.card as string | undefined,
    caseTimeoutMs: positive('case-timeout-s', argv.caseTimeoutS ?? RUN_DEFAULTS.caseTimeoutMs / 1000) * 1000,
    heapLimitMb: argv.caseMemoryMb === undefined ? undefined : positive('case-memory-mb', argv.caseMemoryMb),
    profile: Boolean(argv.profile),
    repetitions: intsOf('repetitions', argv.repetitions ?? RUN_DEFAULTS.repetitions)![0],
    threads: argv.threads === undefined ? undefined : intsOf('threads', argv.threads)![0],
    seed: Number(argv.seed ?? RUN_DEFAULTS.seed),
    out: argv.out as string | undefined,
    outDir: RUN_DEFAULTS.outDir,
    modelDir: (argv.modelDir as string | undefined) ?? RUN_DEFAULTS.modelDir,
    json: Boolean(argv.json),
    dryRun: Boolean(argv.dryRun),
    warmup: RUN_DEFAULTS.warmup,
    stopping: {
      targetRelHalfWidth: positive('target-ci', argv.targetCi ?? RUN_DEFAULTS.targetRelHalfWidth * 100) / 100,
      minSamples: positive('min-samples', argv.minSamples ?? RUN_DEFAULTS.minSamples),
      ...sampleTimes(argv),
      maxSamples: RUN_DEFAULTS.maxSamples,
    },
  };
}

export async function main(args: string[], io: Io = processIo): Promise<number> {
  let code = 0;
  const parser = yargs(args)
    .scriptName('moebench')
    .usage('$0 <command> [options]\n\nMoE and dense transformer-layer benchmarks: tokens/sec per card, with honest statistics.')
    .command('run', 'run benchmark cases and write a result file', (y) => y
      .option('suite', { type: 'string', describe: 'suite in bench/suites (default, deepseek-v3, mixtral, qwen3-moe, llama-dense) or a .json path' })
      .option('preset', { type: 'string', describe: `model shapes: ${presetNames().join(', ')}` })
      .option('layer', { type: 'string', describe: 'dense, moe (comma list)' })
      .option('phase', { type: 'string', describe: 'prefill, decode (comma list)' })
      .option('tokens', { type: 'string', describe: 'tokens per call (comma list): prefill sequence length or decode batch' })
      .option('backend', { type: 'string', describe: 'auto, all-available, ort-cpu, ort-cuda, ort-webgpu, tfjs-node-gpu, tfjs-node, tfjs-webgpu, tfjs-wasm, tfjs-cpu' })
      .option('device', { type: 'string', describe: "GPU (nvidia-smi's index; default: the first CUDA may use), or all: one process per card" })
      .option('card', { type: 'string', describe: 'datasheet card for the roofline when it is not detected, e.g. "NVIDIA H100 SXM5 80GB"' })
      .option('sweep', { type: 'string', describe: 'tokens=N1,N2,N3,...: run each workload at these token counts and fit time = a + b·tokens' })
      .option('profile', { type: 'boolean', default: false, describe: "summarise ORT's profiler per operator type" })
      .option('repetitions', { type: 'number', default: RUN_DEFAULTS.repetitions, describe: 'run each case in this many separate processes, so its interval covers the drift between processes (1: one process, a quick look)' })
      .option('threads', { type: 'number', describe: "ONNX Runtime's intra-op CPU threads (default: one per physical core); recorded per case" })
      .option('case-timeout-s', { type: 'number', describe: 'per-case limit; past it the case is killed and recorded as failed', default: RUN_DEFAULTS.caseTimeoutMs / 1000 })
      .option('case-memory-mb', { type: 'number', describe: 'V8 heap limit of each case process' })
      .option('dtype', { type: 'string', describe: 'fp32, fp16 (comma list)' })
      .option('moe-impl', { type: 'string', describe: 'routed, fused, dense-all (comma list)' })
      .option('routing', { type: 'string', describe: 'uniform, zipf:S, hot:F, file:PATH (comma list)' })
      .option('experts-per-card', { type: 'string', describe: "benchmark one card's share of the experts (expert parallelism)" })
      .option('top-k', { type: 'string', describe: "override the preset's top-k (comma list)" })
      .option('experts', { type: 'string', describe: "override the preset's number of routed experts" })
      .option('seed', { type: 'number', default: RUN_DEFAULTS.seed })
      .option('out', { type: 'string', describe: 'result file (default results/<date>-<host>-<backend>.json)' })
      .option('resume', { type: 'string', describe: 'continue an interrupted result file: runs only its missing cases' })
      .option('model-dir', { type: 'string', describe: 'where generated ONNX models are cached', default: RUN_DEFAULTS.modelDir })
      .option('target-ci', { type: 'number', describe: 'stop when the 95% CI of the median is within ±this %', default: RUN_DEFAULTS.targetRelHalfWidth * 100 })
      .option('min-samples', { type: 'number', default: RUN_DEFAULTS.minSamples })
      .option('min-time-ms', { type: 'number', describe: `per case (default ${RUN_DEFAULTS.minTimeMs}, or --max-time-ms when that is less)` })
      .option('max-time-ms', { type: 'number', describe: 'per case; past it the case is reported noisy', default: RUN_DEFAULTS.maxTimeMs })
      .option('json', { type: 'boolean', default: false })
      .option('dry-run', { type: 'boolean', default: false, describe: 'print the planned cases and their work per call; build and run nothing' }),
    async (argv) => {
      code = await runCommand(runOptionsFrom(argv), io, argv.resume);
    })
    .command('size', 'cards and servers for a demand scenario, from assumed or measured per-card throughput', (y) => y
      .option('scenario', { type: 'string', demandOption: true, describe: 'bench/scenarios/NAME.json (e.g. seed) or a .json path' })
      .option('from', { type: 'string', array: true, describe: 'result files, collections or folders whose measured cases give the per-card prefill and decode throughput (one row per run)' })
      .option('model', { type: 'string', default: 'deepseek-v3', describe: 'the model the measured layers compose into' })
      .option('layout', { type: 'string', default: 'ep=32,tp=1', describe: 'expert and tensor parallelism of one serving instance' })
      .option('context', { type: 'number', default: COMPOSE_DEFAULTS.contextTokens, describe: 'tokens of context per decoded token (attention estimate)' })
      .option('link-gbps', { type: 'number', default: COMPOSE_DEFAULTS.linkGBps, describe: 'expert-parallel all-to-all bandwidth per card, GB/s' })
      .option('card', { type: 'string', describe: 'size for this datasheet card instead of the one measured' })
      .option('json', { type: 'boolean', default: false }),
    async (argv) => {
      code = await sizeCommand({
        scenario: argv.scenario, json: argv.json, from: (argv.from ?? []).map(String), model: argv.model, layout: argv.layout,
        contextTokens: positive('context', argv.context), linkGBps: positive('link-gbps', argv.linkGbps), card: argv.card,
      }, io);
    })
    .command('compare <inputs..>', 'compare result files or folders: ratios with confidence intervals and verdicts', (y) => y
      .positional('inputs', { type: 'string', array: true, describe: 'result files, collections or folders; the first is the baseline' })
      .option('by', { type: 'string', default: COMPARE_DEFAULTS.by, describe: 'what tells the sides apart: card, backend, file (each file a side), or an environment field (node, host, packages.onnxruntime-node, ...)' })
      .option('baseline', { type: 'string', describe: 'side label or file to compare against' })
      .option('format', { type: 'string', default: 'table', describe: COMPARE_FORMATS.join(', ') })
      .option('min-difference', { type: 'number', default: COMPARE_DEFAULTS.minDifference * 100, describe: 'smallest difference worth a FASTER/SLOWER verdict, %' })
      .option('alpha', { type: 'number', default: COMPARE_DEFAULTS.alpha, describe: 'significance level of the test behind FASTER/SLOWER' }),
    async (argv) => {
      const format = csvOf('format', argv.format, COMPARE_FORMATS)![0];
      code = await compareCommand((argv.inputs ?? []).map(String), {
        by: argv.by, baseline: argv.baseline, format, minDifference: positive('min-difference', argv.minDifference) / 100, alpha: positive('alpha', argv.alpha),
      }, io);
    })
    .command('merge <inputs..>', 'fold result files from many machines into one collection, de-duplicated', (y) => y
      .positional('inputs', { type: 'string', array: true, describe: 'result files, collections or folders' })
      .option('out', { type: 'string', demandOption: true, describe: 'the collection file to write' }),
    async (argv) => {
      code = await mergeCommand((argv.inputs ?? []).map(String), argv.out, io);
    })
    .command('report <inputs..>', 'one self-contained HTML page: throughput, sweeps, roofline, routing, comparison, environments', (y) => y
      .positional('inputs', { type: 'string', array: true, describe: 'result files, collections or folders' })
      .option('out', { type: 'string', default: 'report.html' })
      .option('scenario', { type: 'string', describe: 'add the sizing table of this scenario, per card' })
      .option('model', { type: 'string', default: 'deepseek-v3' })
      .option('layout', { type: 'string', default: 'ep=32,tp=1' }),
    async (argv) => {
      code = await reportCommand((argv.inputs ?? []).map(String), { out: argv.out, scenario: argv.scenario, model: argv.model, layout: argv.layout }, io);
    })
    .command('env', 'list backends (available or why not), GPUs and recorded versions', (y) => y.option('json', { type: 'boolean', default: false }),
      async (argv) => {
        code = await envCommand(io, argv.json);
      })
    .demandCommand(1, 'name a command: run, compare, size, merge, report or env')
    .strict()
    .help()
    .version(false)
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    });
  try {
    await parser.parseAsync();
  } catch (err) {
    if (err instanceof UsageError || err instanceof ResultFileError) {
      io.err(`moebench: ${err.message}`);
      return 2;
    }
    io.err(`moebench: internal error: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    return 1;
  }
  return code;
}

function invokedDirectly(): boolean {
  try {
    return realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  main(hideBin(process.argv)).then((code) => {
    process.exitCode = code;
    // Dawn (WebGPU) keeps handles open after use; once the command is done, do not wait for them
    setTimeout(() => process.exit(code), 1000).unref();
  });
}
