import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OrtBackend } from '../backends/ort.js';
import { checkCorrectness, prefillPrefixRows } from '../run/correctness.js';
import { ensureModel } from '../onnx/modelFile.js';
import { buildLayerGraph } from '../onnx/layers.js';
import { expertHistogram } from '../workloads/routing.js';
import { makeInputs } from '../workloads/tensors.js';
import { contextsOf, type WorkloadCase } from '../workloads/spec.js';
import { tinyCase } from './helpers/cases.js';
import { PRESETS } from '../workloads/presets.js';

const modelDir = mkdtempSync(join(tmpdir(), 'moebench-models-'));
const cpu = new OrtBackend('cpu');

async function errorOf(c: WorkloadCase) {
  const inputs = makeInputs(c);
  const loaded = await cpu.load(c, inputs, { modelDir, deviceId: 0 });
  try {
    return await checkCorrectness(c, inputs, loaded);
  } finally {
    await loaded.dispose();
  }
}

describe('ONNX builder round trip on ORT CPU against the float64 reference', () => {
  it('dense SwiGLU matches', async () => {
    const r = await errorOf(tinyCase());
    expect(r.relativeL2Error).toBeLessThan(1e-5);
    expect(r.rowsChecked).toBe(16);
  });

  for (const moeImpl of ['routed', 'fused', 'dense-all'] as const) {
    for (const [numExperts, topK] of [
      [4, 1],
      [8, 2],
      [8, 4],
    ]) {
      it(`${moeImpl} MoE matches with E=${numExperts}, k=${topK}`, async () => {
        const r = await errorOf(tinyCase({ moeImpl, moe: { numExperts, topK } }));
        expect(r.relativeL2Error).toBeLessThan(1e-5);
      });
    }
    it(`${moeImpl} MoE matches with a single token`, async () => {
      const r = await errorOf(tinyCase({ moeImpl, numTokens: 1, phase: 'decode', batch: 1, seqLen: 1 }));
      expect(r.rowsTotal).toBe(1);
      expect(r.relativeL2Error).toBeLessThan(1e-5);
    });
    it(`${moeImpl} MoE matches when most experts receive no tokens`, async () => {
      const c = tinyCase({ moeImpl, routing: 'hot:1', moe: { topK: 1 } });
      expect(expertHistogram(makeInputs(c).assignment!, 8)).toEqual([16, 0, 0, 0, 0, 0, 0, 0]);
      const r = await errorOf(c);
      expect(r.relativeL2Error).toBeLessThan(1e-5);
    });
  }

  it('MoE without renormalisation and without shared experts matches', async () => {
    const r = await errorOf(tinyCase({ moe: { renormalize: false, numSharedExperts: 0 } }));
    expect(r.relativeL2Error).toBeLessThan(1e-5);
  });

  it('an expert-parallel slice matches on the tokens the card receives', async () => {
    const c = tinyCase({ expertsPerCard: 2, numTokens: 32 });
    const inputs = makeInputs(c);
    expect(inputs.tokenIds.length).toBeGreaterThan(0);
    expect(inputs.tokenIds.length).toBeLessThan(32);
    const r = await errorOf(c);
    expect(r.relativeL2Error).toBeLessThan(1e-5);
  });

  it('fp16 dense and MoE stay within the fp16 tolerance', async () => {
    for (const c of [tinyCase({ dtype: 'fp16' }), tinyCase({ dtype: 'fp16', moeImpl: 'routed' }), tinyCase({ dtype: 'fp16', moeImpl: 'fused' })]) {
      const r = await errorOf(c);
      expect(r.tolerance).toBe(1e-2);
      expect(r.relativeL2Error).toBeLessThan(1e-2);
      expect(r.relativeL2Error).toBeGreaterThan(1e-6); // really computed in half precision
    }
  });

  it("the roofline probe's chain of products matches, in fp32 and within the fp16 tolerance", async () => {
    const c = tinyCase({ layer: PRESETS.tiny.matmul! });
    expect(c.id).toBe('tiny/matmul/prefill/t16/fp32/d32x2');
    expect((await errorOf(c)).relativeL2Error).toBeLessThan(1e-5);
    const half = await errorOf(tinyCase({ layer: PRESETS.tiny.matmul!, dtype: 'fp16' }));
    expect(half.relativeL2Error).toBeLessThan(1e-2);
    expect(half.relativeL2Error).toBeGreaterThan(1e-6);
  });

  describe('grouped-query attention', () => {
    const attention = (o: Partial<Omit<WorkloadCase, 'routing'>>) => tinyCase({ layer: PRESETS.tiny.attention!, ...o });
    it.each([
      ['decode over a cache of 1', { phase: 'decode', batch: 4, seqLen: 1, numTokens: 4, context: 1 }],
      ['decode over a cache of 16', { phase: 'decode', batch: 4, seqLen: 1, numTokens: 4, context: 16 }],
      ['causal prefill of one sequence', { phase: 'prefill', batch: 1, seqLen: 12, numTokens: 12 }],
      ['causal prefill of two sequences', { phase: 'prefill', batch: 2, seqLen: 8, numTokens: 16 }],
    ] as [string, Partial<Omit<WorkloadCase, 'routing'>>][])('%s matches', async (_name, o) => {
      const r = await errorOf(attention(o));
      expect(r.relativeL2Error).toBeLessThan(1e-5);
      expect(r.rowsChecked).toBe(o.numTokens);
    });

    it.each([
      ['decode over a cache of 1', { phase: 'decode', batch: 4, seqLen: 1, numTokens: 4, context: 1 }],
      ['decode over a cache of 16', { phase: 'decode', batch: 4, seqLen: 1, numTokens: 4, context: 16 }],
      ['causal prefill of two sequences', { phase: 'prefill', batch: 2, seqLen: 8, numTokens: 16 }],
      ['decode in fp16', { phase: 'decode', batch: 4, seqLen: 1, numTokens: 4, context: 16, dtype: 'fp16' }],
    ] as [string, Partial<Omit<WorkloadCase, 'routing'>>][])("fused (ORT's GroupQueryAttention, rotary inside): %s matches", async (_name, o) => {
      const c = attention({ ...o, attnImpl: 'fused' });
      expect(c.id).toMatch(/\/fused$/);
      const r = await errorOf(c);
      expect(r.relativeL2Error).toBeLessThan(r.tolerance);
      expect(r.rowsChecked).toBe(o.numTokens);
    });

    it('fused: a batch whose sequences hold caches of 16, 13, 11 and 8 tokens (seqlens_k per sequence) matches', async () => {
      const c = attention({ phase: 'decode', batch: 4, seqLen: 1, numTokens: 4, context: 16, attnImpl: 'fused', contextSpread: 0.5 });
      expect(contextsOf(c)).toEqual([16, 13, 11, 8]);
      expect(c.id).toBe('tiny/attention/decode/t4/fp32/ctx16s0.5/fused');
      expect((await errorOf(c)).relativeL2Error).toBeLessThan(1e-5);
      // the spread is real: the same queries over full caches give other outputs
      const inputs = makeInputs(c);
      const full = await cpu.load({ ...c, contextSpread: undefined, id: 'full' }, inputs, { modelDir, deviceId: 0 });
      expect((await checkCorrectness(c, inputs, full)).passed).toBe(false);
      await full.dispose();
    });

    it('fused with a head size ORT refuses is skipped with the reason, not failed', () => {
      const c = tinyCase({
        layer: { ...PRESETS.tiny.attention!, headDim: 8 } as typeof PRESETS.tiny.attention,
        attnImpl: 'fused',
        phase: 'decode',
        batch: 2,
        seqLen: 1,
        numTokens: 2,
        context: 4,
      });
      expect(cpu.unsupported(c)).toBe("ONNX Runtime's GroupQueryAttention needs a head size that is a multiple of 16; this case's is 8");
      expect(cpu.unsupported({ ...c, attnImpl: undefined })).toBeUndefined();
    });

    it('fp16 stays within the fp16 tolerance', async () => {
      const r = await errorOf(attention({ phase: 'decode', batch: 4, seqLen: 1, numTokens: 4, context: 16, dtype: 'fp16' }));
      expect(r.relativeL2Error).toBeLessThan(1e-2);
      expect(r.relativeL2Error).toBeGreaterThan(1e-6);
    });
  });

  describe('MLA (tiny-mla: every dimension distinct)', () => {
    const mla = (o: Partial<Omit<WorkloadCase, 'routing'>>) => tinyCase({ preset: 'tiny-mla', layer: PRESETS['tiny-mla'].attention!, ...o });
    it.each([
      ['absorbed decode over a cache of 1', { phase: 'decode', batch: 3, seqLen: 1, numTokens: 3, context: 1 }],
      ['absorbed decode over a cache of 16', { phase: 'decode', batch: 3, seqLen: 1, numTokens: 3, context: 16 }],
      ['decompressed causal prefill of two sequences', { phase: 'prefill', batch: 2, seqLen: 8, numTokens: 16 }],
    ] as [string, Partial<Omit<WorkloadCase, 'routing'>>][])('%s matches', async (_name, o) => {
      const r = await errorOf(mla(o));
      expect(r.relativeL2Error).toBeLessThan(1e-5);
      expect(r.rowsChecked).toBe(o.numTokens);
    });

    it.each([
      [
        'absorbed decode through GroupQueryAttention with one 16-wide KV head, over a cache of 16',
        { phase: 'decode', batch: 3, seqLen: 1, numTokens: 3, context: 16 },
      ],
      ['absorbed decode over a cache of 1', { phase: 'decode', batch: 3, seqLen: 1, numTokens: 3, context: 1 }],
      ['decompressed prefill through MultiHeadAttention (key 12, value 6 wide)', { phase: 'prefill', batch: 2, seqLen: 8, numTokens: 16 }],
    ] as [string, Partial<Omit<WorkloadCase, 'routing'>>][])('fused: %s matches', async (_name, o) => {
      const r = await errorOf(mla({ ...o, attnImpl: 'fused' }));
      expect(r.relativeL2Error).toBeLessThan(1e-5);
      expect(r.rowsChecked).toBe(o.numTokens);
    });

    it('fused: absorbed decode of sequences with caches of 16, 13, 11 and 8 tokens matches', async () => {
      const c = mla({ phase: 'decode', batch: 4, seqLen: 1, numTokens: 4, context: 16, attnImpl: 'fused', contextSpread: 0.5 });
      expect((await errorOf(c)).relativeL2Error).toBeLessThan(1e-5);
    });

    it('fp16 stays within the fp16 tolerance', async () => {
      const r = await errorOf(mla({ phase: 'decode', batch: 3, seqLen: 1, numTokens: 3, context: 16, dtype: 'fp16' }));
      expect(r.relativeL2Error).toBeLessThan(1e-2);
      expect(r.relativeL2Error).toBeGreaterThan(1e-6);
    });
  });

  it("real-shape prefill checks rows among the first ones, as many as the reference's budget projects", () => {
    const prefill = (preset: string) => tinyCase({ preset, layer: PRESETS[preset].attention!, batch: 1, seqLen: 4096, numTokens: 4096 });
    // llama: k and v projections, 4096 × 2 × 8 × 128 multiply-adds a position: 2e9 of them project 238 positions
    expect(prefillPrefixRows(prefill('llama-3.1-8b'))).toBe(238);
    // deepseek-v3: 7168 × 576 into the latent, 512 × 128 × 256 out of it: 20,905,984 a position, 95 positions
    expect(prefillPrefixRows(prefill('deepseek-v3'))).toBe(95);
    expect(prefillPrefixRows(tinyCase())).toBeUndefined();
  });

  it('a model with wrong weights is caught by the reference', async () => {
    const c = tinyCase();
    const other = tinyCase({ seed: 8 });
    const inputs = makeInputs(c);
    const loaded = await cpu.load(other, inputs, { modelDir, deviceId: 0 });
    const r = await checkCorrectness(c, inputs, loaded);
    await loaded.dispose();
    expect(r.passed).toBe(false);
    expect(r.relativeL2Error).toBeGreaterThan(0.1);
  });
});

