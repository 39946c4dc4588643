import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseResultFile, readResultFile } from '../results/io.js';
import { CLI, fakeScript, moebench, smiCard, standInNvidiaSmi, TINY_FAKE_RUN, tinyFakeRun, tinyRun } from './helpers/cli.js';
import { failureReason } from '../run/workerProcess.js';
import { integrityOf } from '../results/integrity.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'moebench-iso-'));
// four tiny cases, in this order: moe prefill, moe decode, dense prefill, dense decode
const FOUR = ['run', '--backend', 'fake', '--preset', 'tiny', '--tokens', '4', '--min-time-ms', '5'];

describe('each case runs in its own process', () => {
  it('a case that crashes is recorded as failed and the suite finishes', () => {
    const out = join(tmp(), 'r.json');
    const r = moebench([...FOUR, '--out', out], fakeScript({ latenciesMs: [1], crashCases: ['moe/decode'] }));
    expect(r.status).toBe(1);
    const cases = readResultFile(out).cases;
    expect(cases.map((c) => c.status)).toEqual(['ok', 'failed', 'ok', 'ok']);
    expect(cases[1].error).toMatch(/^crashed: killed by SIGSEGV/);
  });

  it('a case that runs out of memory is recorded as failed with the reason', () => {
    const out = join(tmp(), 'r.json');
    const r = moebench([...FOUR, '--case-memory-mb', '64', '--out', out], fakeScript({ latenciesMs: [1], oomCases: ['dense/decode'] }));
    expect(r.status).toBe(1);
    const cases = readResultFile(out).cases;
    expect(cases.map((c) => c.status)).toEqual(['ok', 'ok', 'ok', 'failed']);
    expect(cases[3].error).toMatch(/^out of memory: .*heap out of memory/i);
  });

  it("a hung case's worker is killed with every process it started", async () => {
    const out = join(tmp(), 'r.json');
    const pidFile = join(tmp(), 'helper.pid');
    const r = moebench(
      [...TINY_FAKE_RUN, '--repetitions', '1', '--case-timeout-s', '2', '--out', out],
      fakeScript({ latenciesMs: [1], hangCases: ['dense/decode'], helperPidFile: pidFile }),
    );
    expect(r.status).toBe(1);
    const helper = Number(readFileSync(pidFile, 'utf8'));
    const alive = () => {
      try {
        process.kill(helper, 0);
        return true;
      } catch {
        return false;
      }
    };
    // the orphaned helper is reaped by init a moment after the kill
    for (let i = 0; i < 40 && alive(); i++) await new Promise((res) => setTimeout(res, 50));
    expect(alive()).toBe(false);
  });

  it('a case that hangs is killed at the per-case timeout and the suite finishes', () => {
    // 6 s, not less: a fake case's worker takes about a second to start and answer, more on a loaded host
    const out = join(tmp(), 'r.json');
    const r = moebench([...FOUR, '--case-timeout-s', '6', '--out', out], fakeScript({ latenciesMs: [1], hangCases: ['moe/prefill'] }));
    expect(r.status).toBe(1);
    const cases = readResultFile(out).cases;
    expect(cases.map((c) => c.status)).toEqual(['failed', 'ok', 'ok', 'ok']);
    expect(cases[0].error).toMatch(/^timed out after 6 s: the case worker was killed/);
  });
});

describe('interrupted runs', () => {
  it('SIGTERM mid-suite leaves a valid file with every completed case, and --resume completes it', async () => {
    const out = join(tmp(), 'r.json');
    const child = spawn(process.execPath, [CLI, ...FOUR, '--repetitions', '1', '--out', out], {
      env: { ...process.env, ...fakeScript({ latenciesMs: [1], hangCases: ['dense/prefill'] }) },
      stdio: 'ignore',
    });
    // wait until the two cases before the hanging one are in the file
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (existsSync(out) && readResultFile(out).cases.length === 2) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code).toBe(143);
    const interrupted = parseResultFile(readFileSync(out, 'utf8'), out);
    expect(interrupted.cases.map((c) => c.status)).toEqual(['ok', 'ok']);
    expect(interrupted.environment.endedAt).toBeUndefined();

    const resumed = moebench(['run', '--resume', out], fakeScript({ latenciesMs: [1] }));
    expect(resumed.status).toBe(0);
    expect(resumed.stderr).toMatch(/2 case\(s\) on fake .*, 2 already in the file/);
    const file = readResultFile(out);
    expect(file.cases.map((c) => c.id)).toEqual([
      'tiny/moe/prefill/t4/fp32/e8k2/routed/uniform',
      'tiny/moe/decode/t4/fp32/e8k2/routed/uniform',
      'tiny/dense/prefill/t4/fp32',
      'tiny/dense/decode/t4/fp32',
    ]);
    expect(file.cases[0].startedAt).toBe(interrupted.cases[0].startedAt);
    expect(file.environment.endedAt).toBeDefined();
  });
});

