import { chmodSync, existsSync, mkdtempSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UnsupportedHere } from '../backends/backend.js';
import { ensurePeerWeights, PeerBackend, type PeerName } from '../backends/peer.js';
import { checkCorrectness } from '../run/correctness.js';
import { readResultFile } from '../results/io.js';
import { PRESETS } from '../workloads/presets.js';
import { makeInputs } from '../workloads/tensors.js';
import { tinyCase } from './helpers/cases.js';
import { moebench, ROOT, smiCard, standInNvidiaSmi, tinyRun } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'moebench-peer-'));

describe('the numpy peer: the same layers through python/peer.py', () => {
  it('probes available where python3 has numpy, and says which', async () => {
    const p = await new PeerBackend().probe();
    expect(p).toMatchObject({ available: true, hardware: false });
    expect(p.available && p.detail).toMatch(/^numpy \d+\.\d+\.\d+ on Python 3\.\d+\.\d+ \(python3\)$/);
  });

  it('says what is missing: no interpreter, or one without numpy, each with its fix', async () => {
    const none = await new PeerBackend('numpy', join(dir, 'no-python')).probe();
    expect(none).toMatchObject({ available: false, reason: `no ${join(dir, 'no-python')} to run the numpy peer` });
    // python3 without its site-packages: no numpy
    const bare = join(dir, 'bare-python');
    writeFileSync(bare, '#!/bin/sh\nexec python3 -S "$@"\n');
    chmodSync(bare, 0o755);
    const without = await new PeerBackend('numpy', bare).probe();
    expect(without).toMatchObject({ available: false, reason: `${bare} has no numpy` });
    expect(!without.available && without.fix).toMatch(/-m pip install numpy/);
  });

  it('runs only what it has built, and says so', () => {
    const peer = new PeerBackend();
    expect(peer.unsupported(tinyCase())).toBeUndefined();
    expect(peer.unsupported(tinyCase({ moeImpl: 'routed' }))).toBeUndefined();
    expect(peer.unsupported(tinyCase({ moeImpl: 'fused' }))).toBe("fused is ONNX Runtime's com.microsoft.MoE contrib op; numpy has none");
    expect(peer.unsupported(tinyCase({ layer: PRESETS.tiny.attention! }))).toBeUndefined();
    expect(peer.unsupported(tinyCase({ layer: PRESETS.tiny.attention!, attnImpl: 'fused' }))).toMatch(/; numpy has none$/);
    expect(peer.unsupported(tinyCase({ dtype: 'fp16' }))).toMatch(/the numpy peer runs fp32 \(torch-cpu runs fp16, bf16 and fp8\)$/);
  });

  it.each([
    ['dense SwiGLU', tinyCase()],
    ['routed MoE with a shared expert', tinyCase({ moeImpl: 'routed' })],
    ['dense-all MoE', tinyCase({ moeImpl: 'dense-all' })],
    ['routed MoE, most experts without tokens', tinyCase({ moeImpl: 'routed', routing: 'hot:1', moe: { topK: 1 } })],
    ['an expert-parallel slice under zipf routing', tinyCase({ moeImpl: 'routed', expertsPerCard: 2, numTokens: 32, routing: 'zipf:1.0' })],
    ['the roofline probe', tinyCase({ layer: PRESETS.tiny.matmul! })],
  ])('%s matches the float64 reference', async (_name, c) => {
    const inputs = makeInputs(c);
    const loaded = await new PeerBackend().load(c, inputs);
    try {
      const r = await checkCorrectness(c, inputs, loaded);
      expect(r.relativeL2Error).toBeLessThan(1e-5);
    } finally {
      await loaded.dispose();
    }
  });

  it("the protocol's failures: the worker's own error, a refusal for this device, a worker that dies", async () => {
    const scripted = (replies: object) => ({
      MOEBENCH_PEER_WORKER: join(ROOT, 'src', 'test', 'fixtures', 'scriptedPeer.py'),
      MOEBENCH_PEER_REPLIES: JSON.stringify(replies),
    });
    const c = tinyCase();
    const load = (replies: object) => withEnv(scripted(replies), () => new PeerBackend('numpy').load(c, makeInputs(c)));
    // an older worker asked for a layer it lacks
    await expect(load({ load: { ok: false, error: 'ValueError: the numpy peer has no attention layer yet' } })).rejects.toThrow(
      /^ValueError: the numpy peer has no attention layer yet$/,
    );
    const refused = load({ load: { ok: false, unsupported: 'no FP8 here' } });
    await expect(refused).rejects.toThrow(UnsupportedHere);
    await expect(refused).rejects.toThrow(/^no FP8 here$/);
    await expect(load({ load: { exit: 3, stderr: 'Segmentation fault' } })).rejects.toThrow(
      /^the peer worker exited with code 3: Segmentation fault$/,
    );
    // dies after loading: the next call fails with why, never hangs
    const loaded = await load({ load: { ok: true, recorded: { threads: 1 } }, run: { exit: 137, stderr: 'Killed' } });
    await expect(loaded.run()).rejects.toThrow(/^the peer worker exited with code 137: Killed$/);
    await loaded.dispose();
  });

  it('in one run beside ort-cpu: every output checked, and compare --by backend gives each case a verdict', () => {
    const out = join(dir, 'peers.json');
    const r = moebench(
      tinyRun('all-available', 'dense,matmul', 'prefill', '64', '--repetitions', '1', '--max-time-ms', '200', '--python', 'python3', '--out', out),
      { MOEBENCH_ENGINES: 'ort-cpu,numpy' },
    );
    expect(r.status, r.stderr).toBe(0);
    const file = readResultFile(out);
    expect([...new Set(file.cases.map((c) => c.backend))].sort()).toEqual(['numpy', 'ort-cpu']);
    for (const c of file.cases) {
      expect(c.correctness!.passed, `${c.backend} ${c.id}`).toBe(true);
      expect(c.throughput!.tokensPerSec).toBeGreaterThan(0);
    }
    // --python names the interpreter; the run records it
    expect(file.environment.envVars.MOEBENCH_PYTHON).toBe('python3');
    const compared = moebench(['compare', out, '--by', 'backend', '--baseline', 'ort-cpu', '--format', 'json']);
    expect(compared.status, compared.stderr).toBe(0);
    const pairs = JSON.parse(compared.stdout).pairs as { row: { id: string }; verdict: string }[];
    expect(pairs.map((p) => p.row.id).sort()).toEqual(['tiny/dense/prefill/t64/fp32', 'tiny/matmul/prefill/t64/fp32/d32x2']);
    for (const p of pairs) expect(['FASTER', 'SLOWER', 'SAME', 'UNCERTAIN']).toContain(p.verdict);
  });
});

