import { join } from 'node:path';
import { failureReason } from '../caseProcess.js';
import { projectRoot } from '../env/machine.js';
import { runWorker } from '../workerProcess.js';
import type { Backend, Probe } from './backend.js';

// the built worker, also when this module runs from source (tests)
const WORKER = join(projectRoot(), 'dist', 'src', 'backends', 'probeWorker.js');
const PROBE_TIMEOUT_MS = 120_000;

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
export async function probeInProcess(name: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<Probe> {
  const end = await runWorker<Probe>(WORKER, name, { timeoutMs });
  if (end.answer) return end.answer;
  const why = end.startError ? `could not start: ${end.startError}` : end.timedOut ? `timed out after ${timeoutMs / 1000} s` : failureReason({ ...end, timeoutMs });
  return { available: false, reason: `the probe ${why}`, fix: 'see the driver and library messages above; moebench env lists every backend' };
}