describe('what --resume accepts', () => {
  const run = () => {
    const out = join(tmp(), 'r.json');
    const r = moebench([...FOUR, '--repetitions', '1', '--out', out], fakeScript({ latenciesMs: [1] }));
    expect(r.status, r.stderr).toBe(0);
    return out;
  };

  it('a complete file has nothing left to run and is left exactly as it was', () => {
    const out = run();
    const before = readFileSync(out, 'utf8');
    const resumed = moebench(['run', '--resume', out], fakeScript({ latenciesMs: [1] }));
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/0 case\(s\) on fake .*, 4 already in the file/);
    expect(readFileSync(out, 'utf8')).toBe(before);
  });

  it('a file started on another machine is refused, naming what differs', () => {
    const out = run();
    const data = JSON.parse(readFileSync(out, 'utf8'));
    data.environment.host = 'another-box';
    data.cases = data.cases.slice(0, 2);
    data.integrity = integrityOf(data);
    writeFileSync(out, JSON.stringify(data));
    const resumed = moebench(['run', '--resume', out], fakeScript({ latenciesMs: [1] }));
    expect(resumed.status).toBe(2);
    expect(resumed.stderr).toContain(`was started on another machine or software (host: another-box → ${hostname()}): `);
    expect(resumed.stderr).toMatch(/start a new run$/m);
    expect(readResultFile(out).cases).toHaveLength(2);
  });
});

describe('interrupted runs with --repetitions', () => {
  it('SIGTERM after the first round keeps each case with the repetition it has, and --resume adds the rest', async () => {
    const out = join(tmp(), 'r.json');
    const args = [
      'run',
      '--backend',
      'fake',
      '--preset',
      'tiny',
      '--layer',
      'dense',
      '--tokens',
      '4',
      '--min-time-ms',
      '5',
      '--repetitions',
      '3',
      '--out',
      out,
    ];
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...fakeScript({ latenciesMs: [1] }) }, stdio: 'ignore' });
    // both cases have their first repetition: the second round has begun (a worker takes far longer than a poll)
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (existsSync(out) && readResultFile(out).cases.length === 2) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    child.kill('SIGTERM');
    await new Promise((r) => child.on('exit', r));
    const interrupted = readResultFile(out);
    expect(interrupted.cases.map((c) => c.repetitions!.length)).toEqual([1, 1]);
    const perRepetition = interrupted.cases[0].samplesMs!.length;

    const resumed = moebench(['run', '--resume', out], fakeScript({ latenciesMs: [1] }));
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/2 case\(s\) on fake/);
    const file = readResultFile(out);
    expect(file.cases.map((c) => c.repetitions!.length)).toEqual([3, 3]);
    expect(file.cases[0].samplesMs).toHaveLength(3 * perRepetition);
    expect(file.cases[0].samplesMs!.slice(0, perRepetition)).toEqual(interrupted.cases[0].samplesMs);
    expect(file.cases[0].startedAt).toBe(interrupted.cases[0].startedAt);
  });
});

