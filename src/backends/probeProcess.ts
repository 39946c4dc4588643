import { fork } from 'node:child_process';
import { join } from 'node:path';
import { failureReason } from '../caseProcess.js';
import { projectRoot } from '../env/machine.js';
import type { Backend, Probe } from './backend.js';

// the built worker, also when this module runs from source (tests)
const WORKER = join(projectRoot(), 'dist', 'src', 'backends', 'probeWorker.js');
const PROBE_TIMEOUT_MS = 120_000;
const STDERR_TAIL_BYTES = 4096;

/**
 * Whether a backend can run here, asked so that the long-lived `moebench run` process never holds
 * a GPU: an engine on a card (CUDA, WebGPU) is probed in a short-lived process of its own. Left in
 * the parent, libtensorflow's GPU build would keep nearly all of every card's memory for the whole
 * run (TensorFlow's default), so each case worker would start out of memory; ORT's CUDA EP would
 * keep a context on the first card. A driver that crashes while starting costs the probe, not the run.
 */
export function probeBackend(backend: Backend): Promise<Probe> {
  return backend.placement === 'host' ? backend.probe() : probeInProcess(backend.name);
}

/** Runs `backend.probe()` for a backend of the registry, by name, in a child process. */
export function probeInProcess(name: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<Probe> {
  return new Promise((resolve) => {
    const child = fork(WORKER, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    let probe: Probe | undefined;
    let timedOut = false;
    child.stderr!.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-STDERR_TAIL_BYTES);
    });
    child.on('message', (m) => {
      probe = m as Probe;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const failed = (reason: string): Probe => ({ available: false, reason: `the probe ${reason}`, fix: 'see the driver and library messages above; moebench env lists every backend' });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(probe ?? failed(timedOut ? `timed out after ${timeoutMs / 1000} s` : failureReason({ timedOut, timeoutMs, code, signal, stderr })));
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve(failed(`could not start: ${err.message}`));
    });
    child.send(name);
  });
}
