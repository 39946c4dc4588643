import { spawn } from 'node:child_process';
import { max, median, min } from 'simple-statistics';
import type { GpuDuring } from '../results/schema.js';

/** How often nvidia-smi reads the card while a case runs: often enough for a 0.5 s case, cheap for the host. */
export const GPU_MONITOR_INTERVAL_MS = 250;

/**
 * SM clock and temperature over `nvidia-smi --query-gpu=clocks.sm,temperature.gpu
 * --format=csv,noheader,nounits` lines ("1980, 41"); undefined when there are none.
 */
export function summarizeGpuReadings(text: string): GpuDuring | undefined {
  const readings = text
    .split('\n')
    .map((l) => l.split(',').map((f) => Number.parseFloat(f)))
    .filter((f) => f.length === 2 && f.every(Number.isFinite));
  if (readings.length === 0) return undefined;
  const clocks = readings.map((r) => r[0]);
  return {
    readings: readings.length,
    smClockMHz: { min: min(clocks), median: median(clocks), max: max(clocks) },
    temperatureC: { max: max(readings.map((r) => r[1])) },
  };
}

export interface GpuMonitor {
  /** Ends the readings; waits for the first one if none came yet, so even a short case has one. */
  stop(): Promise<GpuDuring | undefined>;
}

/**
 * Reads one card's SM clock and temperature every GPU_MONITOR_INTERVAL_MS while a case warms up
 * and is timed: a reading taken only after the calls misses a card that throttled and recovered,
 * and one taken in between the calls would put a process start among them. nvidia-smi's own loop
 * (-lms) runs in one process started before the warm-up; its lines are only collected here and
 * parsed at the end, so the timed calls share the event loop with nothing but a string append.
 */
export function startGpuMonitor(uuid: string, intervalMs = GPU_MONITOR_INTERVAL_MS): GpuMonitor {
  let text = '';
  let firstLine: () => void = () => undefined;
  const gotLine = new Promise<void>((resolve) => {
    firstLine = resolve;
  });
  const child = spawn(
    'nvidia-smi',
    ['--query-gpu=clocks.sm,temperature.gpu', '--format=csv,noheader,nounits', '-lms', String(intervalMs), '-i', uuid],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const exited = new Promise<void>((resolve) => {
    child.on('close', () => resolve());
    child.on('error', () => resolve());
  });
  exited.then(() => firstLine());
  child.stdout.on('data', (d: Buffer) => {
    text += d.toString();
    if (text.includes('\n')) firstLine();
  });
  return {
    async stop() {
      await Promise.race([gotLine, new Promise((r) => setTimeout(r, 2000))]);
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 1000))]);
      return summarizeGpuReadings(text);
    },
  };
}
