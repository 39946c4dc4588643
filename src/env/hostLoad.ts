import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { median, quantileSorted } from 'simple-statistics';
import { medianSpread } from '../results/repetitions.js';

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
  /**
   * The same two processes then read a buffer larger than a CPU's last-level cache, pass after
   * pass: spread and between as for the loop, of one pass's time. The memory bandwidth a decode
   * case streams its weights with; a shared host's neighbours move it while the loop stays steady.
   */
  memory?: { passMs: number; spread: number; between: number };
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
/** The memory pass's (p90 − p10) / median above which the host is noisy: ±5%, compare's margin. */
// on the idle development VM (a cloud VM; ten checks 2 s apart) the loop's median held 5.43–5.52 ms
// while the passes varied ±2–23% within each check and their medians 5.3–9.3 ms between checks:
// neighbours on the host's memory. Bandwidth that moves more than the margin a comparison reads
// cannot have its memory-bound cases called SAME
export const MEMORY_SPREAD = 0.1;
/** Bytes each process reads per pass: past the last-level cache a core reaches on current server CPUs. */
export const MEMORY_PASS_BYTES = 128 * 1024 * 1024;

/**
 * The verdict on a host's signals. Pure. `hostCases`: some case runs on the host CPU, so the host's
 * memory bandwidth is judged; a card's cases keep their weights on the card, and for them it is
 * only recorded.
 */
export function judgeHost(s: HostSignals, o: { hostCases: boolean } = { hostCases: true }): HostCheck {
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
  // judged on each process's own passes: two processes may read memory at different speeds (NUMA)
  if (o.hostCases && s.memory && s.memory.spread > MEMORY_SPREAD) {
    // a decimal near the ±5% limit, so a reading just past it does not print as the limit itself
    const half = (s.memory.spread / 2) * 100;
    reasons.push(`memory reads varied ±${half.toFixed(half < 10 ? 1 : 0)}% pass to pass`);
  }
  return { ...s, noisy: reasons.length > 0, reasons };
}

/**
 * Whether a host stayed quiet over several checks (the runs' checks, as a repeatability benchmark
 * or a comparison of runs on one machine asks; a run's checks before and after its cases): each
 * check called it quiet, and the host's level did not move from check to check by more than
 * `margin` (slowest ÷ fastest − 1 of the loop, and of the memory pass when `hostCases`; no margin,
 * as for runs on different machines, judges no level). Each check judges only its own window: on
 * the development VM four checks in a row, each calling the host quiet, saw memory passes of 7.52,
 * 5.29, 7.58 and 7.49 ms, and a case that follows the host that far cannot be called SAME within a
 * margin narrower than the move. A check missing leaves the host unknown, so not quiet. Pure.
 */
export function judgeHostOverChecks(
  checks: readonly { name: string; check: HostCheck | undefined }[],
  o: { hostCases: boolean; margin?: number },
): { quiet: boolean; reasons: string[] } {
  const reasons: string[] = [];
  const unchecked = checks.filter((r) => !r.check).map((r) => r.name);
  if (unchecked.length) reasons.push(`${unchecked.join(', ')} recorded no host check`);
  const busy = checks.filter((r) => r.check?.noisy).map((r) => `${r.name} (${r.check!.reasons.join('; ')})`);
  if (busy.length) reasons.push(`its check called it busy at ${busy.join(', ')}`);
  const moved = (name: string, levels: (number | undefined)[]) => {
    const apart = medianSpread(levels.filter((x): x is number => x !== undefined));
    if (o.margin !== undefined && apart !== undefined && apart > o.margin)
      reasons.push(`its ${name} moved ${(apart * 100).toFixed(1)}% from check to check, past the ±${(o.margin * 100).toFixed(0)}% margin`);
  };
  moved(
    'fixed loop',
    checks.map((r) => r.check?.calibration?.loopMs),
  );
  if (o.hostCases)
    moved(
      'memory pass',
      checks.map((r) => r.check?.memory?.passMs),
    );
  return { quiet: reasons.length === 0, reasons };
}

