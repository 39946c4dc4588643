import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readResultFile } from '../results/io.js';
import { moebench, fakeScript, TINY_FAKE_RUN, tinyFakeRun, tinyRun } from './helpers/cli.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'moebench-cli-'));

describe('moebench run with the fake backend (exact)', () => {
  it('turns scripted latencies into exact statistics and throughput', () => {
    const out = join(tmp(), 'r.json');
    const r = moebench(tinyFakeRun('8', '--min-time-ms', '20', '--repetitions', '1', '--out', out), fakeScript({ latenciesMs: [2] }));
    expect(r.status).toBe(0);
    const [c] = readResultFile(out).cases;
    expect(c.status).toBe('ok');
    // the rule is consulted every 25 ms of sampling: after call 1 (2 ms), then at 28 ms (call 14)
    expect(c.samplesMs).toEqual(Array(14).fill(2));
    expect(c.summary!.medianMs).toBe(2);
    expect(c.throughput!.tokensPerSec).toBe(4000);
    // 8 tokens × 6 × 32 × 48 FLOPs in 2 ms
    expect(c.throughput!.gflopsPerSec).toBeCloseTo((8 * 6 * 32 * 48) / 0.002 / 1e9, 12);
    // one backend: no backend column
    expect(r.stdout).toMatch(/tiny\/dense\/decode\/t8\/fp32\s+ok\s+4,000\s+2\s+0\.0%/);
  });

  it('by default measures each case in three processes', () => {
    const out = join(tmp(), 'r.json');
    const r = moebench(tinyFakeRun('8', '--min-time-ms', '20', '--out', out), fakeScript({ latenciesMs: [2] }));
    expect(r.status, r.stderr).toBe(0);
    const file = readResultFile(out);
    expect((file.run.options as { repetitions: number }).repetitions).toBe(3);
    expect(file.cases[0].repetitions!.map((rep) => rep.medianMs)).toEqual([2, 2, 2]);
    expect(r.stdout).not.toMatch(/within one process/);
  });

  it('a case whose output is wrong is invalid, has no throughput, and the run exits 1', () => {
    const out = join(tmp(), 'r.json');
    const r = moebench([...TINY_FAKE_RUN, '--out', out], fakeScript({ latenciesMs: [1], outputError: 0.01 }));
    expect(r.status).toBe(1);
    const [c] = readResultFile(out).cases;
    expect(c.status).toBe('invalid');
    expect(c.throughput).toBeUndefined();
    expect(c.correctness!.relativeL2Error).toBeCloseTo(0.01, 6);
    expect(c.error).toMatch(/relative L2 error 1.00e-2 exceeds 0.0001 for fp32/);
  });

  it('a case that fails is recorded with its reason and the suite goes on', () => {
    const out = join(tmp(), 'r.json');
    const r = moebench(
      ['run', '--backend', 'fake', '--preset', 'tiny', '--phase', 'decode', '--tokens', '4', '--min-time-ms', '5', '--out', out],
      fakeScript({ latenciesMs: [1], failCases: ['moe'] }),
    );
    expect(r.status).toBe(1);
    const cases = readResultFile(out).cases;
    expect(cases.map((c) => c.status)).toEqual(['failed', 'ok']);
    expect(cases[0].error).toBe('scripted failure loading tiny/moe/decode/t4/fp32/e8k2/routed/uniform');
  });
});

describe('moebench run --format: the finished table as markdown, csv or json', () => {
  // two tiny decode cases of 4 tokens at a scripted 2 ms a call: 4 / 0.002 s = 2000 tokens/s each
  const run = (format: string) =>
    moebench(
      [...TINY_FAKE_RUN.map((a) => (a === 'dense' ? 'dense,moe' : a)), '--repetitions', '1', '--format', format, '--out', join(tmp(), 'r.json')],
      fakeScript({ latenciesMs: [2] }),
    );

  it('csv: stdout is the cases alone, raw numbers, every column; the file is named on stderr', () => {
    const r = run('csv');
    expect(r.status, r.stderr).toBe(0);
    const [head, ...rows] = r.stdout.trim().split('\n');
    const columns = head.split(',');
    expect(columns.slice(0, 8)).toEqual(['case', 'backend', 'device', 'dtype', 'tokens_per_call', 'status', 'tokens_per_sec', 'median_ms']);
    expect(rows).toHaveLength(2);
    const row = Object.fromEntries(rows[0].split(',').map((v, i) => [columns[i], v]));
    expect(row).toMatchObject({
      case: 'tiny/dense/decode/t4/fp32',
      backend: 'fake',
      status: 'ok',
      tokens_per_call: '4',
      tokens_per_sec: '2000',
      median_ms: '2',
      processes: '1',
      process_spread: '',
    });
    expect(r.stderr).toMatch(/result file: .*r\.json$/m);
  });

  it('markdown: a pipe table with the terminal table’s columns, and the notes as a list', () => {
    const r = run('markdown');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\| case \| status \| tokens\/s \| median ms \| ±95% \|/m);
    expect(r.stdout).toMatch(/^\|---\|---\|---:\|---:\|---:\|/m);
    expect(r.stdout).toMatch(/^\| tiny\/moe\/decode\/t4\/fp32\/e8k2\/routed\/uniform \| ok \| 2,000 \| 2 \|/m);
    expect(r.stdout).toMatch(/^- every output matched the float64 reference/m);
  });

  it('json is --json; another format is refused with exit 2', () => {
    const r = run('json');
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).cases.map((c: { throughput: { tokensPerSec: number } }) => c.throughput.tokensPerSec)).toEqual([2000, 2000]);
    expect(run('xml').status).toBe(2);
  });
});