/** The peers' pinned virtual environment (scripts/setup-peers.sh; npm test makes it). */
const VENV = join(ROOT, '.cache', 'peers-venv', 'bin', 'python');

describe('the peers’ weights, written once per case into the model folder', () => {
  it('a second process of the case reads the files the first wrote; a damaged one is written again', async () => {
    const modelDir = mkdtempSync(join(tmpdir(), 'moebench-peer-weights-'));
    for (const c of [
      tinyCase({ moeImpl: 'routed' }),
      tinyCase({ layer: PRESETS.tiny.attention!, phase: 'decode', batch: 4, seqLen: 1, numTokens: 4, context: 16 }),
    ]) {
      const load = async () => {
        const inputs = makeInputs(c);
        const loaded = await new PeerBackend().load(c, inputs, { modelDir, deviceId: 0 });
        try {
          expect((await checkCorrectness(c, inputs, loaded)).relativeL2Error).toBeLessThan(1e-5);
        } finally {
          await loaded.dispose();
        }
      };
      await load();
      const files = ensurePeerWeights(c, modelDir);
      const names = Object.keys(files);
      // every weight of the layer, the KV cache included for attention
      expect(names.length).toBeGreaterThan(1);
      if (c.layer.kind === 'attention') expect(names.some((n) => /cache$/.test(n))).toBe(true);
      const mtimes = names.map((n) => statSync(files[n].path).mtimeMs);
      await load();
      expect(names.map((n) => statSync(files[n].path).mtimeMs)).toEqual(mtimes);
      // a truncated file is not trusted: written again, and the case still matches its reference
      const first = files[names[0]].path;
      truncateSync(first, 8);
      await load();
      expect(statSync(first).size).toBe(files[names[0]].dims.reduce((a, x) => a * x, 4));
    }
  });
});

