import { ensureDir } from '../fsUtil.js';
import { spawn } from 'node:child_process';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend } from '../backends/backend.js';
import { availableBackends, resolveBackend } from '../backends/registry.js';
import { executeIsolated } from '../caseProcess.js';
import { combineRepetitions, isComplete, isFinal, splitRepetitions } from '../repetitions.js';
import { UsageError } from '../errors.js';
import { cardPeakByName, findCardPeak, type CardPeak } from '../env/datasheets.js';
import { chooseCard, perCardSchedule, visibleCards, type CardChoice } from '../env/cards.js';
import { captureEnvironment, describeDevice } from '../env/machine.js';
import { queryGpus } from '../env/gpus.js';
import { fitSweeps } from '../measure/sweep.js';
import { planRun, type RunOptions } from '../options.js';
import { progressText } from '../report/progress.js';
import { caseTable, planTable, sweepTable } from '../report/table.js';
import type { GpuInfo } from '../results/schema.js';
import { resumeDifferences } from '../results/environment.js';
import { caseKey, ResultSession } from '../results/session.js';
import { accountFor } from '../workloads/accounting.js';
import type { Io } from './io.js';

export function defaultResultPath(outDir: string, backend: string, device: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  const host = os.hostname().replace(/[^A-Za-z0-9_.-]/g, '_');
  const card = device.startsWith('gpu:') ? `-gpu${device.slice(4).split(' ')[0]}` : '';
  return join(outDir, `${stamp}-${host}-${backend}${card}.json`);
}

function openSession(path: string, create: () => ResultSession): ResultSession {
  try {
    ensureDir(dirname(path));
    return create();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code) throw new UsageError(`cannot write result file ${path}: ${code}`);
    throw err;
  }
}

/** Datasheet peaks for the roofline: --card, else the card the cases run on (or the model every card shares). */
function peakFor(o: RunOptions, b: Backend, choice: CardChoice, gpus: GpuInfo[]): CardPeak | undefined {
  if (o.card) {
    const peak = cardPeakByName(o.card);
    if (!peak) throw new UsageError(`unknown card "${o.card}" for the roofline: see src/env/datasheets.ts for the cards with datasheet peaks`);
    return peak;
  }
  if (b.placement === 'host') return undefined;
  const sameModel = gpus.length > 0 && gpus.every((g) => g.name === gpus[0].name) ? gpus[0] : undefined;
  const card = choice.card ?? sameModel;
  return card ? findCardPeak(card.name) : undefined;
}

