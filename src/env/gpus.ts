import { execFileSync } from 'node:child_process';
import type { GpuInfo } from '../results/schema.js';

export const NVIDIA_SMI_QUERY = 'index,name,uuid,memory.total,driver_version,clocks.sm,clocks.max.sm,power.limit,temperature.gpu';

function num(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const v = Number.parseFloat(text);
  return Number.isFinite(v) ? v : undefined;
}

/**
 * Parses `nvidia-smi --query-gpu=<NVIDIA_SMI_QUERY> --format=csv,noheader` output ("[N/A]" fields are
 * left out). A line without a card index and a name (an error message, a broken wrapper) is not a
 * card: kept, its NaN index would be written as null, which no reader accepts.
 */
export function parseNvidiaSmi(csv: string): GpuInfo[] {
  return csv
    .split('\n')
    .map((l) => l.trim())
    .filter((line) => /^\d+\s*,\s*[^,]+,/.test(line))
    .map((line) => {
      const f = line.split(',').map((s) => s.trim());
      return {
        index: Number.parseInt(f[0], 10),
        name: f[1],
        uuid: f[2],
        memoryTotalMiB: num(f[3]),
        driverVersion: f[4],
        smClockMHz: num(f[5]),
        maxSmClockMHz: num(f[6]),
        powerLimitW: num(f[7]),
        temperatureC: num(f[8]),
      };
    });
}

/** NVIDIA GPUs with their clocks and temperature now; [] when nvidia-smi is absent or fails. */
export function queryGpus(): GpuInfo[] {
  try {
    const out = execFileSync('nvidia-smi', [`--query-gpu=${NVIDIA_SMI_QUERY}`, '--format=csv,noheader'], {
      encoding: 'utf8',
      timeout: 10_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return parseNvidiaSmi(out);
  } catch {
    return [];
  }
}