describe('measurement extras, exact with the fake backend', () => {
  it('subtracts the measured per-call overhead', () => {
    const out = join(tmp(), 'r.json');
    moebench(tinyFakeRun('8', '--min-time-ms', '20', '--out', out), fakeScript({ latenciesMs: [2], overheadMs: 0.4 }));
    const [c] = readResultFile(out).cases;
    expect(c.overhead!.medianMs).toBe(0.4);
    expect(c.throughputCorrected!.medianMs).toBeCloseTo(1.6, 12);
    expect(c.throughputCorrected!.tokensPerSec).toBeCloseTo(5000, 9);
    expect(c.throughput!.tokensPerSec).toBe(4000);
  });

  it('fits time = a + b·tokens over a token sweep', () => {
    const out = join(tmp(), 'r.json');
    const r = moebench(
      [
        'run',
        '--backend',
        'fake',
        '--preset',
        'tiny',
        '--layer',
        'dense',
        '--phase',
        'prefill',
        '--sweep',
        'tokens=10,20,40,80',
        '--min-time-ms',
        '20',
        '--out',
        out,
      ],
      fakeScript({ latenciesMs: [0.5], msPerToken: 0.01 }),
    );
    expect(r.status).toBe(0);
    const [fit] = readResultFile(out).sweeps!;
    expect(fit.key).toBe('tiny/dense/prefill/t*/fp32');
    expect(fit.points.map((p) => p.tokens)).toEqual([10, 20, 40, 80]);
    expect(fit.interceptMs).toBeCloseTo(0.5, 9);
    expect(fit.slopeMsPerToken).toBeCloseTo(0.01, 9);
    expect(fit.marginalTokensPerSec).toBeCloseTo(100_000, 3);
    expect(fit.rSquared).toBeCloseTo(1, 9);
    expect(r.stdout).toMatch(/tiny\/dense\/prefill\/t\*\/fp32\s+fake\s+4\s+0\.5\s+0\.01\s+100,000\s+1\.0000/);
  });

  it('gives the fraction of the datasheet roofline for a named card', () => {
    const out = join(tmp(), 'r.json');
    moebench(
      tinyRun('fake', 'dense', 'decode', '8', '--card', 'NVIDIA H100 SXM5 80GB', '--min-time-ms', '20', '--out', out),
      fakeScript({ latenciesMs: [2] }),
    );
    const [c] = readResultFile(out).cases;
    // 8 × 6 × 32 × 48 FLOPs at 67 TFLOP/s vs (3 × 32 × 48 + 2 × 8 × 32) × 4 bytes at 3.35 TB/s: memory-bound
    const bytes = (3 * 32 * 48 + 2 * 8 * 32) * 4;
    expect(c.roofline!.bound).toBe('memory');
    expect(c.roofline!.floorMs).toBeCloseTo((bytes / 3.35e12) * 1000, 15);
    expect(c.roofline!.fraction).toBeCloseTo(((bytes / 3.35e12) * 1000) / 2, 15);
    expect(c.roofline!.source).toMatch(/H100 Tensor Core GPU datasheet/);
  });

  it('an unknown card for the roofline is refused before any result file is written', () => {
    const out = join(tmp(), 'r.json');
    const r = moebench(['run', '--backend', 'fake', '--card', 'Voodoo 5', '--preset', 'tiny', '--out', out]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown card "Voodoo 5"/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('cards', () => {
  // a stand-in nvidia-smi reporting two H100s, in the documented query format
  const twoCards = () =>
    standInNvidiaSmi([
      `echo "${smiCard(0, 'NVIDIA H100 80GB HBM3', 'GPU-aaaa')}"`,
      `echo "${smiCard(1, 'NVIDIA H100 80GB HBM3', 'GPU-bbbb', 1755, 61)}"`,
    ]);
  const ONE = [...TINY_FAKE_RUN, '--min-time-ms', '5'];

  it('--device all runs one process per card, each pinned to its card, and records the card', () => {
    const out = join(tmp(), 'r.json');
    const r = moebench([...ONE, '--device', 'all', '--out', out], { ...fakeScript({ latenciesMs: [1] }), ...twoCards() });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/--device all: 2 cards, one process each, (in parallel|one after another)/);
    // each card's table and file, to the last line
    for (const i of [0, 1]) expect(r.stdout).toContain(`[gpu ${i}] result file: ${out.replace(/\.json$/, `-gpu${i}.json`)}`);
    for (const [i, uuid] of [
      [0, 'GPU-aaaa'],
      [1, 'GPU-bbbb'],
    ] as const) {
      const file = readResultFile(out.replace(/\.json$/, `-gpu${i}.json`));
      expect(file.run.device).toBe('fake (scripted latencies)');
      expect(file.environment.gpus.map((g) => g.uuid)).toEqual(['GPU-aaaa', 'GPU-bbbb']);
      expect((file.run.options as { device: number }).device).toBe(i);
      // the worker saw only its own card: CUDA_VISIBLE_DEVICES set to the card's UUID
      expect(file.cases[0].details!.cudaVisibleDevices).toBe(uuid);
      expect(file.cases[0].gpuBefore!.uuid).toBe(uuid);
    }
  });

  it('--device N pins the case worker to card N by UUID and reads that card before and after', () => {
    const out = join(tmp(), 'r.json');
    const r = moebench([...ONE, '--device', '1', '--out', out], { ...fakeScript({ latenciesMs: [1] }), ...twoCards() });
    expect(r.status, r.stderr).toBe(0);
    const [c] = readResultFile(out).cases;
    expect(c.details!.cudaVisibleDevices).toBe('GPU-bbbb');
    expect([c.gpuBefore!.index, c.gpuAfter!.index]).toEqual([1, 1]);
    // read in a loop through warm-up and the timed calls: the stand-in's 1755 MHz of 1980 is not under 90%
    expect(c.gpuDuring).toMatchObject({ smClockMHz: { min: 1755, median: 1755, max: 1755 }, temperatureC: { max: 61 } });
    expect(c.gpuDuring!.readings).toBeGreaterThanOrEqual(1);
  });

  it('without --device takes the first card CUDA_VISIBLE_DEVICES leaves', () => {
    const out = join(tmp(), 'r.json');
    const r = moebench([...ONE, '--out', out], { ...fakeScript({ latenciesMs: [1] }), ...twoCards(), CUDA_VISIBLE_DEVICES: 'GPU-bbbb' });
    expect(r.status, r.stderr).toBe(0);
    expect(readResultFile(out).cases[0].gpuBefore!.index).toBe(1);
  });

  it('a card that is not there is refused before any result file is written', () => {
    const out = join(tmp(), 'r.json');
    const r = moebench([...ONE, '--device', '5', '--out', out], { ...fakeScript({ latenciesMs: [1] }), ...twoCards() });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe("moebench: no GPU 5: the cards are 0, 1 (--device takes nvidia-smi's index)");
    expect(existsSync(out)).toBe(false);
  });

  it('moebench env says which cards CUDA_VISIBLE_DEVICES leaves to the CUDA engines', () => {
    const r = moebench(['env'], { ...twoCards(), CUDA_VISIBLE_DEVICES: '1' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('CUDA_VISIBLE_DEVICES=1 leaves card(s) 1 to the CUDA engines (ort-cuda, tfjs-node-gpu)');
  });

  it('--device all refuses an engine that cannot be pinned to a card', () => {
    const r = moebench([...ONE, '--device', 'all'], { ...fakeScript({ latenciesMs: [1], placement: 'webgpu' }), ...twoCards() });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /--device all runs one process per card, pinned to it through CUDA_VISIBLE_DEVICES, which only CUDA engines \(ort-cuda, tfjs-node-gpu\) obey: fake runs on the adapter Dawn picks/,
    );
  });
});

describe('why a case worker died, in words', () => {
  const base = { timedOut: false, timeoutMs: 60_000, code: null, signal: null, stderr: '' } as const;
  it.each([
    [
      { ...base, timedOut: true, signal: 'SIGKILL' as const },
      'timed out after 60 s: the case worker was killed (raise --case-timeout-s if the case is just slow)',
    ],
    [
      { ...base, signal: 'SIGKILL' as const },
      'crashed: killed by SIGKILL (often the kernel OOM killer: the case needs more memory than the machine has)',
    ],
    [
      { ...base, signal: 'SIGABRT' as const, stderr: 'terminate called after throwing an instance of std::bad_alloc\n  what(): std::bad_alloc\n' },
      'out of memory: terminate called after throwing an instance of std::bad_alloc',
    ],
    [{ ...base, signal: 'SIGSEGV' as const, stderr: 'boom\n' }, 'crashed: killed by SIGSEGV: boom'],
    // V8's own fatal error under a heap limit too small (--case-memory-mb): SIGTRAP, a banner of '#'
    [
      {
        ...base,
        signal: 'SIGTRAP' as const,
        stderr: '<--- Last few GCs --->\n\n\n<--- JS stacktrace --->\n\n\n#\n# Fatal javascript OOM in GC during deserialization\n#\n\n',
      },
      'out of memory: Fatal javascript OOM in GC during deserialization',
    ],
    [{ ...base, signal: 'SIGTRAP' as const, stderr: 'trace\n#\n' }, 'crashed: killed by SIGTRAP: trace'],
    [{ ...base, code: 3, stderr: 'first\nlast words\n' }, 'crashed: worker exited with code 3: last words'],
  ])('%j', (input, reason) => {
    expect(failureReason(input)).toBe(reason);
  });
});

describe('--profile on the ORT CPU EP', () => {
  it('stores kernel time per operator type', () => {
    const out = join(tmp(), 'r.json');
    const r = moebench(
      tinyRun('ort-cpu', 'moe', 'prefill', '16', '--profile', '--moe-impl', 'routed', '--max-time-ms', '500', '--repetitions', '1', '--out', out),
    );
    expect(r.status, r.stderr).toBe(0);
    const [c] = readResultFile(out).cases;
    const ops = new Map(c.profile!.map((p) => [p.opType, p]));
    // 8 routed and 1 shared expert × 3 SwiGLU matmuls + the router's; ORT's optimiser turns some into Gemm
    expect(ops.get('MatMul')!.callsPerRun + (ops.get('Gemm')?.callsPerRun ?? 0)).toBe(28);
    expect(ops.get('NonZero')!.callsPerRun).toBe(8);
    expect(ops.get('ScatterND')!.callsPerRun).toBe(8);
    expect(c.profile!.reduce((a, p) => a + p.fraction, 0)).toBeCloseTo(1, 9);
  });
});