describe('moebench run --dry-run', () => {
  it('prints the planned cases with their work per call and builds nothing', () => {
    const models = tmp();
    const r = moebench(['run', '--dry-run', '--json', '--suite', 'deepseek-v3', '--model-dir', models]);
    expect(r.status).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.cases.length).toBeGreaterThan(4);
    const decode = plan.cases.find((c: { id: string }) => c.id === 'deepseek-v3/dense/decode/t64/fp16');
    expect(decode.tokensPerCall).toBe(64);
    expect(decode.flopsPerCall).toBe(64 * 6 * 7168 * 18432);
    expect(decode.bytesPerCall).toBe(3 * 7168 * 18432 * 2 + 2 * 64 * 7168 * 2);
    expect(readdirSync(models)).toEqual([]);
  });

  it("--roofline adds the roofline suite's probes in each math mode the run measures, after its own cases", () => {
    const r = moebench(['run', '--dry-run', '--json', '--preset', 'tiny', '--layer', 'dense', '--dtype', 'fp32,fp16', '--tokens', '4', '--roofline']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).cases.map((c: { id: string }) => c.id)).toEqual([
      'tiny/dense/prefill/t4/fp32',
      'tiny/dense/prefill/t4/fp16',
      'tiny/dense/decode/t4/fp32',
      'tiny/dense/decode/t4/fp16',
      'roofline/matmul/prefill/t1/fp32/d4096x8',
      'roofline/matmul/prefill/t1/fp16/d4096x8',
      'roofline/matmul/prefill/t1024/fp32/d4096x8',
      'roofline/matmul/prefill/t1024/fp16/d4096x8',
    ]);
  });
});

