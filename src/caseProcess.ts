import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend } from './backends/backend.js';
import { baseResult } from './execute.js';
import type { StdRelOptions, WarmupOptions } from './measure/stopping.js';
import type { CaseResult } from './results/schema.js';
import type { WorkloadCase } from './workloads/spec.js';
import { runWorker } from './workerProcess.js';

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

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'caseWorker.js');

/** Why a worker ended without a result, in words a user can act on. */
export function failureReason(o: { timedOut: boolean; timeoutMs: number; code: number | null; signal: NodeJS.Signals | null; stderr: string }): string {
  const lastLine = o.stderr.split('\n').map((l) => l.trim()).filter(Boolean).pop() ?? '';
  if (o.timedOut) return `timed out after ${(o.timeoutMs / 1000).toFixed(0)} s: the case worker was killed (raise --case-timeout-s if the case is just slow)`;
  const oom = /heap out of memory|Allocation failed|std::bad_alloc|Failed to allocate memory|out of memory/i;
  const oomLine = o.stderr.split('\n').map((l) => l.trim()).find((l) => oom.test(l));
  if (oomLine) return `out of memory: ${oomLine}`;
  if (o.signal === 'SIGKILL') return 'crashed: killed by SIGKILL (often the kernel OOM killer: the case needs more memory than the machine has)';
  if (o.signal) return `crashed: killed by ${o.signal}${lastLine ? `: ${lastLine}` : ''}`;
  return `crashed: worker exited with code ${o.code}${lastLine ? `: ${lastLine}` : ''}`;
}

/** Runs one case in its own process; always resolves, with a failed result when the worker dies. */
export async function executeIsolated(job: CaseJob, backend: Pick<Backend, 'name' | 'engine' | 'executionProvider'>, o: IsolationOptions): Promise<CaseResult> {
  const startedAt = new Date().toISOString();
  const end = await runWorker<CaseResult>(WORKER, job, {
    timeoutMs: o.timeoutMs, env: job.workerEnv, signal: o.signal, onStage: o.onStage,
    execArgv: o.heapLimitMb ? [`--max-old-space-size=${o.heapLimitMb}`] : [],
  });
  if (end.answer) return end.answer;
  const error = end.startError ? `could not start the case worker: ${end.startError}` : failureReason({ ...end, timeoutMs: o.timeoutMs });
  return { ...baseResult(job.case, backend, job.device), startedAt, status: 'failed', error, endedAt: new Date().toISOString() };
}
