import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { median, quantileSorted } from 'simple-statistics';

/** What the host is doing besides moebench, read once before the first case. */
export interface HostSignals {
  cpus: number;
  loadAverage1m: number;
  /** Other processes that used at least 10% of a CPU while the calibration loop ran. */
  busyProcesses: { pid: number; name: string; cpuPercent: number }[];
  /**
   * A fixed loop timed over and over in two processes at once, one per core moebench may use:
   * spread is the larger process's (p90 − p10) / median of one loop's time, between how far apart
   * the two processes' medians are (relative). A quiet host runs both steadily and alike.
   */
  calibration?: { loopMs: number; spread: number; between: number };
}

export interface HostCheck extends HostSignals {
  noisy: boolean;
  /** Why, one phrase each; empty when the host looks quiet. */
  reasons: string[];
}

/** Other processes' CPU use, summed, above which results will be noisy (pyperf's check warns on any busy neighbour). */
export const BUSY_CPU_PERCENT = 25;
/** The calibration loop's spread or between-process difference above which the host is noisy. */
// on the quiet 2-core development VM the loop's (p90 − p10) / median was 5–8% and the two copies within 1%;
// with one other busy process sharing the two cores, time slices cut into the loop and it reaches tens of per cent
export const CALIBRATION_SPREAD = 0.25;
export const CALIBRATION_BETWEEN = 0.1;

/** The verdict on a host's signals. Pure. */
export function judgeHost(s: HostSignals): HostCheck {
  const reasons: string[] = [];
  const busy = s.busyProcesses.reduce((a, p) => a + p.cpuPercent, 0);
  if (busy >= BUSY_CPU_PERCENT) {
    const top = [...s.busyProcesses].sort((a, b) => b.cpuPercent - a.cpuPercent).slice(0, 3);
    reasons.push(
      `other processes use ${Math.round(busy)}% of a CPU (${top.map((p) => `${p.name} pid ${p.pid} ${Math.round(p.cpuPercent)}%`).join(', ')})`,
    );
  }
  // the load average is recorded but not judged: over its minute it counts moebench's own previous
  // run too (back-to-back runs of bench:repeat read 2+ on 2 CPUs with nothing else running)
  if (s.calibration && (s.calibration.spread > CALIBRATION_SPREAD || s.calibration.between > CALIBRATION_BETWEEN)) {
    reasons.push(
      `a fixed loop varied ±${((s.calibration.spread / 2) * 100).toFixed(0)}% and two copies of it differed by ${(s.calibration.between * 100).toFixed(0)}%`,
    );
  }
  return { ...s, noisy: reasons.length > 0, reasons };
}

/** The one line a run prints about its host, or undefined when the host looks quiet. */
export function hostWarning(h: HostCheck): string | undefined {
  if (!h.noisy) return undefined;
  return `moebench: this host is busy (${h.reasons.join('; ')}): expect noisy cases and wide intervals`;
}

/** Ticks a process has run (user + system), from /proc/PID/stat; undefined once it is gone. */
function ticksOf(pid: string): { name: string; ticks: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the name is in parentheses and may itself hold spaces or parentheses
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    return { name: stat.slice(stat.indexOf('(') + 1, close), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

function allTicks(): Map<string, { name: string; ticks: number }> {
  const out = new Map<string, { name: string; ticks: number }>();
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return out;
  }
  for (const pid of pids) {
    const t = ticksOf(pid);
    if (t) out.set(pid, t);
  }
  return out;
}

const LOOP = `
const until = Date.now() + Number(process.argv[1]);
const times = [];
let x = 0;
while (Date.now() < until) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < 200000; i++) x = (x * 1103515245 + 12345) % 2147483648;
  times.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
process.stdout.write(JSON.stringify({ times, x }));
`;

function loopIn(windowMs: number): Promise<{ pid: number; times: number[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', LOOP, String(windowMs)], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', () => {
      try {
        const times = (JSON.parse(out) as { times: number[] }).times;
        // the first loops run before V8 has optimised the loop: not the host's doing
        resolve({ pid: child.pid!, times: times.slice(Math.max(3, Math.floor(times.length / 4))) });
      } catch (err) {
        reject(err as Error);
      }
    });
  });
}

/** Linux's clock ticks per second for /proc/PID/stat (sysconf(_SC_CLK_TCK), 100 on every mainstream kernel). */
const TICKS_PER_S = 100;

/**
 * Reads the host for `windowMs`: the load average, every other process's CPU use over the window
 * (from /proc; none elsewhere), and a fixed loop timed in two processes at once.
 */
export async function readHostSignals(windowMs = 300): Promise<HostSignals> {
  const cpus = os.availableParallelism();
  const before = allTicks();
  const startedNs = process.hrtime.bigint();
  const loops = await Promise.all([loopIn(windowMs), loopIn(windowMs)]).catch(() => undefined);
  const seconds = Number(process.hrtime.bigint() - startedNs) / 1e9;
  const after = allTicks();
  const ours = new Set([String(process.pid), String(process.ppid), ...(loops ?? []).map((l) => String(l.pid))]);
  const busyProcesses = [...after.entries()].flatMap(([pid, t]) => {
    const was = before.get(pid);
    if (!was || ours.has(pid)) return [];
    const cpuPercent = ((t.ticks - was.ticks) / TICKS_PER_S / seconds) * 100;
    return cpuPercent >= 10 ? [{ pid: Number(pid), name: t.name, cpuPercent: Math.round(cpuPercent) }] : [];
  });
  let calibration: HostSignals['calibration'];
  if (loops && loops.every((l) => l.times.length >= 5)) {
    const stats = loops.map((l) => {
      const sorted = [...l.times].sort((a, b) => a - b);
      const m = median(sorted);
      return { m, spread: (quantileSorted(sorted, 0.9) - quantileSorted(sorted, 0.1)) / m };
    });
    const [a, b] = stats.map((s) => s.m);
    calibration = {
      loopMs: Math.round(((a + b) / 2) * 1000) / 1000,
      spread: Math.max(...stats.map((s) => s.spread)),
      between: Math.abs(a - b) / Math.min(a, b),
    };
  }
  return { cpus, loadAverage1m: os.loadavg()[0], busyProcesses, ...(calibration ? { calibration } : {}) };
}