/** `moebench run`: plan → backend → each case in its own process → result file → table. Returns the exit code. */
export async function runCommand(o: RunOptions, io: Io, resumePath?: string): Promise<number> {
  let options = o;
  let session: ResultSession | undefined;
  if (resumePath) {
    session = openSession(resumePath, () => ResultSession.resume(resumePath));
    options = { ...(session.run.options as unknown as RunOptions), json: o.json };
  }
  const plan = planRun(options);

  if (options.dryRun) {
    const planned = plan.cases.map((c) => ({ case: c, work: accountFor(c) }));
    io.out(options.json ? JSON.stringify({ backend: plan.backend, cases: planned.map((p) => ({ ...p.case, ...p.work })) }, null, 2) : planTable(planned));
    return 0;
  }

  const gpus = queryGpus();
  const cudaVisible = process.env.CUDA_VISIBLE_DEVICES;
  if (session) {
    // a file names one machine and one moebench: cases from another must not join it
    const here = captureEnvironment({ commandLine: io.argv, backendsAvailable: [], gpus, startedAt: session.environment.startedAt });
    const differences = resumeDifferences(session.environment, here);
    if (differences.length) {
      throw new UsageError(`${resumePath} was started on another machine or software (${differences.join('; ')}): its cases and this machine's would share one environment that names only the first; start a new run`);
    }
  }
  const visible = visibleCards(gpus, cudaVisible);
  const backendName = resumePath ? session!.run.backend : plan.backend;
  let backends: Backend[];
  if (backendName === 'all-available') {
    const found = await availableBackends();
    for (const u of found.unavailable) io.err(`all-available: leaving out ${u.name} (${u.reason})`);
    backends = found.available;
  } else {
    const resolved = await resolveBackend(backendName);
    for (const s of resolved.skipped) io.err(`auto: skipped ${s.name} (${s.reason})`);
    backends = [resolved.backend];
  }
  if (options.deviceAll && (visible ?? gpus).length > 1) {
    const unpinnable = backends.filter((b) => b.placement !== 'cuda');
    if (unpinnable.length) {
      throw new UsageError(`--device all runs one process per card, pinned to it through CUDA_VISIBLE_DEVICES, which only CUDA engines (ort-cuda, tfjs-node-gpu) obey: ${unpinnable.map((b) => `${b.name} runs on ${b.placement === 'host' ? 'the host CPU' : 'the adapter Dawn picks'}`).join(', ')}`);
    }
    if (!visible) throw new UsageError(`--device all: CUDA_VISIBLE_DEVICES=${cudaVisible} names MIG devices, which nvidia-smi's card list cannot pin; run each with --device N instead`);
    return runPerCard(options, visible, backends.length === 1 ? backends[0].name : backendName, io);
  }

  // bad input (a card that is not there, an unknown --card) must fail before a result file exists
  const choices = new Map(backends.map((b) => [b.name, chooseCard(b.name, b.placement, options.device, gpus, visible, cudaVisible)]));
  const label = backends.length === 1 ? backends[0].name : 'all-available';
  const deviceOf = (b: Backend) => b.deviceLabel ?? describeDevice(b.placement, choices.get(b.name)!, gpus);
  const device = backends.length === 1 ? deviceOf(backends[0]) : [...new Set(backends.map(deviceOf))].join('; ');
  const peaks = new Map(backends.map((b) => [b.name, peakFor(options, b, choices.get(b.name)!, gpus)]));

  if (!session) {
    const path = options.out ?? defaultResultPath(options.outDir, label, device);
    const environment = captureEnvironment({ commandLine: io.argv, backendsAvailable: backends.map((b) => b.name), gpus, startedAt: new Date().toISOString() });
    session = openSession(path, () => ResultSession.create(path, environment, {
      ...(plan.suite ? { suite: plan.suite.name } : {}), backend: backendName === 'all-available' ? 'all-available' : label, device,
      options: { ...options, deviceAll: false } as Record<string, unknown>,
    }));
  }
  const repetitions = options.repetitions ?? 1;
  const done = session.completedKeys((c) => isComplete(c, repetitions));
  const todo = plan.cases.flatMap((c) => backends.map((b) => ({ c, b }))).filter(({ c, b }) => !done.has(caseKey(b.name, c.id)));
  io.err(`moebench: ${todo.length} case(s) on ${backends.map((b) => b.name).join(', ')} (${device})${done.size ? `, ${done.size} already in the file` : ''} → ${session.path}`);

  // the repetitions each case already has: none, or those of a resumed file's unfinished case
  const reps = new Map(todo.map(({ c, b }) => {
    const saved = session!.cases.find((r) => caseKey(r.backend, r.id) === caseKey(b.name, c.id));
    return [caseKey(b.name, c.id), saved ? splitRepetitions(saved) : []];
  }));
  const abort = new AbortController();
  const stop = io.onInterrupt(() => {
    abort.abort();
    const partial = session!.cases.filter((c) => !isComplete(c, repetitions)).length;
    io.err(`\ninterrupted: ${session!.cases.length} case(s) are saved in ${session!.path}${partial ? ` (${partial} with fewer than ${repetitions} repetitions)` : ''}; continue with: moebench run --resume ${session!.path}`);
  });
  try {
    // Repetitions go in rounds over the whole suite rather than back to back, so each case's
    // processes are spread over the run and its interval sees the host's drift over minutes,
    // and every case sees the same drift (Abedi & Brecht's multiple interleaved trials, in a fixed order).
    const left = () => todo.reduce((n, { c, b }) => {
      const have = reps.get(caseKey(b.name, c.id))!;
      return n + (have.some(isFinal) ? 0 : Math.max(0, repetitions - have.length));
    }, 0);
    const startedMs = Date.now();
    let processesDone = 0;
    for (let round = 1; round <= repetitions && !abort.signal.aborted; round++) {
      for (const [i, { c, b }] of todo.entries()) {
        const have = reps.get(caseKey(b.name, c.id))!;
        if (have.length >= round || have.some(isFinal)) continue;
        const tag = `[${i + 1}/${todo.length}] ${c.id}${backends.length > 1 ? ` on ${b.name}` : ''}`;
        const repTag = repetitions > 1 ? `${tag} (repetition ${round}/${repetitions})` : tag;
        const peak = peaks.get(b.name);
        const choice = choices.get(b.name)!;
        const one = await executeIsolated({
          case: c, backend: b.name, deviceId: choice.deviceId, workerEnv: choice.workerEnv, gpuUuid: choice.card?.uuid, device: deviceOf(b),
          modelDir: options.modelDir, threads: options.threads,
          warmup: options.warmup, stopping: options.stopping, profile: options.profile && have.length === 0, peakName: peak?.name,
        }, b, { timeoutMs: options.caseTimeoutMs, heapLimitMb: options.heapLimitMb, signal: abort.signal, onStage: (stage) => io.err(`${repTag}: ${stage}`) });
        if (abort.signal.aborted) break;
        have.push(one);
        const result = combineRepetitions(have, options.stopping.targetRelHalfWidth, c.seed, repetitions);
        session.add(result);
        const tps = result.throughput ? `${result.throughput.tokensPerSec.toPrecision(4)} tokens/s ±${(result.summary!.medianCiRelHalfWidth * 100).toFixed(1)}%` : '';
        const finished = isComplete(result, repetitions);
        io.err(`${finished ? tag : repTag}: ${finished ? '' : 'so far '}${result.status} ${tps}${result.error ? ` (${result.error})` : ''}`);
        processesDone++;
        if (todo.length * repetitions > 1) io.err(`moebench: ${progressText(processesDone, left(), Date.now() - startedMs)}`);
      }
    }
  } finally {
    stop();
  }
  const sweeps = fitSweeps(session.cases);
  if (todo.length > 0) session.finish(sweeps);
  // a resumed file with nothing left keeps its end time; one interrupted after its last case ends with that case
  else if (!session.environment.endedAt) session.finish(sweeps, session.cases.map((c) => c.endedAt).sort().pop());
  const sweepText = sweeps.length ? `\n\ntime = a + b·tokens:\n${sweepTable(sweeps)}` : '';
  io.out(options.json ? JSON.stringify({ file: session.path, cases: session.cases, sweeps }, null, 2) : `${caseTable(session.cases)}${sweepText}\n\nresult file: ${session.path}`);
  return session.cases.some((c) => c.status === 'failed' || c.status === 'invalid') ? 1 : 0;
}

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'cli.js');

