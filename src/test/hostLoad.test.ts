import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostWarning, judgeHost, judgeHostOverChecks, MEMORY_SPREAD, type HostCheck, type HostSignals } from '../env/hostLoad.js';
import { readResultFile } from '../results/io.js';
import { CLI, moebench, fakeScript, TINY_FAKE_RUN, WORKDIR } from './helpers/cli.js';

const quiet: HostSignals = {
  cpus: 2,
  loadAverage1m: 0.3,
  busyProcesses: [],
  calibration: { loopMs: 6.1, spread: 0.06, between: 0.01 },
  memory: { passMs: 5.2, spread: 0.04, between: 0.02 },
};

describe('a host quiet over several runs (what bench:repeat asks usefulness of)', () => {
  const at = (loopMs: number, passMs: number) =>
    judgeHost({ ...quiet, calibration: { loopMs, spread: 0.06, between: 0.01 }, memory: { passMs, spread: 0.04, between: 0.02 } });
  const margin = { hostCases: true, margin: 0.05 };
  const named = (checks: (HostCheck | undefined)[]) => checks.map((check, i) => ({ name: `run ${i + 1}`, check }));

  it('every check quiet and the host steady between runs: quiet', () => {
    expect(judgeHostOverChecks(named([at(5.43, 7.52), at(5.43, 7.7), at(5.44, 7.6)]), margin)).toEqual({ quiet: true, reasons: [] });
  });

  it("checks each quiet on their own, the memory pass moving between runs: not quiet, when a case ran on the host's CPU", () => {
    // the development VM's first four checks of 2026-12-05 01:38 UTC, each quiet: 7.58 / 5.29 − 1 = 43.3%
    const vm = [at(5.43, 7.52), at(5.43, 5.29), at(5.42, 7.58), at(5.42, 7.49)];
    expect(vm.every((h) => !h.noisy)).toBe(true);
    expect(judgeHostOverChecks(named(vm), margin)).toEqual({
      quiet: false,
      reasons: ['its memory pass moved 43.3% from check to check, past the ±5% margin'],
    });
    // a card's cases keep their weights on the card: the loop alone is judged (5.43 / 5.42 − 1 = 0.2%)
    expect(judgeHostOverChecks(named(vm), { hostCases: false, margin: 0.05 })).toEqual({ quiet: true, reasons: [] });
  });

  it('the loop moving past the margin, a busy check and a run without a check each say so', () => {
    // 5.26 / 5.0 − 1 = 5.2%; 5.2 / 5.0 − 1 = 4% is within it
    expect(judgeHostOverChecks(named([at(5.0, 7.5), at(5.26, 7.5)]), margin).reasons).toEqual([
      'its fixed loop moved 5.2% from check to check, past the ±5% margin',
    ]);
    expect(judgeHostOverChecks(named([at(5.0, 7.5), at(5.2, 7.5)]), margin).quiet).toBe(true);
    const busy = judgeHost({ ...quiet, busyProcesses: [{ pid: 9, name: 'cc1plus', cpuPercent: 95 }] });
    expect(judgeHostOverChecks(named([at(5.0, 7.5), busy, undefined, busy]), margin)).toEqual({
      quiet: false,
      reasons: [
        'run 3 recorded no host check',
        'its check called it busy at run 2 (other processes use 95% of a CPU (cc1plus pid 9 95%)), run 4 (other processes use 95% of a CPU (cc1plus pid 9 95%))',
        'its fixed loop moved 22.0% from check to check, past the ±5% margin',
        'its memory pass moved 44.2% from check to check, past the ±5% margin',
      ],
    });
    // runs on different machines: no margin, so only what each check said is judged
    expect(judgeHostOverChecks(named([at(5.0, 7.5), at(6.1, 5.2)]), { hostCases: true })).toEqual({ quiet: true, reasons: [] });
    expect(judgeHostOverChecks(named([at(5.0, 7.5), busy]), { hostCases: true }).reasons).toEqual([
      'its check called it busy at run 2 (other processes use 95% of a CPU (cc1plus pid 9 95%))',
    ]);
  });
});

