import { createRequire } from 'node:module';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Backend, LoadedCase, Probe } from '../backends/backend.js';
import { OrtBackend } from '../backends/ort.js';
import { resolveBackend } from '../run/resolve.js';
import { TfjsBackend } from '../backends/tfjs/backend.js';
import { PRESETS } from '../workloads/presets.js';
import { checkCorrectness } from '../run/correctness.js';
import { relativeL2Error } from '../workloads/reference.js';
import { makeInputs } from '../workloads/tensors.js';
import type { WorkloadCase } from '../workloads/spec.js';
import { readResultFile } from '../results/io.js';
import { tinyCase } from './helpers/cases.js';
import { lavapipeEnv, moebench, fakeScript, TINY_FAKE_RUN } from './helpers/cli.js';

const modelDir = mkdtempSync(join(tmpdir(), 'moebench-tfjs-'));
const load = { modelDir, deviceId: 0 };

async function withLoaded<T>(b: Backend, c: WorkloadCase, f: (l: LoadedCase) => Promise<T>): Promise<T> {
  const l = await b.load(c, makeInputs(c), load);
  try {
    return await f(l);
  } finally {
    await l.dispose();
  }
}

const CASES: [string, WorkloadCase][] = [
  ['dense', tinyCase()],
  ['routed MoE', tinyCase({ moeImpl: 'routed' })],
  ['routed MoE, k=4 of 4 experts', tinyCase({ moeImpl: 'routed', moe: { numExperts: 4, topK: 4 } })],
  ['dense-all MoE', tinyCase({ moeImpl: 'dense-all' })],
  ['routed MoE, one token', tinyCase({ moeImpl: 'routed', numTokens: 1, phase: 'decode', batch: 1, seqLen: 1 })],
  ['routed MoE, most experts without tokens', tinyCase({ moeImpl: 'routed', routing: 'hot:1', moe: { topK: 1 } })],
  ['routed MoE without renormalisation', tinyCase({ moeImpl: 'routed', moe: { renormalize: false } })],
  ['expert-parallel slice', tinyCase({ moeImpl: 'routed', expertsPerCard: 2, numTokens: 32 })],
  ['roofline probe (chain of products)', tinyCase({ layer: PRESETS.tiny.matmul! })],
  [
    'attention decode over a cache of 16',
    tinyCase({ layer: PRESETS.tiny.attention!, phase: 'decode', batch: 4, seqLen: 1, numTokens: 4, context: 16 }),
  ],
  [
    'attention decode over a cache of 1',
    tinyCase({ layer: PRESETS.tiny.attention!, phase: 'decode', batch: 2, seqLen: 1, numTokens: 2, context: 1 }),
  ],
  [
    'MLA absorbed decode over a cache of 16',
    tinyCase({ preset: 'tiny-mla', layer: PRESETS['tiny-mla'].attention!, phase: 'decode', batch: 3, seqLen: 1, numTokens: 3, context: 16 }),
  ],
  [
    'MLA absorbed decode over a cache of 1',
    tinyCase({ preset: 'tiny-mla', layer: PRESETS['tiny-mla'].attention!, phase: 'decode', batch: 2, seqLen: 1, numTokens: 2, context: 1 }),
  ],
  [
    'MLA decompressed prefill of two sequences',
    tinyCase({ preset: 'tiny-mla', layer: PRESETS['tiny-mla'].attention!, batch: 2, seqLen: 8, numTokens: 16 }),
  ],
  ['attention causal prefill of two sequences', tinyCase({ layer: PRESETS.tiny.attention!, batch: 2, seqLen: 8, numTokens: 16 })],
];

for (const kind of ['wasm', 'cpu'] as const) {
  describe(`tfjs-${kind} against the float64 reference`, () => {
    const backend = new TfjsBackend(kind);
    for (const [name, c] of CASES) {
      it(name, async () => {
        const r = await withLoaded(backend, c, (l) => checkCorrectness(c, makeInputs(c), l));
        expect(r.relativeL2Error).toBeLessThan(1e-5);
      });
    }
  });
}

/** Whether an optional package resolves here. */
function installed(pkg: string): boolean {
  try {
    createRequire(import.meta.url).resolve(`${pkg}/package.json`);
    return true;
  } catch {
    return false;
  }
}