describe('torch-cpu and ort-python: the peers in their pinned environment', () => {
  it('has the environment (npm run setup:peers)', () => {
    expect(existsSync(VENV), `${VENV} is missing: npm run setup:peers`).toBe(true);
  });

  it.each([
    ['torch-cpu', 'torch 2.13.0+cpu'],
    ['ort-python', 'onnxruntime 1.30.0'],
  ] as [PeerName, string][])('%s probes available there, with its version', async (name, version) => {
    const p = await new PeerBackend(name, VENV).probe();
    expect(p.available && p.detail).toMatch(new RegExp(`^${version.replace(/[.+]/g, '\\$&')} on Python 3`));
  });

  it("a python3 without torch says so, with the pinned install and the venv's script", async () => {
    const bare = join(dir, 'bare-python-torch');
    writeFileSync(bare, '#!/bin/sh\nexec python3 -S "$@"\n');
    chmodSync(bare, 0o755);
    const p = await new PeerBackend('torch-cpu', bare).probe();
    // numpy is imported first: a bare interpreter lacks it before torch
    expect(p).toMatchObject({ available: false, reason: `${bare} has no numpy` });
    expect(!p.available && p.fix).toMatch(/-m pip install torch==2\.13\.0\+cpu .*scripts\/setup-peers\.sh/);
  });

  const cases = [
    ['dense SwiGLU', tinyCase()],
    ['routed MoE with a shared expert', tinyCase({ moeImpl: 'routed' })],
    ['dense-all MoE', tinyCase({ moeImpl: 'dense-all' })],
    ['an expert-parallel slice under zipf routing', tinyCase({ moeImpl: 'routed', expertsPerCard: 2, numTokens: 32, routing: 'zipf:1.0' })],
  ] as const;
  for (const name of ['torch-cpu', 'ort-python'] as PeerName[]) {
    it.each(cases)(`${name}: %s matches the float64 reference`, async (_n, c) => {
      const inputs = makeInputs(c);
      const loaded = await new PeerBackend(name, VENV).load(c, inputs, { modelDir: join(dir, 'models'), deviceId: 0, threads: 1 });
      try {
        expect((await checkCorrectness(c, inputs, loaded)).relativeL2Error).toBeLessThan(1e-5);
      } finally {
        await loaded.dispose();
      }
    });
  }

  it("ort-python runs moebench's own model file: fused MoE, attention and fp16 too", async () => {
    for (const c of [
      tinyCase({ moeImpl: 'fused' }),
      tinyCase({ layer: PRESETS.tiny.attention!, phase: 'decode', batch: 4, seqLen: 1, numTokens: 4, context: 16 }),
      tinyCase({ dtype: 'fp16' }),
    ]) {
      const inputs = makeInputs(c);
      const loaded = await new PeerBackend('ort-python', VENV).load(c, inputs, { modelDir: join(dir, 'models'), deviceId: 0 });
      try {
        const r = await checkCorrectness(c, inputs, loaded);
        expect(r.passed, c.id).toBe(true);
        expect(loaded.details.modelFile).toMatch(/\.onnx$/);
      } finally {
        await loaded.dispose();
      }
    }
  });

  it('one run: ort-cpu, ort-python, torch-cpu and numpy on the same cases, and compare --by backend answers for each', () => {
    const out = join(dir, 'all-peers.json');
    const r = moebench(
      tinyRun(
        'all-available',
        'dense',
        'prefill',
        '64',
        '--repetitions',
        '1',
        '--max-time-ms',
        '200',
        '--threads',
        '1',
        '--python',
        VENV,
        '--out',
        out,
      ),
      { MOEBENCH_ENGINES: 'ort-cpu,ort-python,torch-cpu,numpy' },
    );
    expect(r.status, r.stderr).toBe(0);
    const file = readResultFile(out);
    expect(file.cases.map((c) => c.backend).sort()).toEqual(['numpy', 'ort-cpu', 'ort-python', 'torch-cpu']);
    for (const c of file.cases) expect(c.correctness!.passed, c.backend).toBe(true);
    const compared = moebench(['compare', out, '--by', 'backend', '--baseline', 'ort-cpu', '--format', 'json']);
    expect(compared.status, compared.stderr).toBe(0);
    const pairs = JSON.parse(compared.stdout).pairs as { candidate: string; verdict: string }[];
    expect(pairs.map((p) => p.candidate).sort()).toEqual(['numpy', 'ort-python', 'torch-cpu']);
  });
});