/** A run's checks, as judgeHostOverChecks takes them: before its first case, and after its last when it took one. */
export function checksOfRun(
  e: { hostCheck?: HostCheck; hostCheckAfter?: HostCheck },
  name: string,
  endName = `the end of ${name}`,
): { name: string; check: HostCheck | undefined }[] {
  return [{ name, check: e.hostCheck }, ...(e.hostCheckAfter ? [{ name: endName, check: e.hostCheckAfter }] : [])];
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
const [windowMs, bytes] = process.argv.slice(1).map(Number);
// filled before any timing, so the passes read memory and never fault pages in; a host short of
// memory skips the passes and keeps the loop
let buffer;
try {
  buffer = new Float64Array(bytes / 8).fill(1);
} catch {}
function timed(body) {
  const until = Date.now() + windowMs;
  const times = [];
  while (Date.now() < until) {
    const t0 = process.hrtime.bigint();
    body();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return times;
}
let x = 0;
const times = timed(() => {
  for (let i = 0; i < 200000; i++) x = (x * 1103515245 + 12345) % 2147483648;
});
// one read per 64-byte cache line, in locals: the pass is bound by memory bandwidth, not by arithmetic
function pass(a) {
  let s = 0;
  for (let i = 0, n = a.length; i < n; i += 8) s += a[i];
  return s;
}
let sum = 0;
const memoryTimes = buffer ? timed(() => {
  sum += pass(buffer);
}) : [];
process.stdout.write(JSON.stringify({ times, memoryTimes, x, sum }));
`;

// the first timings run before V8 has optimised the loop (and the first passes before the TLB is warm): not the host's doing
const settled = (times: number[]) => times.slice(Math.max(3, Math.floor(times.length / 4)));

function loopIn(windowMs: number): Promise<{ pid: number; times: number[]; memoryTimes: number[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', LOOP, String(windowMs), String(MEMORY_PASS_BYTES)], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', () => {
      try {
        const { times, memoryTimes } = JSON.parse(out) as { times: number[]; memoryTimes: number[] };
        resolve({ pid: child.pid!, times: settled(times), memoryTimes: settled(memoryTimes) });
      } catch (err) {
        reject(err as Error);
      }
    });
  });
}

/** Median, the larger process's (p90 − p10) / median, and how far apart the two processes' medians are. */
function steadiness(perProcess: number[][]): { medianMs: number; spread: number; between: number } | undefined {
  if (!perProcess.every((t) => t.length >= 5)) return undefined;
  const stats = perProcess.map((t) => {
    const sorted = [...t].sort((a, b) => a - b);
    const m = median(sorted);
    return { m, spread: (quantileSorted(sorted, 0.9) - quantileSorted(sorted, 0.1)) / m };
  });
  const [a, b] = stats.map((s) => s.m);
  return {
    medianMs: Math.round(((a + b) / 2) * 1000) / 1000,
    spread: Math.max(...stats.map((s) => s.spread)),
    between: Math.abs(a - b) / Math.min(a, b),
  };
}

/** Linux's clock ticks per second for /proc/PID/stat (sysconf(_SC_CLK_TCK), 100 on every mainstream kernel). */
const TICKS_PER_S = 100;

/**
 * Reads the host for twice `windowMs`: the load average, every other process's CPU use meanwhile
 * (from /proc; none elsewhere), a fixed loop timed in two processes at once for `windowMs`, then
 * passes over memory in the same two for `windowMs`.
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
  const loop = loops && steadiness(loops.map((l) => l.times));
  const pass = loops && steadiness(loops.map((l) => l.memoryTimes));
  return {
    cpus,
    loadAverage1m: os.loadavg()[0],
    busyProcesses,
    ...(loop ? { calibration: { loopMs: loop.medianMs, spread: loop.spread, between: loop.between } } : {}),
    ...(pass ? { memory: { passMs: pass.medianMs, spread: pass.spread, between: pass.between } } : {}),
  };
}
