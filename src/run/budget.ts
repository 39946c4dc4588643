import type { StdRelOptions, WarmupOptions } from '../measure/stopping.js';

/** The least sampling time a process gets once a budget is spent: enough for a few calls of a small case. */
export const MIN_SHARE_MS = 200;
/** Before any process has finished, what starting one is assumed to cost beyond its sampling (Node, the engine, the model, the check). */
export const FIRST_GUESS_OVERHEAD_MS = 1500;

/**
 * One process's warm-up and sampling limits under a run's time budget: what is left, shared
 * evenly among the processes still to run, less what each costs beyond sampling. Warm-up gets
 * 30% of the share (ONNX Runtime's first calls on a CPU ran 40% slow for about five calls here),
 * the timed calls 50%, and the no-work overhead model, whose calls are cheap and converge within
 * its own 200 ms minimums, the rest. Limits only ever shrink.
 * Pure.
 */
export function budgetedLimits(
  limits: { warmup: WarmupOptions; stopping: StdRelOptions },
  leftMs: number,
  processesLeft: number,
  overheadPerProcessMs: number,
): { warmup: WarmupOptions; stopping: StdRelOptions; shareMs: number } {
  const shareMs = Math.max(MIN_SHARE_MS, leftMs / Math.max(1, processesLeft) - overheadPerProcessMs);
  const stopMax = Math.min(limits.stopping.maxTimeMs, 0.5 * shareMs);
  const warmMax = Math.min(limits.warmup.maxTimeMs, 0.3 * shareMs);
  return {
    shareMs,
    warmup: { ...limits.warmup, maxTimeMs: warmMax, minTimeMs: Math.min(limits.warmup.minTimeMs, warmMax) },
    stopping: { ...limits.stopping, maxTimeMs: stopMax, minTimeMs: Math.min(limits.stopping.minTimeMs, stopMax) },
  };
}

/** What a finished process cost beyond its own sampling: its wall time less its warm-up, timed and overhead calls. Never negative. */
export function processOverheadMs(
  wallMs: number,
  r: { warmupSamplesMs?: number[]; samplesMs?: number[]; overhead?: { medianMs: number; count: number } },
): number {
  const sum = (xs?: number[]) => (xs ?? []).reduce((a, x) => a + x, 0);
  const sampledMs = sum(r.warmupSamplesMs) + sum(r.samplesMs) + (r.overhead ? r.overhead.medianMs * r.overhead.count : 0);
  return Math.max(0, wallMs - sampledMs);
}