describe('the noisy-host check', () => {
  it('a quiet host gives no warning', () => {
    const h = judgeHost(quiet);
    expect(h.noisy).toBe(false);
    expect(h.reasons).toEqual([]);
    expect(hostWarning(h)).toBeUndefined();
  });

  it('names each reason: busy neighbours, an unsteady loop (the load average, which counts moebench itself, is only recorded)', () => {
    const h = judgeHost({
      cpus: 2,
      loadAverage1m: 3.5,
      busyProcesses: [
        { pid: 41, name: 'chrome', cpuPercent: 20 },
        { pid: 42, name: 'python3', cpuPercent: 90 },
      ],
      calibration: { loopMs: 9, spread: 0.8, between: 0.3 },
      memory: { passMs: 8.2, spread: 0.46, between: 0.01 },
    });
    expect(h.noisy).toBe(true);
    expect(h.reasons).toEqual([
      'other processes use 110% of a CPU (python3 pid 42 90%, chrome pid 41 20%)',
      'a fixed loop varied ±40% and two copies of it differed by 30%',
      'memory reads varied ±23% pass to pass',
    ]);
    expect(hostWarning(h)).toMatch(/^moebench: this host is busy \(other processes use 110% .*\): expect noisy cases and wide intervals$/);
  });

  it('a steady loop beside unsteady memory (neighbours on a shared host) is a noisy host, said in one line', () => {
    // as on the idle development VM: the loop within ±2%, passes over 128 MiB ±13% (spread 0.26)
    const h = judgeHost({
      ...quiet,
      calibration: { loopMs: 5.48, spread: 0.04, between: 0.003 },
      memory: { passMs: 8.76, spread: 0.26, between: 0.05 },
    });
    expect(h.reasons).toEqual(['memory reads varied ±13% pass to pass']);
    expect(hostWarning(h)).toBe('moebench: this host is busy (memory reads varied ±13% pass to pass): expect noisy cases and wide intervals');
    // ±5%, compare's margin, is the limit: 0.1 is not past it
    expect(judgeHost({ ...quiet, memory: { passMs: 5.2, spread: 0.1, between: 0 } }).noisy).toBe(false);
    expect(judgeHost({ ...quiet, memory: { passMs: 5.2, spread: 0.104, between: 0 } }).reasons).toEqual(['memory reads varied ±5.2% pass to pass']);
    expect(judgeHost({ ...quiet, memory: { passMs: 5.2, spread: 0.12, between: 0 } }).reasons).toEqual(['memory reads varied ±6.0% pass to pass']);
    // a run whose cases are all on a card: the host's memory is recorded, not judged
    const cardsOnly = judgeHost({ ...quiet, memory: { passMs: 8.76, spread: 0.26, between: 0.05 } }, { hostCases: false });
    expect(cardsOnly.noisy).toBe(false);
    expect(cardsOnly.memory!.spread).toBe(0.26);
    // two processes reading at different speeds (one's memory on the other socket) is recorded, not judged
    expect(judgeHost({ ...quiet, memory: { passMs: 5.2, spread: 0.04, between: 0.4 } }).noisy).toBe(false);
  });

  it('a process below the threshold alone, or a high load average alone, is not a busy host', () => {
    expect(judgeHost({ ...quiet, busyProcesses: [{ pid: 7, name: 'sshd', cpuPercent: 12 }] }).noisy).toBe(false);
    expect(judgeHost({ ...quiet, loadAverage1m: 2.4 }).noisy).toBe(false);
  });

  it("a real run judges the host's memory when its cases run on the host CPU, and only records it for a card's", () => {
    const lavapipe = { VK_ICD_FILENAMES: '/opt/lavapipe/icd.json', VK_DRIVER_FILES: undefined };
    const hardware = { VK_ICD_FILENAMES: undefined, VK_DRIVER_FILES: undefined };
    // WebGPU on a software adapter runs on the CPU like a CPU engine
    for (const [placement, vulkan, judged] of [
      ['host', hardware, true],
      ['cuda', hardware, false],
      ['webgpu', hardware, false],
      ['webgpu', lavapipe, true],
    ] as const) {
      const out = join(mkdtempSync(join(tmpdir(), 'moebench-host-')), 'r.json');
      const r = moebench([...TINY_FAKE_RUN, '--repetitions', '1', '--out', out], { ...fakeScript({ latenciesMs: [2], placement }), ...vulkan });
      expect(r.status, r.stderr).toBe(0);
      const check = readResultFile(out).environment.hostCheck!;
      // whatever this host's memory did during the check, the verdict follows the reading and the placement
      const unsteady = check.memory!.spread > MEMORY_SPREAD;
      const said = check.reasons.some((x) => x.startsWith('memory reads varied'));
      expect(said, `${placement} ${vulkan.VK_ICD_FILENAMES ?? ''}: passes ±${(check.memory!.spread * 50).toFixed(1)}%`).toBe(judged && unsteady);
    }
  });

  it('with a real busy process beside the run: one warning line, recorded in the environment', async () => {
    // an injected load: a process spinning on one of the cores
    const spinner = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const out = join(mkdtempSync(join(tmpdir(), 'moebench-host-')), 'r.json');
      const r = moebench([...TINY_FAKE_RUN, '--repetitions', '2', '--out', out], fakeScript({ latenciesMs: [2] }));
      expect(r.status, r.stderr).toBe(0);
      const warnings = r.stderr.split('\n').filter((l) => l.includes('this host is busy'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(`pid ${spinner.pid}`);
      const check = readResultFile(out).environment.hostCheck!;
      expect(check.noisy).toBe(true);
      expect(check.busyProcesses.map((p) => p.pid)).toContain(spinner.pid);
      // both probes ran and are kept, whatever they judged
      expect(check.calibration!.loopMs).toBeGreaterThan(0);
      expect(check.memory!.passMs).toBeGreaterThan(0);
      // the per-case notes do not repeat it
      expect(r.stdout).not.toMatch(/busy/);
      // a run of a few seconds is not checked again after its cases
      expect(readResultFile(out).environment.hostCheckAfter).toBeUndefined();
    } finally {
      spinner.kill('SIGKILL');
    }
  });

  it('a run of 20 s or more checks the host again after its last case: a host that turned busy meanwhile is said once and recorded', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'moebench-host-')), 'r.json');
    // two processes sampling 9 s each, in real time (the fake engine's clock is its own), the second
    // beside a process that starts spinning 12 s in
    const args = ['run', '--backend', 'ort-cpu', '--preset', 'small', '--layer', 'dense', '--phase', 'decode', '--tokens', '16'];
    args.push('--repetitions', '2', '--min-time-ms', '9000', '--max-time-ms', '9000');
    const run = spawn(process.execPath, [CLI, ...args, '--out', out], { cwd: WORKDIR });
    let stderr = '';
    run.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const ended = new Promise<number | null>((resolve) => run.on('close', resolve));
    await new Promise((r) => setTimeout(r, 12_000));
    const spinner = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
    try {
      expect(await ended, stderr).toBe(0);
    } finally {
      spinner.kill('SIGKILL');
    }
    const { hostCheck, hostCheckAfter } = readResultFile(out).environment;
    expect(hostCheck!.busyProcesses.map((p) => p.pid)).not.toContain(spinner.pid);
    expect(hostCheckAfter!.noisy).toBe(true);
    expect(hostCheckAfter!.busyProcesses.map((p) => p.pid)).toContain(spinner.pid);
    // one message, wrapped to 120 columns as the run's other long lines are
    const lines = stderr.split('\n');
    expect(lines.filter((l) => l.startsWith('moebench: the host changed'))).toHaveLength(1);
    const first = lines.findIndex((l) => l.startsWith('moebench: the host changed during this run'));
    const rest = lines.slice(first + 1);
    const message = [
      lines[first],
      ...rest.slice(
        0,
        rest.findIndex((l) => !l.startsWith('  ')),
      ),
    ];
    expect(message.every((l) => l.length <= 120)).toBe(true);
    const said = message.map((l, i) => (i ? l.slice(2) : l)).join(' ');
    expect(said).toMatch(
      new RegExp(
        `^moebench: the host changed during this run \\(its check called it busy at the end \\(other processes use \\d+% of a CPU \\(.*pid ${spinner.pid}`,
      ),
    );
    expect(said).toMatch(/\): its later cases may differ from its earlier ones by the host's doing$/);
  });

  it('compare and report of a run beside a busy process and one without say the host was not quiet over them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moebench-host-'));
    const run = (out: string) => moebench([...TINY_FAKE_RUN, '--repetitions', '2', '--out', join(dir, out)], fakeScript({ latenciesMs: [2] }));
    expect(run('quiet.json').status).toBe(0);
    const spinner = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 300));
      expect(run('busy.json').status).toBe(0);
    } finally {
      spinner.kill('SIGKILL');
    }
    // the first run's check may call the host busy too, when other tests load it: then it is named first
    const escape = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const said = new RegExp(
      `host not quiet over these runs: its check called it busy at (.*, )?${escape(join(dir, 'busy.json'))} \\(other processes use`,
    );
    const compare = moebench(['compare', join(dir, 'quiet.json'), join(dir, 'busy.json'), '--by', 'file']);
    expect(compare.status, compare.stderr).toBe(0);
    // the line as read, unwrapped from the terminal's 120 columns
    expect(compare.stdout.replace(/\n +/g, ' ')).toMatch(said);
    const html = join(dir, 'report.html');
    expect(moebench(['report', join(dir, 'quiet.json'), join(dir, 'busy.json'), '--by', 'file', '--out', html]).status).toBe(0);
    expect(readFileSync(html, 'utf8')).toMatch(new RegExp(`<p class="note">${said.source}`));
  });
});
