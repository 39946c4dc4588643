import { join } from 'node:path';
import type { Backend, Probe } from '../backends/backend.js';
import { baseResult } from './execute.js';
import type { StdRelOptions, WarmupOptions } from '../measure/stopping.js';
import type { CaseResult } from '../results/schema.js';
import type { WorkloadCase } from '../workloads/spec.js';
import { failureReason, runWorker } from './workerProcess.js';
import { projectRoot } from '../files/projectRoot.js';

/** What a case worker needs; plain data, sent over IPC. */
export interface CaseJob {
  case: WorkloadCase;
  backend: string;
  /** The engine's device index (0 when workerEnv pins the worker to its card). */
  deviceId: number;
  /** Added to the worker's environment: CUDA_VISIBLE_DEVICES pinning a CUDA engine to its card. */
  workerEnv: Record<string, string>;
  device: string;
  modelDir: string;
  threads?: number;
  warmup: WarmupOptions;
  stopping: StdRelOptions;
  /** UUID of the card read before and after the case, when the card is known. */
  gpuUuid?: string;
  profile: boolean;
  /** Datasheet card (CARD_PEAKS name) for the roofline; a RegExp does not survive IPC, a name does. */
  peakName?: string;
}

export interface IsolationOptions {
  /** Wall-clock limit for the whole case (build, check, measure); past it the worker is killed. */
  timeoutMs: number;
  /** V8 heap limit of the worker, MiB; undefined leaves Node's default. */
  heapLimitMb?: number;
  /** Aborting kills the worker (Ctrl-C of the parent). */
  signal?: AbortSignal;
  /** The worker's progress: each stage of the case as it starts. */
  onStage?: (stage: string) => void;
}

// the built worker, also when this module is loaded from source (the tests import src/ directly)
const CASE_WORKER = join(projectRoot(), 'dist', 'src', 'run', 'caseWorker.js');

const STOP_SIGNALS: ReadonlySet<NodeJS.Signals> = new Set(['SIGTERM', 'SIGINT', 'SIGHUP']);
/** How long a worker stopped by a signal waits for the run to be stopped by it too. */
const STOP_GRACE_MS = 2000;

/** Resolves when `signal` aborts or after `ms`, whichever is first. */
function abortedWithin(signal: AbortSignal, ms: number): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(finish, ms);
    function finish() {
      clearTimeout(timer);
      signal.removeEventListener('abort', finish);
      resolve();
    }
    signal.addEventListener('abort', finish);
  });
}

/** Runs one case in its own process; always resolves, with a failed result when the worker dies. */
export async function executeIsolated(
  job: CaseJob,
  backend: Pick<Backend, 'name' | 'engine' | 'executionProvider'>,
  o: IsolationOptions,
): Promise<CaseResult> {
  const startedAt = new Date().toISOString();
  const end = await runWorker<CaseResult>(CASE_WORKER, job, {
    timeoutMs: o.timeoutMs,
    env: job.workerEnv,
    signal: o.signal,
    onStage: o.onStage,
    execArgv: o.heapLimitMb ? [`--max-old-space-size=${o.heapLimitMb}`] : [],
  });
  if (end.answer) return end.answer;
  // a scheduler stopping the job (Slurm's requeue, scancel) signals each of its processes at once,
  // and the worker's end can be seen before the run's own handler has run: the case then looked
  // failed, was saved so, and its resume skipped it. moebench kills workers with SIGKILL only, so
  // a stop signal is the run being stopped, once the run has heard it too
  if (end.signal && STOP_SIGNALS.has(end.signal) && o.signal) await abortedWithin(o.signal, STOP_GRACE_MS);
  const error = end.startError ? `could not start the case worker: ${end.startError}` : failureReason({ ...end, timeoutMs: o.timeoutMs });
  return {
    ...baseResult(job.case, backend, job.device, { ...process.env, ...job.workerEnv }),
    startedAt,
    status: 'failed',
    error,
    endedAt: new Date().toISOString(),
  };
}

// the built worker, also when this module runs from source (tests)
const PROBE_WORKER = join(projectRoot(), 'dist', 'src', 'run', 'probeWorker.js');
const PROBE_TIMEOUT_MS = 120_000;

/**
 * Whether a backend can run here, asked so that the long-lived `moebench run` process never holds
 * a GPU: an engine on a card (CUDA, WebGPU) is probed in a short-lived process of its own. Left in
 * the parent, libtensorflow's GPU build would keep nearly all of every card's memory for the whole
 * run (TensorFlow's default), so each case worker would start out of memory; ORT's CUDA EP would
 * keep a context on the first card. A driver that crashes while starting costs the probe, not the run.
 */
export function probeBackend(backend: Backend, env?: Record<string, string>): Promise<Probe> {
  const engines = process.env.MOEBENCH_ENGINES?.split(',').map((e) => e.trim());
  // a fixed set of engines, whatever the machine has: tests that need one set it (and a user can, to keep auto off an engine)
  if (engines && !engines.includes(backend.name))
    return Promise.resolve({
      available: false,
      reason: `left out by MOEBENCH_ENGINES=${process.env.MOEBENCH_ENGINES}`,
      fix: 'unset MOEBENCH_ENGINES, or add it there',
    });
  return backend.placement === 'host' ? backend.probe() : probeInProcess(backend.name, PROBE_TIMEOUT_MS, env);
}

/** Runs `backend.probe()` for a backend of the registry, by name, in a child process. */
/** `env` is added to the probe's environment (CUDA_VISIBLE_DEVICES: the card a --device all run is pinned to). */
export async function probeInProcess(name: string, timeoutMs = PROBE_TIMEOUT_MS, env?: Record<string, string>): Promise<Probe> {
  const end = await runWorker<Probe>(PROBE_WORKER, name, { timeoutMs, env });
  if (end.answer) return end.answer;
  const why = end.startError
    ? `could not start: ${end.startError}`
    : end.timedOut
      ? `timed out after ${timeoutMs / 1000} s`
      : failureReason({ ...end, timeoutMs });
  return { available: false, reason: `the probe ${why}`, fix: 'see the driver and library messages above; moebench env lists every backend' };
}