/** python/peer.py under a stand-in CUDA card (src/test/fixtures/fakeCudaPeer.py): torch.cuda scripted, the tensors on the host. */
const FAKE_CUDA_WORKER = join(ROOT, 'src', 'test', 'fixtures', 'fakeCudaPeer.py');
const fakeCuda = (card: object) => ({ MOEBENCH_PEER_WORKER: FAKE_CUDA_WORKER, MOEBENCH_FAKE_CUDA: JSON.stringify(card) });
const A100 = { name: 'NVIDIA A100-SXM4-80GB', capability: [8, 0] };

/** Runs `body` with the variables set in this process (the backend spawns its worker from here), restoring them after. */
async function withEnv<T>(env: Record<string, string>, body: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await body();
  } finally {
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  }
}

describe('the peers in bf16 and fp8, and torch-cuda', () => {
  it.each([
    ['bf16', 'dense SwiGLU', tinyCase({ dtype: 'bf16' })],
    ['bf16', 'routed MoE', tinyCase({ dtype: 'bf16', moeImpl: 'routed' })],
    ['fp16', 'the expert-parallel slice', tinyCase({ dtype: 'fp16', moeImpl: 'routed', expertsPerCard: 2, numTokens: 32 })],
    ['fp8', 'dense SwiGLU', tinyCase({ dtype: 'fp8' })],
    ['fp8', 'routed MoE', tinyCase({ dtype: 'fp8', moeImpl: 'routed' })],
    ['fp8', 'the roofline probe', tinyCase({ dtype: 'fp8', layer: PRESETS.tiny.matmul! })],
  ] as const)('torch-cpu %s: %s matches the reference within its tolerance, and errs as much as its format says', async (dtype, _n, c) => {
    const inputs = makeInputs(c);
    const loaded = await new PeerBackend('torch-cpu', VENV).load(c, inputs, { modelDir: join(dir, 'models'), deviceId: 0, threads: 1 });
    try {
      const r = await checkCorrectness(c, inputs, loaded);
      expect(r.passed, `${r.relativeL2Error}`).toBe(true);
      // not the fp32 layer in disguise: fp8's rounding of the intermediates alone is about 2.6e-2 (reference.ts)
      const floor = { fp16: 1e-4, bf16: 1e-3, fp8: 1e-2 }[dtype];
      expect(r.relativeL2Error).toBeGreaterThan(floor);
      expect(loaded.details.threads).toBe(1);
    } finally {
      await loaded.dispose();
    }
  });

  it('the ONNX engines and numpy skip bf16 and fp8, saying where they are measured', () => {
    for (const dtype of ['bf16', 'fp8'] as const) {
      expect(new PeerBackend('ort-python').unsupported(tinyCase({ dtype }))).toMatch(/fp32 and fp16 only.*torch peers \(torch-cpu, torch-cuda\)/);
      expect(new PeerBackend('numpy').unsupported(tinyCase({ dtype }))).toMatch(/^NumPy has no bfloat16 or float8/);
      expect(new PeerBackend('torch-cpu').unsupported(tinyCase({ dtype }))).toBeUndefined();
    }
  });

  it('torch-cuda on a CPU build of torch: unavailable, with the install that fixes it', async () => {
    const p = await new PeerBackend('torch-cuda', VENV).probe();
    expect(p).toMatchObject({
      available: false,
      reason: expect.stringMatching(/^torch 2\.13\.0\+cpu on Python 3\.\d+\.\d+ .* is a CPU build of torch$/),
    });
    expect(!p.available && p.fix).toMatch(/-m pip install torch \(on a box with an NVIDIA driver/);
  });

  it('torch-cuda probes the card it sees, or says there is none', async () => {
    const h100 = await withEnv(fakeCuda({}), () => new PeerBackend('torch-cuda', VENV).probe());
    expect(h100).toMatchObject({ available: true, hardware: true });
    expect(h100.available && h100.detail).toMatch(/^torch 2\.13\.0\+cpu on Python .*, CUDA 12\.8: NVIDIA H100 80GB HBM3 \(compute 9\.0\)$/);
    const none = await withEnv(fakeCuda({ available: false }), () => new PeerBackend('torch-cuda', VENV).probe());
    expect(none).toMatchObject({ available: false, reason: expect.stringMatching(/\(CUDA 12\.8\) sees no CUDA device$/) });
    expect(h100.available && h100.versions).toMatchObject({ 'python:torch': '2.13.0+cpu', 'python:torch.cuda': '12.8', 'python:numpy': '2.4.6' });
  });

  it('a probe answers with the versions a run records, from one worker start, each start an import of the engine', async () => {
    const startLog = join(dir, 'probe-workers.log');
    const probe = await withEnv(fakeCuda({ startLog }), () => new PeerBackend('torch-cpu', VENV).probe());
    expect(probe).toMatchObject({ available: true, versions: { 'python:torch': '2.13.0+cpu' } });
    expect(readFileSync(startLog, 'utf8')).toBe(`start ${process.pid}\n`);
  });

  it('ort-python-cuda without onnxruntime-gpu: unavailable, naming the providers it has and the package that brings CUDA', async () => {
    const p = await new PeerBackend('ort-python-cuda', VENV).probe();
    expect(p).toMatchObject({
      available: false,
      reason: expect.stringMatching(/^onnxruntime 1\.30\.0 .* has no CUDAExecutionProvider \(providers: .*CPUExecutionProvider/),
    });
    expect(!p.available && p.fix).toMatch(/pip uninstall -y onnxruntime && .* -m pip install onnxruntime-gpu==1\.30\.0/);
  });

  it("fp8 on a torch without float8 (Debian's 1.13) is refused at load, naming the torch that has it", async () => {
    const c = tinyCase({ dtype: 'fp8' });
    await withEnv(fakeCuda({ noFloat8: true }), async () => {
      const load = new PeerBackend('torch-cpu', VENV).load(c, makeInputs(c), { modelDir: join(dir, 'models'), deviceId: 0 });
      await expect(load).rejects.toThrow(UnsupportedHere);
      await expect(load).rejects.toThrow(/^torch 2\.13\.0\+cpu has no float8_e4m3fn or _scaled_mm \(torch 2\.1 or later has\)$/);
    });
  });

  it('fp8 on a card without FP8 tensor cores is refused at load, as the card it is', async () => {
    const c = tinyCase({ dtype: 'fp8' });
    await withEnv(fakeCuda(A100), async () => {
      const load = new PeerBackend('torch-cuda', VENV).load(c, makeInputs(c), { modelDir: join(dir, 'models'), deviceId: 0 });
      await expect(load).rejects.toThrow(UnsupportedHere);
      await expect(load).rejects.toThrow(/^NVIDIA A100-SXM4-80GB \(compute capability 8\.0\) has no FP8 tensor cores; torch\._scaled_mm needs 8\.9/);
    });
  });
});

describe('attention through the torch peer', () => {
  const gqa = PRESETS.tiny.attention!;
  const mla = PRESETS['tiny-mla'].attention!;
  const decode = (o: Parameters<typeof tinyCase>[0]) => tinyCase({ phase: 'decode', batch: 4, seqLen: 1, numTokens: 4, context: 16, ...o });
  it.each([
    ['GQA prefill, standard', tinyCase({ layer: gqa, batch: 2, seqLen: 8, numTokens: 16 })],
    ['GQA prefill, fused (scaled_dot_product_attention)', tinyCase({ layer: gqa, batch: 2, seqLen: 8, numTokens: 16, attnImpl: 'fused' })],
    ['GQA decode over a 16-token cache', decode({ layer: gqa })],
    ['GQA decode, fused, the batch over cache lengths 16 to 8', decode({ layer: gqa, attnImpl: 'fused', contextSpread: 0.5 })],
    ['GQA decode with an empty cache', decode({ layer: gqa, context: 0 })],
    ['MLA prefill (the latent decompressed)', tinyCase({ preset: 'tiny-mla', layer: mla, batch: 2, seqLen: 8, numTokens: 16 })],
    ['MLA decode (wkv_b absorbed)', decode({ preset: 'tiny-mla', layer: mla })],
    ['GQA decode in bf16', decode({ layer: gqa, dtype: 'bf16' })],
    ['MLA decode in fp16', decode({ preset: 'tiny-mla', layer: mla, dtype: 'fp16' })],
  ] as const)('torch-cpu: %s matches the float64 reference', async (_n, c) => {
    const inputs = makeInputs(c);
    const loaded = await new PeerBackend('torch-cpu', VENV).load(c, inputs, { modelDir: join(dir, 'models'), deviceId: 0, threads: 1 });
    try {
      const r = await checkCorrectness(c, inputs, loaded);
      expect(r.passed, `${r.relativeL2Error}`).toBe(true);
      if (c.dtype === 'fp32') expect(r.relativeL2Error).toBeLessThan(1e-5);
    } finally {
      await loaded.dispose();
    }
  });

  it.each([
    ['GQA prefill', tinyCase({ layer: gqa, batch: 2, seqLen: 8, numTokens: 16 })],
    ['GQA decode, cache lengths 16 to 8', decode({ layer: gqa, contextSpread: 0.5 })],
    ['MLA prefill', tinyCase({ preset: 'tiny-mla', layer: mla, batch: 2, seqLen: 8, numTokens: 16 })],
    ['MLA decode', decode({ preset: 'tiny-mla', layer: mla })],
  ] as const)('numpy: %s matches the float64 reference', async (_n, c) => {
    const inputs = makeInputs(c);
    const loaded = await new PeerBackend('numpy').load(c, inputs);
    try {
      expect((await checkCorrectness(c, inputs, loaded)).relativeL2Error).toBeLessThan(1e-5);
    } finally {
      await loaded.dispose();
    }
  });

  it('fp8 attention is skipped, saying which modes have it', () => {
    expect(new PeerBackend('torch-cpu').unsupported(decode({ layer: gqa, dtype: 'fp8' }))).toMatch(/attention runs fp32, tf32, fp16 and bf16$/);
  });
});

describe('a run of torch-cuda on a stand-in card', () => {
  const standInSmi = (name: string) => standInNvidiaSmi([`echo "${smiCard(0, name, 'GPU-aaaa')}"`]);
  const run = (out: string, dtypes: string, env: Record<string, string | undefined>) =>
    moebench(
      [...tinyRun('torch-cuda', 'dense', 'decode', '16'), '--dtype', dtypes].concat([
        '--repetitions',
        '1',
        '--max-time-ms',
        '300',
        '--python',
        VENV,
        '--out',
        out,
      ]),
      env,
    );

  it("times each call to the end of the card's work, sets the math mode per case, records torch and CUDA, and skips fp8 on an A100", () => {
    const h100 = join(dir, 'torch-cuda-h100.json');
    const startLog = join(dir, 'torch-cuda-h100-workers.log');
    const r = run(h100, 'fp32,tf32,fp8', { ...fakeCuda({ syncMs: 20, startLog }), ...standInSmi('NVIDIA H100 80GB HBM3') });
    expect(r.status, r.stderr).toBe(0);
    // each case process starts one worker (torch and CUDA once), which loads the layer and then its overhead model
    const events = readFileSync(startLog, 'utf8').trim().split('\n');
    const caseProcesses = [...new Set(events.filter((e) => e.startsWith('load ')).map((e) => e.split(' ')[1]))];
    expect(caseProcesses).toHaveLength(3);
    for (const ppid of caseProcesses)
      expect(events.filter((e) => e.endsWith(` ${ppid}`)).sort()).toEqual(['load ' + ppid, 'load ' + ppid, 'start ' + ppid]);
    // one start besides: the probe's, in its own process, which also brings back the versions the file records
    expect(events.filter((e) => !caseProcesses.some((ppid) => e.endsWith(` ${ppid}`)))).toEqual([expect.stringMatching(/^start \d+$/)]);
    const file = readResultFile(h100);
    expect(file.environment.packages).toMatchObject({ 'python:torch': '2.13.0+cpu', 'python:torch.cuda': '12.8' });
    const byDtype = Object.fromEntries(file.cases.map((c) => [c.workload.dtype, c]));
    for (const c of file.cases) {
      expect(c.status, `${c.id}: ${c.error}`).toMatch(/^(ok|noisy)$/);
      expect(c.correctness!.passed).toBe(true);
      // the card takes 20 ms to finish each call, and the worker's clock waits for it
      expect(c.summary!.medianMs).toBeGreaterThanOrEqual(20);
      expect(c.device).toBe('gpu:0 (NVIDIA H100 80GB HBM3)');
    }
    expect(byDtype.fp32.details).toMatchObject({ tf32: false, worker: 'python/peer.py torch' });
    expect(byDtype.tf32.details).toMatchObject({ tf32: true });

    const a100 = join(dir, 'torch-cuda-a100.json');
    const skipped = run(a100, 'fp8', { ...fakeCuda(A100), ...standInSmi('NVIDIA A100-SXM4-80GB') });
    expect(skipped.status, skipped.stderr).toBe(0);
    const [fp8] = readResultFile(a100).cases;
    expect(fp8.status).toBe('skipped');
    expect(fp8.error).toMatch(/^not supported by torch-cuda here: NVIDIA A100-SXM4-80GB \(compute capability 8\.0\) has no FP8 tensor cores/);
  });
});
