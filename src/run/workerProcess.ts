import { fork } from 'node:child_process';

const STDERR_TAIL_BYTES = 4096;

/** How a worker process ended, for failureReason when it sent no answer. */
export interface WorkerEnd<T> {
  /** The worker's answer: its last message that was not progress. */
  answer?: T;
  timedOut: boolean;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last few KiB of its stderr. */
  stderr: string;
  /** Set when the process could not be started at all. */
  startError?: string;
}

export interface WorkerOptions {
  /** Past this the worker is killed (SIGKILL). */
  timeoutMs: number;
  env?: Record<string, string>;
  execArgv?: string[];
  /** Aborting kills the worker. */
  signal?: AbortSignal;
  /** Messages of the form { stage } are progress, passed here rather than taken as the answer. */
  onStage?: (stage: string) => void;
}

/**
 * Forks `script`, sends it `message` and resolves when it exits, with its answer if it gave one:
 * the one way moebench runs code that may crash, exhaust memory or hang (case workers, probes).
 */
export function runWorker<T>(script: string, message: unknown, o: WorkerOptions): Promise<WorkerEnd<T>> {
  return new Promise((resolve) => {
    // its own process group, so that killing it also kills what it started (nvidia-smi's reading
    // loop, an engine's helpers), which a SIGKILL to the worker alone would leave running
    const child = fork(script, [], {
      execArgv: o.execArgv ?? [],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, ...o.env },
      detached: true,
    });
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // the group is already gone
      }
    };
    let stderr = '';
    let answer: T | undefined;
    let timedOut = false;
    child.stderr!.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-STDERR_TAIL_BYTES);
    });
    child.on('message', (m) => {
      if (m && typeof m === 'object' && 'stage' in m) o.onStage?.(String((m as { stage: unknown }).stage));
      else answer = m as T;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, o.timeoutMs);
    const onAbort = () => killGroup();
    o.signal?.addEventListener('abort', onAbort);
    let finished = false;
    const done = (end: WorkerEnd<T>) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      resolve(end);
    };
    // 'exit' can come before the worker's last IPC message has been read (seen: a probe's answer
    // lost under load, "exited with code 0"); 'close' waits for the channel and the pipes, which
    // killing what the worker left behind lets close
    child.on('exit', (code, signal) => {
      killGroup();
      setTimeout(() => done({ answer, timedOut, code, signal, stderr }), 5000).unref();
    });
    child.on('close', (code, signal) => done({ answer, timedOut, code, signal, stderr }));
    child.on('error', (err) => done({ timedOut, code: null, signal: null, stderr, startError: err.message }));
    child.send(message as object);
  });
}

/** Why a worker ended without a result, in words a user can act on. */
export function failureReason(o: {
  timedOut: boolean;
  timeoutMs: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}): string {
  // Node ends an uncaught exception's report with its version: the error line above it says what happened
  const lines = o.stderr
    .split('\n')
    .map((l) => l.trim())
    // V8's fatal-error banner is framed by lines of '#' alone
    .filter((l) => l && !/^Node\.js v\d/.test(l) && !/^#+$/.test(l));
  const lastLine = lines.filter((l) => /^\w*Error\b|^Error:/.test(l)).pop() ?? lines.pop() ?? '';
  if (o.timedOut)
    return `timed out after ${(o.timeoutMs / 1000).toFixed(0)} s: the case worker was killed (raise --case-timeout-s if the case is just slow)`;
  const oom = /heap out of memory|Allocation failed|std::bad_alloc|Failed to allocate memory|out of memory|javascript OOM/i;
  const oomLine = o.stderr
    .split('\n')
    .map((l) => l.trim())
    .find((l) => oom.test(l));
  if (oomLine) return `out of memory: ${oomLine.replace(/^#\s*/, '')}`;
  if (o.signal === 'SIGKILL') return 'crashed: killed by SIGKILL (often the kernel OOM killer: the case needs more memory than the machine has)';
  if (o.signal) return `crashed: killed by ${o.signal}${lastLine ? `: ${lastLine}` : ''}`;
  return `crashed: worker exited with code ${o.code}${lastLine ? `: ${lastLine}` : ''}`;
}
