#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { BACKEND_CHOICES } from './backends/names.js';
import { processIo, type Io } from './commands/io.js';
import { COMPARE_DEFAULTS } from './compare/compare.js';
import { COMPARE_FORMATS } from './compare/format.js';
import { EXIT, UsageError } from './errors.js';
import { csvOf, positive, probability, RUN_DEFAULTS, RUN_FORMATS, runOptionsFrom } from './run/options.js';
import { COMPOSE_DEFAULTS } from './sizing/compose.js';
import { SHOW_FORMATS } from './report/runText.js';
import { moebenchVersion } from './env/machine.js';
import { presetNames } from './workloads/presets.js';

// Commands are imported when they run: reading, comparing and reporting result files never load an
// engine (onnxruntime-node, TF.js, Dawn), which only `run` and `env` need.

const SIZING_DEFAULTS = { model: 'deepseek-v3', layout: 'ep=32,tp=1' } as const;

export async function main(args: string[], io: Io = processIo): Promise<number> {
  let code: number = EXIT.ok;
  const d = RUN_DEFAULTS;
  const parser = yargs(args)
    .scriptName('moebench')
    .usage('$0 <command> [options]\n\nMoE and dense transformer-layer benchmarks: tokens/sec per card, with honest statistics.')
    .command(
      'run',
      'run benchmark cases and write a result file',
      (y) =>
        y
          .option('suite', {
            type: 'string',
            describe: 'suite in bench/suites (default, deepseek-v3, mixtral, qwen3-moe, llama-dense) or a .json path',
          })
          .option('preset', { type: 'string', describe: `model shapes: ${presetNames().join(', ')}` })
          .option('layer', { type: 'string', describe: 'dense, moe, attention, matmul (the roofline probe) (comma list)' })
          .option('context', { type: 'string', describe: "attention decode: tokens in each sequence's KV cache (comma list; default: the preset's)" })
          .option('roofline', {
            type: 'boolean',
            describe: "also run the roofline suite's probes in the run's math modes: this engine's measured FLOP/s and bandwidth ceilings",
          })
          .option('phase', { type: 'string', describe: 'prefill, decode (comma list)' })
          .option('tokens', { type: 'string', describe: 'tokens per call (comma list): prefill sequence length or decode batch' })
          .option('backend', { type: 'string', describe: `${BACKEND_CHOICES.join(', ')} (default: the suite's, else ${d.backend})` })
          .option('device', { type: 'string', describe: "GPU (nvidia-smi's index; default: the first CUDA may use), or all: one process per card" })
          .option('card', { type: 'string', describe: 'datasheet card for the roofline when it is not detected, e.g. "NVIDIA H100 SXM5 80GB"' })
          .option('sweep', { type: 'string', describe: 'tokens=N1,N2,N3,...: run each workload at these token counts and fit time = a + b·tokens' })
          .option('profile', { type: 'boolean', describe: "summarise ORT's profiler per operator type" })
          // numeric options are read as text and checked by runOptionsFrom: yargs sums a repeated number
          // option (--repetitions 3 --repetitions 1 became 4) and turns "1,3" into NaN
          .option('repetitions', {
            type: 'string',
            describe: `run each case in this many separate processes, so its interval covers the drift between processes (default ${d.repetitions}; 1: one process, a quick look)`,
          })
          .option('threads', { type: 'string', describe: "ONNX Runtime's intra-op CPU threads (default: one per physical core); recorded per case" })
          .option('case-timeout-s', {
            type: 'string',
            describe: `per-case limit; past it the case is killed and recorded as failed (default ${d.caseTimeoutMs / 1000})`,
          })
          .option('case-memory-mb', { type: 'string', describe: 'V8 heap limit of each case process' })
          .option('dtype', {
            type: 'string',
            describe:
              'fp32 (strict: TF32 off on CUDA), tf32 (CUDA tensor cores on purpose), fp16, bf16, fp8 (e4m3 products; bf16 and fp8 in the torch peers only) (comma list)',
          })
          .option('moe-impl', { type: 'string', describe: 'routed, fused, dense-all (comma list)' })
          .option('context-spread', {
            type: 'string',
            describe: "attention decode, fused: the sequences' caches from --context down to --context × (1 − F), evenly",
          })
          .option('attn-impl', { type: 'string', describe: "attention: standard (ONNX ops), fused (ONNX Runtime's contrib op) (comma list)" })
          .option('routing', { type: 'string', describe: 'uniform, zipf:S, hot:F, file:PATH (comma list)' })
          .option('experts-per-card', { type: 'string', describe: "benchmark one card's share of the experts (expert parallelism)" })
          .option('top-k', { type: 'string', describe: "override the preset's top-k (comma list)" })
          .option('experts', { type: 'string', describe: "override the preset's number of routed experts" })
          .option('seed', { type: 'string', describe: `(default ${d.seed})` })
          .option('out', {
            type: 'string',
            describe: `result file, never an existing one unless --force (default ${d.outDir}/<time>-<host>-<backend>-<pid>.json)`,
          })
          .option('force', { type: 'boolean', describe: 'replace an existing --out file (it is moved aside to a .bak first)' })
          .option('resume', { type: 'string', describe: 'continue an interrupted result file: runs only its missing cases' })
          .option('model-dir', { type: 'string', describe: `where generated ONNX models are cached (default ${d.modelDir})` })
          .option('target-ci', {
            type: 'string',
            describe: `stop when the 95% CI of the median is within ±this % (default ${d.stopping.targetRelHalfWidth * 100})`,
          })
          .option('min-samples', { type: 'string', describe: `(default ${d.stopping.minSamples})` })
          .option('min-time-ms', { type: 'string', describe: `per case (default ${d.stopping.minTimeMs}, or --max-time-ms when that is less)` })
          .option('max-time-ms', { type: 'string', describe: `per case; past it the case is reported noisy (default ${d.stopping.maxTimeMs})` })
          .option('time-budget-s', {
            type: 'string',
            describe: "wall-clock budget for the whole run: each process's sampling time is capped to its share (default: the suite's, if any)",
          })
          .option('python', { type: 'string', describe: 'the Python interpreter of the peer engines (a conda or venv; default python3)' })
          .option('json', { type: 'boolean', describe: 'the finished run as JSON on stdout (= --format json)' })
          .option('format', { type: 'string', choices: RUN_FORMATS, describe: "the finished run's table: table (default), markdown, csv, json" })
          .option('dry-run', { type: 'boolean', describe: 'print the planned cases and their work per call; build and run nothing' }),
      async (argv) => {
        // the peers' worker processes inherit it, and the environment records it
        if (argv.python !== undefined) process.env.MOEBENCH_PYTHON = String(argv.python);
        const { runCommand } = await import('./commands/run.js');
        code = await runCommand(runOptionsFrom(argv), io, argv.resume);
      },
    )
    .command(
      'size',
      'cards and servers for a demand scenario, from assumed or measured per-card throughput',
      (y) =>
        y
          .option('scenario', { type: 'string', describe: 'bench/scenarios/NAME.json (e.g. seed) or a .json path (optional with --roofline)' })
          .option('roofline', {
            type: 'boolean',
            describe:
              "the model's per-card prefill and decode bound from the datasheet alone (FP8 and the measured modes), beside the assumed and measured figures",
          })
          .option('from', {
            type: 'string',
            array: true,
            describe: 'result files, collections or folders whose measured cases give the per-card prefill and decode throughput (one row per run)',
          })
          .option('model', { type: 'string', default: SIZING_DEFAULTS.model, describe: 'the model the measured layers compose into' })
          .option('layout', { type: 'string', default: SIZING_DEFAULTS.layout, describe: 'expert and tensor parallelism of one serving instance' })
          .option('context', {
            type: 'number',
            default: COMPOSE_DEFAULTS.contextTokens,
            describe: 'tokens of context per decoded token (attention estimate)',
          })
          .option('link-gbytes-per-s', {
            type: 'number',
            describe:
              "expert-parallel all-to-all bandwidth per card, gigabytes per second (default: DeepEP's published H800 figure for the layout: 153 within a node, 43-57 across nodes)",
          })
          .option('link-gbps', { type: 'string', hidden: true })
          .option('card', { type: 'string', describe: 'size for this datasheet card instead of the one measured' })
          .option('decode-only', {
            type: 'boolean',
            default: false,
            describe: "compose the --from files' decode alone (no prefill MoE case measured yet); prefill stays the scenario's assumed figure",
          })
          .option('json', { type: 'boolean', default: false }),
      async (argv) => {
        const { sizeCommand } = await import('./commands/size.js');
        code = await sizeCommand(
          {
            scenario: argv.scenario,
            roofline: argv.roofline,
            json: argv.json,
            from: (argv.from ?? []).map(String),
            model: argv.model,
            layout: argv.layout,
            contextTokens: positive('context', argv.context),
            linkGBps: linkOption(argv),
            card: argv.card,
            decodeOnly: argv.decodeOnly,
          },
          io,
        );
      },
    )
    .command(
      'compare <inputs..>',
      'compare result files or folders: ratios with confidence intervals and verdicts',
      (y) =>
        y
          .positional('inputs', { type: 'string', array: true, describe: 'result files, collections or folders; the first is the baseline' })
          .option('by', {
            type: 'string',
            default: COMPARE_DEFAULTS.by,
            describe:
              'what tells the sides apart: card, backend, file (each file a side), folder (each folder a side: several runs each), or an environment field (node, host, packages.onnxruntime-node, ...). Files all of one card are compared by file, or by backend when no case of one backend is in two of them',
          })
          .option('baseline', { type: 'string', describe: 'side label or file to compare against' })
          .option('format', { type: 'string', default: 'table', describe: COMPARE_FORMATS.join(', ') })
          .option('min-difference', {
            type: 'number',
            default: COMPARE_DEFAULTS.minDifference * 100,
            describe: 'the margin, %: FASTER/SLOWER need the verdict interval wholly beyond ±this, SAME wholly within',
          })
          .option('alpha', {
            type: 'number',
            default: COMPARE_DEFAULTS.alpha,
            describe: "significance level of every verdict: each reads the ratio's 1 − 2α interval against --min-difference",
          })
          .option('fail-on', {
            type: 'string',
            describe: `exit ${EXIT.regression} (for a CI gate) on SLOWER verdicts: slower, or slower:PCT for slowdowns of at least PCT %`,
          }),
      async (argv) => {
        const { compareCommand, parseFailOn } = await import('./commands/compare.js');
        const format = csvOf('format', argv.format, COMPARE_FORMATS)![0];
        code = await compareCommand(
          (argv.inputs ?? []).map(String),
          {
            by: argv.by,
            baseline: argv.baseline,
            format,
            minDifference: positive('min-difference', argv.minDifference) / 100,
            alpha: probability('alpha', argv.alpha, 0.5, ': the verdicts read the 1 − 2α interval'),
            ...(argv.failOn !== undefined ? { failOn: parseFailOn(String(argv.failOn)) } : {}),
            byGiven: args.some((a) => a === '--by' || a.startsWith('--by=')),
          },
          io,
        );
      },
    )
    .command(
      'merge <inputs..>',
      'fold result files from many machines into one collection, de-duplicated',
      (y) =>
        y
          .positional('inputs', { type: 'string', array: true, describe: 'result files, collections or folders' })
          .option('out', { type: 'string', demandOption: true, describe: 'the collection file to write' }),
      async (argv) => {
        const { mergeCommand } = await import('./commands/merge.js');
        code = await mergeCommand((argv.inputs ?? []).map(String), argv.out, io);
      },
    )
    .command(
      'show <inputs..>',
      "saved runs' tables in the terminal, as each run printed its own: where and when it ran, its cases, notes and sweeps",
      (y) =>
        y
          .positional('inputs', { type: 'string', array: true, describe: 'result files, collections or folders' })
          .option('format', { type: 'string', default: 'table', describe: `${SHOW_FORMATS.join(', ')} (csv: every case with its file)` }),
      async (argv) => {
        const { showCommand } = await import('./commands/show.js');
        code = await showCommand((argv.inputs ?? []).map(String), csvOf('format', argv.format, SHOW_FORMATS)![0], io);
      },
    )
    .command(
      'repair <files..>',
      'rewrite result files an older moebench wrote with a defect this one repairs on read, keeping every sample',
      (y) => y.positional('files', { type: 'string', array: true, describe: 'result files or collections' }),
      async (argv) => {
        const { repairCommand } = await import('./commands/repair.js');
        code = await repairCommand((argv.files ?? []).map(String), io);
      },
    )
    .command(
      'report <inputs..>',
      'one self-contained HTML page: throughput, sweeps, roofline, routing, comparison, environments',
      (y) =>
        y
          .positional('inputs', { type: 'string', array: true, describe: 'result files, collections or folders' })
          .option('out', { type: 'string', default: 'report.html' })
          .option('scenario', { type: 'string', describe: 'add the sizing table of this scenario, per card' })
          .option('model', { type: 'string', default: SIZING_DEFAULTS.model })
          .option('layout', { type: 'string', default: SIZING_DEFAULTS.layout })
          .option('context', { type: 'number', default: COMPOSE_DEFAULTS.contextTokens, describe: 'as for size' })
          .option('link-gbytes-per-s', { type: 'number', describe: 'as for size' })
          .option('link-gbps', { type: 'string', hidden: true })
          .option('card', { type: 'string', describe: 'as for size' })
          .option('decode-only', { type: 'boolean', default: false, describe: 'as for size' })
          .option('by', {
            type: 'string',
            describe:
              "the comparison's sides, as for compare (default card; when every file is from one card, file, or backend when no case of one backend is in two files)",
          }),
      async (argv) => {
        const { reportCommand } = await import('./commands/report.js');
        code = await reportCommand(
          (argv.inputs ?? []).map(String),
          {
            out: argv.out,
            scenario: argv.scenario,
            model: argv.model,
            layout: argv.layout,
            contextTokens: positive('context', argv.context),
            linkGBps: linkOption(argv),
            card: argv.card,
            decodeOnly: argv.decodeOnly,
            by: argv.by,
          },
          io,
        );
      },
    )
    .command(
      'env',
      'list backends (available or why not), GPUs and recorded versions',
      (y) =>
        y
          .option('json', { type: 'boolean', default: false })
          .option('check', {
            type: 'boolean',
            describe: 'run a tiny dense and a tiny MoE case on every engine and card: works, wrong numbers, fails or unavailable, with the fix',
          })
          .option('out', { type: 'string', describe: 'with --check: also write the check as JSON (attach it to a bug report)' })
          .option('model-dir', { type: 'string', describe: `with --check: where its models are cached (default ${d.modelDir})` }),
      async (argv) => {
        const { envCommand } = await import('./commands/env.js');
        if (argv.out !== undefined && !argv.check) throw new UsageError('--out writes the result of --check: add --check');
        code = await envCommand(io, argv.json, argv.check ? { out: argv.out, modelDir: argv.modelDir ?? d.modelDir } : undefined);
      },
    )
    .command(
      'slurm <action> [target]',
      'run across a Slurm cluster: submit (a job array, one task per node, then merge and report), status, collect',
      (y) =>
        y
          .positional('action', { choices: ['submit', 'status', 'collect'] as const, describe: 'submit -- RUN OPTIONS; status DIR|JOB; collect DIR' })
          .positional('target', { type: 'string', describe: 'status, collect: the results folder (or a job id Slurm still knows)' })
          .option('results', { type: 'string', describe: 'submit: the shared results folder every node writes to' })
          .option('partition', { type: 'string', describe: 'submit: partition(s); several (a,b) give one array each, e.g. one per card type' })
          .option('constraint', { type: 'string', describe: 'submit: node feature(s); several give one array each' })
          .option('nodes', { type: 'number', default: 1, describe: 'submit: tasks per array, one per node' })
          .option('nodelist', { type: 'string', describe: 'submit: these nodes (a,b), a task on each' })
          .option('gres', {
            type: 'string',
            describe: 'submit: per task, e.g. gpu:8 (every card of a node: add --device all to the run options) or gpu:1',
          })
          .option('time', { type: 'string', describe: "submit: each task's time limit (Slurm's format, e.g. 2:00:00)" })
          .option('sbatch-arg', {
            type: 'string',
            array: true,
            default: [] as string[],
            describe: 'submit: a further #SBATCH option for the arrays, e.g. --account=lab',
          })
          .option('moebench', {
            type: 'string',
            describe: "submit: how a node runs moebench (default: this install's node and cli.js, for a shared file system)",
          })
          .option('setup', { type: 'string', describe: 'submit: a shell line each job runs first, e.g. unpacking the pack:offline bundle' })
          .option('dry-run', { type: 'boolean', default: false, describe: 'submit: print the sbatch scripts and commands; submit nothing' })
          .option('tag', { type: 'string', describe: "status, collect: the submission (default the folder's newest)" })
          .parserConfiguration({ 'populate--': true }),
      async (argv) => {
        const slurm = await import('./commands/slurm.js');
        if (argv.action === 'submit') {
          if (!argv.results) throw new UsageError('slurm submit needs --results DIR, a folder every node can write');
          code = await slurm.slurmSubmit(
            {
              results: argv.results,
              partition: argv.partition,
              constraint: argv.constraint,
              nodes: argv.nodes,
              nodelist: argv.nodelist,
              gres: argv.gres,
              time: argv.time,
              sbatchArg: (argv.sbatchArg ?? []).map(String),
              moebench: argv.moebench,
              setup: argv.setup,
              dryRun: argv.dryRun,
              runArgs: ((argv['--'] as unknown[] | undefined) ?? []).map(String),
            },
            io,
          );
          return;
        }
        if (!argv.target) throw new UsageError(`slurm ${argv.action} needs the results folder${argv.action === 'status' ? ' or a job id' : ''}`);
        code = argv.action === 'status' ? await slurm.slurmStatus(argv.target, argv.tag, io) : await slurm.slurmCollect(argv.target, argv.tag, io);
      },
    )
    .command('presets', 'list the model shapes --preset and --model take: layers, experts, parameters, work per token', {}, async () => {
      const { presetsCommand } = await import('./commands/catalog.js');
      code = await presetsCommand(io);
    })
    .command('suites', 'list the suites in bench/suites: what each runs, in how many processes, within what budget', {}, async () => {
      const { suitesCommand } = await import('./commands/catalog.js');
      code = await suitesCommand(io);
    })
    .demandCommand(1, 'name a command: run, compare, size, merge, repair, report, env, slurm, presets or suites')
    .strict()
    .help()
    .alias('help', 'h')
    .version('version', "moebench's version", moebenchVersion())
    .alias('version', 'V')
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    });
  try {
    await parser.parseAsync();
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`moebench: ${err.message}`);
      return err.exitCode;
    }
    io.err(`moebench: internal error (a bug; please report it with this trace): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return EXIT.internal;
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

/** --link-gbytes-per-s, when given; the old --link-gbps read as gigabits as easily as gigabytes, so it is refused by name. */
function linkOption(argv: { linkGbps?: unknown; linkGbytesPerS?: unknown }): number | undefined {
  if (argv.linkGbps !== undefined)
    throw new UsageError('--link-gbps is ambiguous (gigabits or gigabytes per second?): give --link-gbytes-per-s, in gigabytes per second');
  return argv.linkGbytesPerS === undefined ? undefined : positive('link-gbytes-per-s', argv.linkGbytesPerS);
}
