import type { CaseResult } from './schema.js';

/** Under this fraction of the card's maximum SM clock a case counts as throttled. */
export const THROTTLE_FRACTION = 0.9;

/** The lowest SM clock a case's card ran at, its maximum, and whether the low came from readings during the calls. */
export interface LowestClock {
  lowMHz: number;
  maxMHz: number;
  during: boolean;
}

/**
 * The lowest SM clock the card ran a case at: from the readings through the timed calls when
 * there are any (schema 1.2), else the one right after them; undefined without both figures.
 */
export function lowestClock(c: CaseResult): LowestClock | undefined {
  const maxMHz = c.gpuAfter?.maxSmClockMHz ?? c.gpuBefore?.maxSmClockMHz;
  const lowMHz = c.gpuDuring?.smClockMHz.min ?? c.gpuAfter?.smClockMHz;
  return maxMHz && lowMHz !== undefined ? { lowMHz, maxMHz, during: c.gpuDuring !== undefined } : undefined;
}

export function throttled(c: CaseResult): boolean {
  const clock = lowestClock(c);
  return clock !== undefined && clock.lowMHz < THROTTLE_FRACTION * clock.maxMHz;
}