describe('cross-engine check: TF.js and ORT give the same output for the same case and seed', () => {
  const ort = new OrtBackend('cpu');
  const tfjs = new TfjsBackend('wasm');
  for (const [name, c] of CASES) {
    it(name, async () => {
      const a = await withLoaded(ort, c, (l) => l.output());
      const b = await withLoaded(tfjs, c, (l) => l.output());
      const rows = Array.from({ length: a.length / c.layer.hiddenSize }, (_, i) => i);
      expect(relativeL2Error(b, Float64Array.from(a), rows, c.layer.hiddenSize)).toBeLessThan(1e-4);
    });
  }
});

describe('TF.js limits are stated, not hidden', () => {
  const wasm = new TfjsBackend('wasm');
  it('fp16 is not supported, with the reason', () => {
    expect(wasm.unsupported(tinyCase({ dtype: 'fp16' }))).toMatch(/no float16 tensors/);
  });
  it('fused attention is ORT only', () => {
    const c = tinyCase({ layer: PRESETS.tiny.attention!, attnImpl: 'fused' });
    expect(new TfjsBackend('wasm').unsupported(c)).toMatch(
      /^fused attention is ONNX Runtime's GroupQueryAttention \/ MultiHeadAttention contrib op; TF.js has none$/,
    );
  });

  it('the fused formulation is ORT only', () => {
    expect(wasm.unsupported(tinyCase({ moeImpl: 'fused' }))).toMatch(/com.microsoft.MoE/);
  });
  it('tfjs-cpu leaves out large cases', () => {
    const big = { ...tinyCase(), numTokens: 4096, layer: { kind: 'dense' as const, hiddenSize: 1024, intermediateSize: 2816 } };
    expect(new TfjsBackend('cpu').unsupported(big)).toMatch(/over 2 GFLOP per call/);
    expect(wasm.unsupported(big)).toBeUndefined();
  });
  // tfjs-node-gpu is installed by hand on a lab box (its install downloads libtensorflow): absent here and in CI
  it.runIf(!installed('@tensorflow/tfjs-node-gpu'))('a missing tfjs-node-gpu says why and how to install it, and what CUDA it needs', async () => {
    const p = await new TfjsBackend('node-gpu').probe();
    expect(p.available).toBe(false);
    if (p.available) return;
    expect(p.reason).toMatch(/^@tensorflow\/tfjs-node-gpu is not installed \(not a dependency of moebench: its install downloads libtensorflow/);
    expect(p.fix).toMatch(/CUDA 11.2 \+ cuDNN 8.1 .* npm install --ignore-scripts=false @tensorflow\/tfjs-node-gpu@4.22.0/);
  });
  it.runIf(installed('@tensorflow/tfjs-node-gpu'))('an installed tfjs-node-gpu loads, or names the CUDA libraries it lacks', async () => {
    const p = await new TfjsBackend('node-gpu').probe();
    if (!p.available) expect(p.reason).toMatch(/tfjs-node-gpu needs CUDA 11 and cuDNN 8|failed to load/);
  });
});

describe('TF.js memory', () => {
  it('tensors are disposed after a case and none leak across calls', async () => {
    const backend = new TfjsBackend('wasm');
    const tf = await import('@tensorflow/tfjs-core');
    const before = tf.memory().numTensors;
    const c = tinyCase({ moeImpl: 'routed' });
    const l = await backend.load(c, makeInputs(c), load);
    await l.run();
    const afterOne = l.memory!().numTensors;
    for (let i = 0; i < 5; i++) await l.run();
    expect(l.memory!().numTensors).toBe(afterOne);
    await l.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a case that leaks tensors fails', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'moebench-leak-')), 'r.json');
    const r = moebench([...TINY_FAKE_RUN, '--min-time-ms', '5', '--out', out], fakeScript({ latenciesMs: [1], leakPerCall: 1 }));
    expect(r.status).toBe(1);
    const [c] = readResultFile(out).cases;
    expect(c.status).toBe('failed');
    expect(c.error).toMatch(/^leak: \d+ tensors more after \d+ calls than after the first/);
    expect(c.memory!.afterRuns.numTensors).toBeGreaterThan(c.memory!.afterFirstCall.numTensors);
  });
});

describe('--backend auto knows the TF.js backends', () => {
  const stub = (name: string, probe: Probe): Backend => ({
    name,
    engine: 'stub',
    executionProvider: name,
    placement: 'host',
    probe: async () => probe,
    unsupported: () => undefined,
    load: async () => {
      throw new Error('not used');
    },
    loadOverhead: async () => {
      throw new Error('not used');
    },
  });
  const down: Probe = { available: false, reason: 'not here', fix: 'none' };
  const software: Probe = { available: true, detail: 'lavapipe', hardware: false };
  const cpu: Probe = { available: true, detail: 'cpu', hardware: false };

  it('picks a TF.js CPU engine when no ORT backend is available, never a software WebGPU adapter', async () => {
    const backends = {
      'ort-cuda': stub('ort-cuda', down),
      'tfjs-node-gpu': stub('tfjs-node-gpu', down),
      'ort-webgpu': stub('ort-webgpu', software),
      'tfjs-webgpu': stub('tfjs-webgpu', software),
      'ort-cpu': stub('ort-cpu', down),
      'tfjs-node': stub('tfjs-node', down),
      'tfjs-wasm': stub('tfjs-wasm', cpu),
      'tfjs-cpu': stub('tfjs-cpu', cpu),
    };
    const r = await resolveBackend('auto', backends);
    expect(r.backend.name).toBe('tfjs-wasm');
    expect(r.skipped.map((s) => s.name)).toEqual(['ort-cuda', 'tfjs-node-gpu', 'ort-webgpu', 'tfjs-webgpu', 'ort-cpu', 'tfjs-node']);
  });

  it('prefers a hardware TF.js WebGPU adapter to the CPU', async () => {
    const backends = {
      'ort-cuda': stub('ort-cuda', down),
      'tfjs-node-gpu': stub('tfjs-node-gpu', down),
      'ort-webgpu': stub('ort-webgpu', down),
      'tfjs-webgpu': stub('tfjs-webgpu', { available: true, detail: 'nvidia hopper', hardware: true }),
      'ort-cpu': stub('ort-cpu', cpu),
      'tfjs-node': stub('tfjs-node', down),
      'tfjs-wasm': stub('tfjs-wasm', cpu),
      'tfjs-cpu': stub('tfjs-cpu', cpu),
    };
    expect((await resolveBackend('auto', backends)).backend.name).toBe('tfjs-webgpu');
  });
});

describe('TF.js WebGPU on Mesa lavapipe, and every available backend in one run', () => {
  const env = lavapipeEnv();
  it('has the project-local lavapipe (npm run setup:lavapipe)', () => {
    expect(env, 'no .cache/lavapipe: run npm run setup:lavapipe').toBeDefined();
  });

  it('--backend all-available runs the same cases on every engine, with comparable rows', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'moebench-all-')), 'r.json');
    const r = moebench(
      [
        'run',
        '--backend',
        'all-available',
        '--preset',
        'tiny',
        '--phase',
        'prefill',
        '--tokens',
        '16',
        '--moe-impl',
        'routed',
        '--max-time-ms',
        '1500',
        '--repetitions',
        '1',
        '--out',
        out,
      ],
      // the engines CI has, whatever else this machine has (a lab box adds CUDA ones)
      { ...env, MOEBENCH_ENGINES: 'ort-cpu,ort-webgpu,tfjs-cpu,tfjs-wasm,tfjs-webgpu' },
    );
    expect(r.status, r.stderr).toBe(0);
    const file = readResultFile(out);
    expect(file.run.backend).toBe('all-available');
    const backends = [...new Set(file.cases.map((c) => c.backend))].sort();
    expect(backends).toEqual(['ort-cpu', 'ort-webgpu', 'tfjs-cpu', 'tfjs-wasm', 'tfjs-webgpu']);
    for (const c of file.cases) {
      expect(c.correctness!.passed, `${c.backend} ${c.id}`).toBe(true);
      expect(c.throughput!.tokensPerSec).toBeGreaterThan(0);
    }
    expect(new Set(file.cases.map((c) => c.id))).toEqual(new Set(['tiny/dense/prefill/t16/fp32', 'tiny/moe/prefill/t16/fp32/e8k2/routed/uniform']));
    const webgpu = file.cases.find((c) => c.backend === 'tfjs-webgpu')!;
    expect(webgpu.details).toMatchObject({ adapterVendor: 'mesa', adapterSoftware: true });
    expect(webgpu.memory!.afterRuns.numTensors).toBe(webgpu.memory!.afterFirstCall.numTensors);
  });
});
