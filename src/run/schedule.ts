import { fmt, wrap } from '../text/table.js';
import { existsSync, renameSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { Backend, Probe } from '../backends/backend.js';
import { chooseCard, onHostCpu, perCardSchedule, visibleCards, type CardChoice } from '../env/cards.js';
import { cardPeakByName, findCardPeak, type CardPeak } from '../env/datasheets.js';
import { queryGpus } from '../env/gpus.js';
import type { HostCheck } from '../env/hostLoad.js';
import { captureEnvironment, describeDevice } from '../env/machine.js';
import { UsageError } from '../errors.js';
import { lockForWriting } from '../files/lock.js';
import { fitSweeps, type SweepFit } from '../measure/sweep.js';
import { progressText } from '../report/progress.js';
import { resumeDifferences } from '../results/environment.js';
import { isComplete, isFinal } from '../results/repetitions.js';
import type { CaseResult, GpuInfo } from '../results/schema.js';
import { caseKey, ResultSession } from '../results/session.js';
import type { WorkloadCase } from '../workloads/spec.js';
import { budgetedLimits, FIRST_GUESS_OVERHEAD_MS, processOverheadMs } from './budget.js';
import { executeIsolated, probeBackend } from './isolate.js';
import type { RunOptions } from './options.js';
import { checkFootprints, threadsWarning } from './limits.js';
import { mathEnv } from './math.js';
import { planRun } from './plan.js';
import { combineRepetitions, splitRepetitions } from './repetitions.js';
import { availableBackends, resolveBackend } from './resolve.js';

/**
 * results/<time to the millisecond>-<host>-<backend>[-gpuN]-<pid>.json: two runs started in the
 * same second (or millisecond, on one host) still get files of their own.
 */
export function defaultResultPath(outDir: string, backend: string, device: string, now = new Date(), pid = process.pid): string {
  const stamp = now.toISOString().replace(/:/g, '-');
  const host = os.hostname().replace(/[^A-Za-z0-9_.-]/g, '_');
  const card = device.startsWith('gpu:') ? `-gpu${device.slice(4).split(' ')[0]}` : '';
  return join(outDir, `${stamp}-${host}-${backend}${card}-${pid}.json`);
}

/**
 * A new run never overwrites a file: an existing --out is refused (the user's data, a result file
 * or not) unless --force, which first moves it aside to PATH.bak (or .bak2, ...) and says so.
 */
export function claimOutPath(path: string, force: boolean, log: (line: string) => void): void {
  if (!existsSync(path)) return;
  if (!force) {
    throw new UsageError(
      `${path} already exists: a new run never overwrites a file; continue it with --resume ${path}, write elsewhere with another --out, or replace it with --force (it is kept as a .bak)`,
    );
  }
  let backup = `${path}.bak`;
  for (let i = 2; existsSync(backup); i++) backup = `${path}.bak${i}`;
  renameSync(path, backup);
  log(`moebench: --force: moved the existing ${path} to ${backup}`);
}

/** Datasheet peaks for the roofline: --card, else the card the cases run on (or the model every card shares). */
function peakFor(o: RunOptions, b: Backend, choice: CardChoice, gpus: GpuInfo[]): CardPeak | undefined {
  // a CPU engine's times against a GPU's datasheet would read, later, as that GPU's measurement
  if (b.placement === 'host') return undefined;
  if (o.card) {
    const peak = cardPeakByName(o.card);
    if (!peak) throw new UsageError(`unknown card "${o.card}" for the roofline: see src/env/datasheets.ts for the cards with datasheet peaks`);
    return peak;
  }
  // a software WebGPU adapter (lavapipe) runs on the CPU, whatever cards nvidia-smi lists
  if (onHostCpu(b.placement)) return undefined;
  const sameModel = gpus.length > 0 && gpus.every((g) => g.name === gpus[0].name) ? gpus[0] : undefined;
  const card = choice.card ?? sameModel;
  return card ? findCardPeak(card.name) : undefined;
}

/** Where a backend's cases live: the chosen card's memory when it is known, else the host's. */
function memoryFor(b: Backend, choice: CardChoice): { bytes: number; where: string } {
  const mib = choice.card?.memoryTotalMiB;
  if (b.placement !== 'host' && mib) return { bytes: mib * 1024 ** 2, where: `gpu ${choice.card!.index} (${choice.card!.name})` };
  return { bytes: os.totalmem(), where: 'this host' };
}

/** Everything a run needs before its first case: the backends probed, the card chosen, the file open. */
export interface PreparedRun {
  options: RunOptions;
  backends: Backend[];
  session: ResultSession;
  device: string;
  /** The cases still to measure, each on its backend. */
  todo: { c: WorkloadCase; b: Backend }[];
  /** The processes each case already has: none, or those of a resumed file's unfinished case. */
  reps: Map<string, CaseResult[]>;
  choices: Map<string, CardChoice>;
  peaks: Map<string, CardPeak | undefined>;
  deviceOf: (b: Backend) => string;
}

export interface RunContext {
  /** The command line, recorded in the file's environment. */
  argv: string[];
  /** A progress line (stderr); measurement itself never prints. */
  log: (line: string) => void;
  /** Added to the probes' environment: a --device all card's CUDA_VISIBLE_DEVICES. */
  probeEnv?: Record<string, string>;
  /**
   * Reads how busy the host is, once everything else about the run has been checked (so bad input
   * gets its one line and nothing else); recorded in a new file's environment.
   */
  checkHost?: (o: { hostCases: boolean }) => Promise<HostCheck>;
}

/** --device all among several cards: the cards to run on, one run each; undefined for a single run. */
export async function cardsForDeviceAll(
  o: RunOptions,
  backendName: string,
  log: (l: string) => void,
): Promise<{ cards: GpuInfo[]; backend: string } | undefined> {
  if (!o.deviceAll) return undefined;
  const gpus = queryGpus();
  const cudaVisible = process.env.CUDA_VISIBLE_DEVICES;
  const visible = visibleCards(gpus, cudaVisible);
  if ((visible ?? gpus).length <= 1) return undefined;
  const { backends } = await backendsFor(backendName, log);
  const unpinnable = backends.filter((b) => b.placement !== 'cuda');
  if (unpinnable.length) {
    throw new UsageError(
      `--device all runs one process per card, pinned to it through CUDA_VISIBLE_DEVICES, which only CUDA engines (ort-cuda, tfjs-node-gpu) obey: ${unpinnable.map((b) => `${b.name} runs on ${b.placement === 'host' ? 'the host CPU' : 'the adapter Dawn picks'}`).join(', ')}`,
    );
  }
  if (!visible)
    throw new UsageError(
      `--device all: CUDA_VISIBLE_DEVICES=${cudaVisible} names MIG devices, which nvidia-smi's card list cannot pin; run each with --device N instead`,
    );
  return { cards: visible, backend: backends.length === 1 ? backends[0].name : backendName };
}

/** The backends a run uses, and the versions their probes found (a peer's Python, torch, CUDA) for the file's environment. */
async function backendsFor(
  name: string,
  log: (l: string) => void,
  probeEnv?: Record<string, string>,
): Promise<{ backends: Backend[]; packages: Record<string, string> }> {
  const probes = new Map<Backend, Probe>();
  const probe = async (b: Backend) => {
    const p = await probeBackend(b, probeEnv);
    probes.set(b, p);
    return p;
  };
  const packagesOf = (backends: Backend[]) => {
    const found = backends.map((b) => probes.get(b)).map((p) => (p?.available && p.versions) || {});
    return { backends, packages: Object.assign({}, ...found) as Record<string, string> };
  };
  if (name === 'all-available') {
    const found = await availableBackends(undefined, probe);
    // a reason can name a dozen libraries: wrapped to fit a terminal (moebench env says it all)
    for (const u of found.unavailable) wrap(`all-available: leaving out ${u.name} (${u.reason})`).forEach((l) => log(l));
    return packagesOf(found.available);
  }
  const resolved = await resolveBackend(name, undefined, probe);
  for (const s of resolved.skipped) wrap(`auto: skipped ${s.name} (${s.reason})`).forEach((l) => log(l));
  return packagesOf([resolved.backend]);
}

/**
 * Options (or a resumed file) → backends probed, cards chosen, the result file open with what is
 * left to measure. Bad input (a card that is not there, an unknown --card) fails here, before a
 * result file exists.
 */
export async function prepareRun(o: RunOptions, ctx: RunContext, resumed?: ResultSession): Promise<PreparedRun> {
  const plan = planRun(o);
  const gpus = queryGpus();
  const cudaVisible = process.env.CUDA_VISIBLE_DEVICES;
  const backendName = resumed ? resumed.run.backend : plan.backend;
  const { backends, packages } = await backendsFor(backendName, ctx.log, ctx.probeEnv);
  if (resumed) {
    // a file names one machine and one moebench: cases from another must not join it
    const here = captureEnvironment({ commandLine: ctx.argv, backendsAvailable: [], packages, gpus, startedAt: resumed.environment.startedAt });
    const differences = resumeDifferences(resumed.environment, here);
    if (differences.length) {
      throw new UsageError(
        `${resumed.path} was started on another machine or software (${differences.join('; ')}): its cases and this machine's would share one environment that names only the first; start a new run`,
      );
    }
  }
  const visible = visibleCards(gpus, cudaVisible);
  const choices = new Map(backends.map((b) => [b.name, chooseCard(b.name, b.placement, o.device, gpus, visible, cudaVisible)]));
  const label = backends.length === 1 ? backends[0].name : 'all-available';
  const deviceOf = (b: Backend) => b.deviceLabel ?? describeDevice(b.placement, choices.get(b.name)!, gpus);
  const device = backends.length === 1 ? deviceOf(backends[0]) : [...new Set(backends.map(deviceOf))].join('; ');
  if (o.card && backends.every((b) => b.placement === 'host')) {
    throw new UsageError(
      `--card ${o.card} names the GPU whose datasheet roofline a case is judged against; ${backends.map((b) => b.name).join(', ')} run${backends.length > 1 ? '' : 's'} on the host CPU, which would then pass for that GPU: leave out --card`,
    );
  }
  const peaks = new Map(backends.map((b) => [b.name, peakFor(o, b, choices.get(b.name)!, gpus)]));

  for (const b of backends) checkFootprints(plan.cases, memoryFor(b, choices.get(b.name)!));
  const threads = threadsWarning(o.threads);
  if (threads) ctx.log(threads);

  const path = resumed ? resumed.path : (o.out ?? defaultResultPath(o.outDir, label, device));
  if (!resumed) {
    // taken before the path is claimed, so a second run cannot claim it in between
    lockForWriting(path, 'result file');
    claimOutPath(path, o.force, ctx.log);
  }
  const session =
    resumed ??
    (() => {
      const environment = captureEnvironment({
        commandLine: ctx.argv,
        backendsAvailable: backends.map((b) => b.name),
        packages,
        gpus,
        startedAt: new Date().toISOString(),
      });
      return ResultSession.create(path, environment, {
        ...(plan.suite ? { suite: plan.suite.name } : {}),
        backend: backendName === 'all-available' ? 'all-available' : label,
        device,
        options: { ...o, deviceAll: false } as Record<string, unknown>,
      });
    })();
  // after the file exists, so an unwritable --out is the one line a bad path gets
  const hostCheck = await ctx.checkHost?.({ hostCases: backends.some((b) => onHostCpu(b.placement)) });
  if (hostCheck && !resumed) session.recordEnvironment({ hostCheck });
  const done = session.completedKeys((c) => isComplete(c, o.repetitions));
  const todo = plan.cases.flatMap((c) => backends.map((b) => ({ c, b }))).filter(({ c, b }) => !done.has(caseKey(b.name, c.id)));
  ctx.log(
    `moebench: ${todo.length} case(s) on ${backends.map((b) => b.name).join(', ')} (${device})${done.size ? `, ${done.size} already in the file` : ''} → ${session.path}`,
  );
  const reps = new Map(
    todo.map(({ c, b }) => {
      const saved = session.cases.find((r) => caseKey(r.backend, r.id) === caseKey(b.name, c.id));
      return [caseKey(b.name, c.id), saved ? splitRepetitions(saved) : []];
    }),
  );
  return { options: o, backends, session, device, todo, reps, choices, peaks, deviceOf };
}

/**
 * Measures every case left, each in its own worker process, writing the file after each one.
 * Repetitions go in rounds over the whole suite rather than back to back, so each case's
 * processes are spread over the run and its interval sees the host's drift over minutes, and
 * every case sees the same drift (Abedi & Brecht's multiple interleaved trials, in a fixed order).
 */
export interface RoundsOutput {
  /** A line that stays: a finished case. */
  log: (line: string) => void;
  /** Where the run stands now (which case, which stage, how long is left); each replaces the last on a terminal. */
  progress: (line: string) => void;
}

export async function runRounds(p: PreparedRun, out: RoundsOutput, signal: AbortSignal): Promise<void> {
  const { options: o, todo, reps, backends } = p;
  const repetitions = o.repetitions;
  const left = () =>
    todo.reduce((n, { c, b }) => {
      const have = reps.get(caseKey(b.name, c.id))!;
      return n + (have.some(isFinal) ? 0 : Math.max(0, repetitions - have.length));
    }, 0);
  const startedMs = Date.now();
  let processesDone = 0;
  const where = () => (processesDone > 0 && todo.length * repetitions > 1 ? ` · ${progressText(processesDone, left(), Date.now() - startedMs)}` : '');
  // what starting a process costs beyond its sampling, learned as the run goes (the median so far)
  const overheadsMs: number[] = [];
  const limitsFor = () => {
    if (o.timeBudgetMs === undefined) return { warmup: o.warmup, stopping: o.stopping };
    const sorted = [...overheadsMs].sort((a, b) => a - b);
    const overheadMs = sorted.length ? sorted[Math.floor(sorted.length / 2)] : FIRST_GUESS_OVERHEAD_MS;
    return budgetedLimits(o, o.timeBudgetMs - (Date.now() - startedMs), left(), overheadMs);
  };
  for (let round = 1; round <= repetitions && !signal.aborted; round++) {
    for (const [i, { c, b }] of todo.entries()) {
      const have = reps.get(caseKey(b.name, c.id))!;
      if (have.length >= round || have.some(isFinal)) continue;
      const tag = `[${i + 1}/${todo.length}] ${c.id}${backends.length > 1 ? ` on ${b.name}` : ''}`;
      const repTag = repetitions > 1 ? `${tag} (repetition ${round}/${repetitions})` : tag;
      const peak = p.peaks.get(b.name);
      const choice = p.choices.get(b.name)!;
      const { warmup, stopping } = limitsFor();
      const processStartedMs = Date.now();
      const one = await executeIsolated(
        {
          case: c,
          backend: b.name,
          deviceId: choice.deviceId,
          workerEnv: { ...choice.workerEnv, ...mathEnv(b.placement, c.dtype) },
          gpuUuid: choice.card?.uuid,
          device: p.deviceOf(b),
          modelDir: o.modelDir,
          threads: o.threads,
          warmup,
          stopping,
          profile: o.profile && have.length === 0,
          peakName: peak?.name,
        },
        b,
        { timeoutMs: o.caseTimeoutMs, heapLimitMb: o.heapLimitMb, signal, onStage: (stage) => out.progress(`${repTag}: ${stage}${where()}`) },
      );
      if (signal.aborted) break;
      overheadsMs.push(processOverheadMs(Date.now() - processStartedMs, one));
      have.push(one);
      const result = combineRepetitions(have, o.stopping.targetRelHalfWidth, c.seed, repetitions);
      p.session.add(result);
      const tps = result.throughput
        ? `${fmt(result.throughput.tokensPerSec, 4)} tokens/s ±${(result.summary!.medianCiRelHalfWidth * 100).toFixed(1)}%`
        : '';
      const finished = isComplete(result, repetitions);
      processesDone++;
      // the finished case stays on screen, one line; its notes come with the table
      if (finished) out.log(`${tag}: ${result.status} ${tps}`);
      else out.progress(`${repTag}: so far ${result.status} ${tps}${where()}`);
    }
  }
}

/** Fits the sweeps and marks the file ended; a resumed file with nothing left keeps its end time. */
export function finishRun(p: PreparedRun): SweepFit[] {
  const sweeps = fitSweeps(p.session.cases);
  if (p.todo.length > 0) p.session.finish(sweeps);
  // one interrupted after its last case ends with that case
  else if (!p.session.environment.endedAt)
    p.session.finish(
      sweeps,
      p.session.cases
        .map((c) => c.endedAt)
        .sort()
        .pop(),
    );
  return sweeps;
}

/** What an interrupted run left, and the command that finishes it. */
export function interruptedText(p: PreparedRun): string {
  const partial = p.session.cases.filter((c) => !isComplete(c, p.options.repetitions)).length;
  return `interrupted: ${p.session.cases.length} case(s) are saved in ${p.session.path}${partial ? ` (${partial} with fewer than ${p.options.repetitions} repetitions)` : ''}; continue with: moebench run --resume ${p.session.path}`;
}

/**
 * --device all: one run per card, each pinned to its card through CUDA_VISIBLE_DEVICES (its
 * probe too, so the engine never touches another card), in parallel when the host has a core
 * per card (perCardSchedule), each with its own file.
 */
export function perCardOptions(
  o: RunOptions,
  cards: GpuInfo[],
  backend: string,
): { schedule: ReturnType<typeof perCardSchedule>; runs: { card: GpuInfo; options: RunOptions }[] } {
  const schedule = perCardSchedule(cards.length, os.availableParallelism(), o.threads);
  return {
    schedule,
    runs: cards.map((card) => ({
      card,
      options: {
        ...o,
        backend,
        device: card.index,
        deviceAll: false,
        threads: schedule.threadsPerCard ?? o.threads,
        out: o.out ? o.out.replace(/(\.json)?$/, `-gpu${card.index}.json`) : undefined,
      },
    })),
  };
}
