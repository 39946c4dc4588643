import { availableParallelism, totalmem } from 'node:os';
import { UsageError } from '../errors.js';
import { footprintBytes, planningBytes } from '../workloads/accounting.js';
import type { WorkloadCase } from '../workloads/spec.js';

/**
 * Limits that protect the machine, derived from its memory and cores. Without them an absurd
 * --tokens or --experts ran until V8 ran out of heap (minutes, then a stack trace) or a case
 * process grew past the host's memory, and --threads 100000 grew a worker without bound.
 */

const GB = 1024 ** 3;
const gb = (bytes: number) => `${(bytes / GB).toPrecision(3)} GB`;

/** Planning may take at most this share of the host's memory (the rest is the case processes'). */
export const PLANNING_SHARE = 0.25;

/** Refuses a plan whose routing alone (tokens × top-k, experts) would not fit in its share of host memory. */
export function checkPlanning(cases: WorkloadCase[], hostBytes = totalmem()): void {
  const limit = hostBytes * PLANNING_SHARE;
  const over = cases.find((c) => planningBytes(c) > limit);
  if (!over || over.layer.kind !== 'moe') return;
  throw new UsageError(
    `${over.id}: routing ${over.numTokens} tokens × top-${over.layer.topK} over ${over.layer.numExperts} experts takes ${gb(planningBytes(over))}, more than ${PLANNING_SHARE * 100}% of this host's ${gb(hostBytes)} of memory: use fewer --tokens or --experts`,
  );
}

/**
 * Refuses cases that cannot fit where they run: the host's memory for a host backend, the card's
 * for a GPU one (when its size is known). Checked before the result file is created, so a refused
 * run leaves nothing behind.
 */
export function checkFootprints(cases: WorkloadCase[], memory: { bytes: number; where: string }): void {
  const over = cases.filter((c) => footprintBytes(c) > memory.bytes);
  if (!over.length) return;
  const worst = over.reduce((a, c) => (footprintBytes(c) > footprintBytes(a) ? c : a));
  throw new UsageError(
    `${over.length} case(s) need more memory than ${memory.where} has (${gb(memory.bytes)}): ${worst.id} needs at least ${gb(footprintBytes(worst))} for its weights and activations; use fewer --tokens or --experts, a smaller preset, or --experts-per-card for a slice (--dry-run lists each case)`,
  );
}

/** Intra-op threads beyond this are refused: each reserves a stack, and no host has that many cores. */
export function maxThreads(cores = availableParallelism()): number {
  return Math.max(1024, 8 * cores);
}

/** More threads than cores is allowed (someone may measure oversubscription) but said once. */
export function threadsWarning(threads: number | undefined, cores = availableParallelism()): string | undefined {
  if (threads === undefined || threads <= cores) return undefined;
  return `moebench: --threads ${threads} is more than this host's ${cores} cores: the threads will share cores, which slows each call and makes timings noisier`;
}