describe('bad input gives one clear line and exit 2', () => {
  const dir = tmp();
  writeFileSync(join(dir, 'routing.json'), '{"assignments": [[0, 1], [2]]');
  writeFileSync(join(dir, 'a-file'), 'x');
  it.each([
    [['run', '--preset', 'gpt-9'], /unknown preset "gpt-9": use one of deepseek-v3, mixtral-8x7b/],
    [
      ['run', '--preset', 'tiny', '--backend', 'ort-tpu'],
      /unknown backend "ort-tpu": use auto, all-available, ort-cuda, ort-webgpu, ort-cpu, tfjs-node-gpu/,
    ],
    [['run', '--preset', 'tiny', '--layer', 'moe', '--top-k', '9'], /top-k 9 is more than the 8 experts/],
    [['run', '--preset', 'tiny', '--tokens', '0'], /--tokens must be positive integers, got "0"/],
    [['run', '--preset', 'tiny', '--tokens', '-3'], /--tokens must be positive integers, got "-3"/],
    [['run', '--preset', 'tiny', '--layer', 'moe', '--routing', `file:${join(dir, 'routing.json')}`], /routing file .*routing.json: .*JSON/],
    [['run', '--preset', 'tiny', '--routing', 'zipf'], /zipf needs a non-negative exponent/],
    [
      ['run', '--preset', 'tiny', '--layer', 'dense', '--backend', 'fake', '--out', join(dir, 'a-file', 'r.json')],
      /cannot write result file .*a-file\/r.json: (ENOTDIR|EEXIST)/,
    ],
    [['run', '--suite', 'nope'], /unknown suite "nope"/],
    // Node's recursive mkdir spins forever under /proc; this must fail at once
    [
      ['run', '--preset', 'tiny', '--layer', 'dense', '--backend', 'fake', '--out', '/proc/nope/r.json'],
      /cannot write result file \/proc\/nope\/r.json: ENOENT/,
    ],
    [['run', '--preset', 'tiny', '--dtype', 'int4'], /--dtype "int4": use fp32, tf32, fp16, bf16, fp8/],
    [['run', '--preset', 'llama-3.1-8b', '--layer', 'matmul'], /preset llama-3.1-8b has no matmul layer/],
    [
      ['run', '--preset', 'tiny', '--layer', 'attention', '--context-spread', '0.5'],
      /--context-spread needs --attn-impl fused: the standard formulation gives every query/,
    ],
    [
      ['run', '--preset', 'tiny', '--layer', 'attention', '--attn-impl', 'fused', '--context-spread', '1.5'],
      /--context-spread must be between 0 and 1, got 1.5/,
    ],
    [
      ['size', '--roofline', '--card', 'NVIDIA H800', '--model', 'roofline'],
      /roofline is not a model: use one of deepseek-v3, mixtral-8x7b, qwen3-30b-a3b, llama-3.1-8b, small, tiny/,
    ],
    [['run', '--preset', 'tiny', '--layer', 'moe', '--experts-per-card', '3'], /--experts-per-card 3 must divide the 8 experts/],
    [['run', '--preset', 'tiny', '--layer', 'moe', '--moe-impl', 'fused', '--experts-per-card', '2'], /fused cannot run an expert-parallel slice/],
    [['run', '--resume', join(dir, 'a-file')], /a-file: not valid JSON/],
    [['run', '--preset', 'tiny', '--threads', '0'], /--threads must be positive integers, got "0"/],
    [
      ['run', '--preset', 'tiny', '--min-time-ms', '300', '--max-time-ms', '200'],
      /--min-time-ms 300 is more than --max-time-ms 200: no case could stop before the maximum/,
    ],
    [['frobnicate'], /Unknown argument: frobnicate/],
  ])('%j', (args, message) => {
    const r = moebench(args as string[]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  });

  it('an unavailable backend names what is missing and the fix', () => {
    const r = moebench(['run', '--preset', 'tiny', '--backend', 'ort-cuda']);
    expect(r.status).toBe(2);
    // here the provider is not installed; on a box (or CI's stand-in) where it is, its CUDA libraries are what is missing
    expect(r.stderr).toMatch(
      /backend ort-cuda is unavailable: (the CUDA execution provider is not installed .*Fix: npm run setup:cuda|ort-cuda needs CUDA 12 and cuDNN 9; .*Fix: )/,
    );
  });
});

describe("the stopping rule's times", () => {
  it('a --max-time-ms under the default minimum lowers the minimum, so a steady case converges', () => {
    const out = join(tmp(), 'r.json');
    const r = moebench([...TINY_FAKE_RUN, '--max-time-ms', '200', '--out', out], fakeScript({ latenciesMs: [1] }));
    expect(r.status, r.stderr).toBe(0);
    const [c] = readResultFile(out).cases;
    expect(c.status).toBe('ok');
    expect((readResultFile(out).run.options as { stopping: { minTimeMs: number } }).stopping.minTimeMs).toBe(200);
  });
});

describe('moebench run --help', () => {
  it('names every math mode --dtype accepts', () => {
    const r = moebench(['run', '--help']);
    expect(r.status).toBe(0);
    const flat = r.stdout.replace(/\s+/g, ' ');
    const dtype = flat.slice(flat.indexOf('--dtype'), flat.indexOf('--moe-impl'));
    for (const mode of ['fp32', 'tf32', 'fp16', 'bf16', 'fp8']) expect(dtype).toContain(mode);
    // and each is accepted: a mode the help names but the parser refuses would fail here
    for (const mode of ['fp32', 'tf32', 'fp16', 'bf16', 'fp8'])
      expect(moebench([...TINY_FAKE_RUN, '--dtype', mode, '--dry-run']).status, mode).toBe(0);
  });
});

describe('moebench run --threads', () => {
  it("sets ONNX Runtime's intra-op threads and records them with the run and each case", () => {
    const out = join(tmp(), 'r.json');
    const r = moebench(
      tinyRun('ort-cpu', 'dense', 'decode', '8', '--threads', '1', '--max-time-ms', '500', '--repetitions', '1', '--out', out, '--model-dir', tmp()),
    );
    expect(r.status, r.stderr).toBe(0);
    const file = readResultFile(out);
    expect(file.run.options.threads).toBe(1);
    expect(file.cases[0].details!.intraOpThreads).toBe(1);
  });

  it('without it the case says ONNX Runtime chose', () => {
    const out = join(tmp(), 'r.json');
    const r = moebench(tinyRun('ort-cpu', 'dense', 'decode', '8', '--max-time-ms', '500', '--repetitions', '1', '--out', out, '--model-dir', tmp()));
    expect(r.status, r.stderr).toBe(0);
    expect(readResultFile(out).cases[0].details!.intraOpThreads).toBe('default');
  });
});

describe('moebench run --suite default on the CPU', () => {
  it('writes a result file with a positive tokens/sec for every case', { timeout: 180_000 }, () => {
    const out = join(tmp(), 'default.json');
    // force the CPU: the default suite's auto backend would also pick the CPU on CI, but not on a GPU box
    // the first look as npm start runs it: 3 processes per case within the suite's 30 s budget
    const r = moebench(['run', '--suite', 'default', '--backend', 'ort-cpu', '--out', out, '--model-dir', tmp()]);
    expect(r.stderr).toMatch(/\[5\/5\]/);
    expect(r.status).toBe(0);
    const file = readResultFile(out);
    expect(file.cases).toHaveLength(5);
    expect(file.cases.map((c) => c.repetitions?.length)).toEqual([3, 3, 3, 3, 3]);
    for (const c of file.cases) {
      expect(c.status === 'ok' || c.status === 'noisy').toBe(true);
      expect(c.throughput!.tokensPerSec).toBeGreaterThan(0);
      expect(c.correctness!.passed).toBe(true);
    }
    expect(file.environment.packages['onnxruntime-node']).toBe('1.30.0');
    expect(file.environment.endedAt).toBeDefined();
  });
});
