/** Injected so tests feed synthetic time and never sleep. */
export interface Clock {
  /** Monotonic time in nanoseconds. */
  nowNs(): bigint;
}

export const hrClock: Clock = { nowNs: () => process.hrtime.bigint() };

export function elapsedMs(startNs: bigint, endNs: bigint): number {
  return Number(endNs - startNs) / 1e6;
}
