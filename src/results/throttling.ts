import type { CaseResult } from './schema.js';

/** Under this fraction of the card's maximum SM clock a case counts as throttled. */
export const THROTTLE_FRACTION = 0.9;

/** The SM clock a case's card worked at, the lowest reading, its maximum, and where they came from. */
export interface WorkingClock {
  /** The median reading through warm-up and the timed calls, else the one right after them. */
  workingMHz: number;
  lowMHz: number;
  maxMHz: number;
  /** Readings through the calls (schema 1.2), rather than one after them. */
  during: boolean;
  readings: number;
}

/**
 * The clock most of a case's calls ran at. The median of the readings, not their lowest: the
 * readings start before warm-up, so on a card that idled while the model loaded the first one is
 * its idle clock (an H200 read 345 MHz there, then 1980 MHz for every call). The median clock is
 * the one the median call time was measured at; a dip shorter than half the window moves neither.
 */
export function workingClock(c: CaseResult): WorkingClock | undefined {
  const maxMHz = c.gpuAfter?.maxSmClockMHz ?? c.gpuBefore?.maxSmClockMHz;
  const d = c.gpuDuring;
  const workingMHz = d?.smClockMHz.median ?? c.gpuAfter?.smClockMHz;
  const lowMHz = d?.smClockMHz.min ?? c.gpuAfter?.smClockMHz;
  if (!maxMHz || workingMHz === undefined || lowMHz === undefined) return undefined;
  return { workingMHz, lowMHz, maxMHz, during: d !== undefined, readings: d?.readings ?? 1 };
}

export function throttled(c: CaseResult): boolean {
  const clock = workingClock(c);
  return clock !== undefined && clock.workingMHz < THROTTLE_FRACTION * clock.maxMHz;
}
