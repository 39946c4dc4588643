import type { CaseResult } from '../results/schema.js';

/** Under this fraction of the card's maximum SM clock a case counts as throttled. */
export const THROTTLE_FRACTION = 0.9;

/**
 * The lowest SM clock the card ran a case at, as a fraction of its maximum: from the readings
 * through the timed calls when there are any (schema 1.2), else the one right after them.
 */
export function clockFraction(c: CaseResult): number | undefined {
  const maxMHz = c.gpuAfter?.maxSmClockMHz ?? c.gpuBefore?.maxSmClockMHz;
  const lowMHz = c.gpuDuring?.smClockMHz.min ?? c.gpuAfter?.smClockMHz;
  return maxMHz && lowMHz !== undefined ? lowMHz / maxMHz : undefined;
}

export function throttled(c: CaseResult): boolean {
  const f = clockFraction(c);
  return f !== undefined && f < THROTTLE_FRACTION;
}
