/**
 * Runs one case in a child process so that a crash, an out-of-memory or a hang
 * costs that case only. Receives a CaseJob over IPC, answers with the CaseResult.
 */
import { backendByName } from '../backends/registry.js';
import { executeCase } from './execute.js';
import { gpuReader } from './execute.js';
import { hrClock } from '../measure/clock.js';
import type { CaseJob } from './isolate.js';
import { cardPeakByName } from '../env/datasheets.js';
import { startGpuMonitor } from '../env/gpuMonitor.js';

// the parent is gone: end this worker and whatever it started (its process group)
process.on('disconnect', () => {
  try {
    process.kill(0, 'SIGKILL');
  } catch {
    process.exit(1);
  }
});
process.once('message', async (job: CaseJob) => {
  // the parent probed the backend already; a second probe would only cost time
  const resolved = backendByName(job.backend);
  const result = await executeCase(job.case, {
    backend: resolved.backend,
    modelDir: job.modelDir,
    deviceId: job.deviceId,
    threads: job.threads,
    device: job.device,
    sampler: { warmup: job.warmup, stopping: job.stopping, clock: resolved.clock ?? hrClock },
    readGpu: job.gpuUuid ? gpuReader(job.gpuUuid) : undefined,
    monitorGpu: job.gpuUuid ? () => startGpuMonitor(job.gpuUuid!) : undefined,
    profile: job.profile,
    peak: job.peakName ? cardPeakByName(job.peakName) : undefined,
    onStage: (stage) => process.send!({ stage }),
  });
  // the pinning is part of what ran: record the CUDA device list the engine saw
  const pinned = 'CUDA_VISIBLE_DEVICES' in job.workerEnv ? process.env.CUDA_VISIBLE_DEVICES : undefined;
  const recorded = pinned === undefined ? result : { ...result, details: { ...result.details, cudaVisibleDevices: pinned } };
  process.send!(recorded, () => process.exit(0));
});
