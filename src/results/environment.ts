import type { Environment } from './schema.js';

/**
 * The fields of an environment that say what machine and software a run measured, flattened for
 * comparison: host, OS, CPU, Node, moebench's commit, engine package versions, the variables that
 * pick devices and drivers, and each GPU's name, driver, maximum clock and power limit. Times,
 * the command line and the GPUs' momentary clocks are left out: they differ between any two runs.
 */
export function environmentFields(e: Environment): Record<string, string> {
  const out: Record<string, string> = {
    host: e.host, os: `${e.os.platform} ${e.os.release}`, cpu: `${e.cpu.model} (${e.cpu.cores} cores)`, node: e.node,
    moebench: `${e.moebench.version}${e.moebench.gitSha ? ` ${e.moebench.gitSha.slice(0, 10)}${e.moebench.gitSha.endsWith('-dirty') ? '-dirty' : ''}` : ''}`,
  };
  for (const [k, v] of Object.entries(e.packages)) out[`packages.${k}`] = v;
  for (const [k, v] of Object.entries(e.envVars)) out[`envVars.${k}`] = v;
  for (const g of e.gpus) {
    out[`gpu${g.index}`] = g.name;
    out[`gpu${g.index}.driver`] = g.driverVersion ?? '-';
    out[`gpu${g.index}.maxSmClockMHz`] = String(g.maxSmClockMHz ?? '-');
    out[`gpu${g.index}.powerLimitW`] = String(g.powerLimitW ?? '-');
  }
  return out;
}

/**
 * What differs between the machine a result file was started on and this one, as "field: then →
 * now" lines; empty when a resumed run may add its cases to the file. CUDA_VISIBLE_DEVICES is left
 * out: --device all's per-card processes set it, and the card is chosen by --device, which the
 * file keeps.
 */
export function resumeDifferences(saved: Environment, now: Environment): string[] {
  const a = environmentFields(saved);
  const b = environmentFields(now);
  const fields = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((f) => f !== 'envVars.CUDA_VISIBLE_DEVICES');
  return fields.filter((f) => a[f] !== b[f]).map((f) => `${f}: ${a[f] ?? '-'} → ${b[f] ?? '-'}`);
}