/**
 * --device all: one `moebench run --device N` process per card, each pinned to its card through
 * CUDA_VISIBLE_DEVICES (so even its own probe of the engine touches only that card), in parallel
 * when the host has a core per card (perCardSchedule).
 */
async function runPerCard(o: RunOptions, cards: GpuInfo[], backend: string, io: Io): Promise<number> {
  const args = io.argv.slice(2);
  const runAt = args.indexOf('run');
  const dropped = new Set(['--device', '--out', '--backend', '--threads']);
  const base = args.slice(runAt + 1).filter((a, i, all) => !dropped.has(a) && !dropped.has(all[i - 1]) && ![...dropped].some((d) => a.startsWith(`${d}=`)));
  const schedule = perCardSchedule(cards.length, os.availableParallelism(), o.threads);
  io.err(`moebench: --device all: ${cards.length} cards, one process each, ${schedule.why}`);
  const runCard = (g: GpuInfo) => new Promise<number>((resolve) => {
    const out = o.out ? o.out.replace(/(\.json)?$/, `-gpu${g.index}.json`) : undefined;
    const cardArgs = ['--backend', backend, '--device', String(g.index), ...(schedule.threadsPerCard ? ['--threads', String(schedule.threadsPerCard)] : []), ...(out ? ['--out', out] : [])];
    const child = spawn(process.execPath, [CLI, 'run', ...base, ...cardArgs], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CUDA_VISIBLE_DEVICES: g.uuid } });
    const prefix = (stream: NodeJS.ReadableStream, write: (s: string) => void) => {
      let buf = '';
      stream.on('data', (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop() ?? '';
        for (const l of lines) write(`[gpu ${g.index}] ${l}`);
      });
      stream.on('end', () => buf && write(`[gpu ${g.index}] ${buf}`));
    };
    prefix(child.stdout!, io.out);
    prefix(child.stderr!, io.err);
    // 'close', not 'exit': the card's last lines (its table) may still be in the pipes at exit
    child.on('close', (code) => resolve(code ?? 1));
  });
  const codes: number[] = [];
  if (schedule.parallel) codes.push(...await Promise.all(cards.map(runCard)));
  else for (const g of cards) codes.push(await runCard(g));
  return Math.max(...codes);
}