describe('model files', () => {
  it('are cached by a content hash of the spec', () => {
    const dir = mkdtempSync(join(tmpdir(), 'moebench-cache-'));
    const first = ensureModel(tinyCase({ moeImpl: 'routed' }), dir);
    const again = ensureModel(tinyCase({ moeImpl: 'routed', numTokens: 64 }), dir);
    const other = ensureModel(tinyCase({ moeImpl: 'fused' }), dir);
    expect(first.cached).toBe(false);
    expect(again).toEqual({ ...first, cached: true });
    expect(other.path).not.toBe(first.path);
  });

  it('hold seeded weights that are never zero', () => {
    const dir = mkdtempSync(join(tmpdir(), 'moebench-cache-'));
    const m = ensureModel(tinyCase(), dir);
    const bytes = readFileSync(m.path);
    // 3 × 32 × 48 fp32 weights; a run of 16 zero bytes would mean zeroed tensors
    expect(m.weightBytes).toBe(3 * 32 * 48 * 4);
    expect(bytes.includes(Buffer.alloc(16))).toBe(false);
  });

  it('put weights in ONNX external data past the size threshold, and ORT runs them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moebench-ext-'));
    const c = tinyCase({ moeImpl: 'routed' });
    const m = ensureModel(c, dir, 1024);
    expect(m.externalData).toBe(true);
    expect(existsSync(`${m.path}.data`)).toBe(true);
    expect(readFileSync(m.path).length).toBeLessThan(m.weightBytes);
    const g = buildLayerGraph(c);
    expect(g.initializers.reduce((a, i) => a + i.byteLength, 0)).toBe(m.weightBytes);
    const inputs = makeInputs(c);
    const loaded = await cpu.load(c, inputs, { modelDir: dir, deviceId: 0 });
    // load() finds the external-data file written above (same name, same dir)
    const r = await checkCorrectness(c, inputs, loaded);
    await loaded.dispose();
    expect(r.passed).toBe(true);
  });
});
