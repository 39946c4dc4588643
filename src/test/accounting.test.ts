import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { accountFor } from '../workloads/accounting.js';
import { PRESETS } from '../workloads/presets.js';
import { parseRouting } from '../workloads/routing.js';
import { caseId, type WorkloadCase } from '../workloads/spec.js';

function make(o: Omit<WorkloadCase, 'id' | 'seed' | 'batch' | 'seqLen'>): WorkloadCase {
  const c = { seed: 1, batch: o.numTokens, seqLen: 1, ...o };
  return { ...c, id: caseId(c) };
}

describe('FLOP and byte accounting, against hand-computed values', () => {
  it('deepseek-v3 MoE layer, one decode token, fp16', () => {
    const w = accountFor(
      make({
        preset: 'deepseek-v3',
        layer: PRESETS['deepseek-v3'].moe!,
        phase: 'decode',
        numTokens: 1,
        dtype: 'fp16',
        moeImpl: 'routed',
        routing: { kind: 'uniform' },
      }),
    );
    expect(w.tokensPerCall).toBe(1);
    expect(w.flops.router).toBe(2 * 7168 * 256); // 3,670,016
    expect(w.flops.routedExperts).toBe(704_643_072); // 8 experts × 6 × 7168 × 2048
    expect(w.flops.sharedExperts).toBe(88_080_384); // 1 shared × 6 × 7168 × 2048
    expect(w.flopsPerCall).toBe(796_393_472);
    // router 7168×256 + 8 hit experts × 3×7168×2048 + shared 3×7168×2048 = 398,196,736 params × 2 bytes
    expect(w.bytes.weights).toBe(796_393_472);
    expect(w.bytes.activations).toBe((2 * 7168 + 256) * 2); // x, y and the routing bias
    expect(w.bytesPerCall).toBe(796_422_656);
  });

  it('mixtral-8x7b MoE layer, 512 prefill tokens, fp32', () => {
    const w = accountFor(
      make({
        preset: 'mixtral-8x7b',
        layer: PRESETS['mixtral-8x7b'].moe!,
        phase: 'prefill',
        numTokens: 512,
        dtype: 'fp32',
        moeImpl: 'routed',
        routing: { kind: 'uniform' },
      }),
    );
    expect(w.flops.router).toBe(33_554_432); // 2 × 512 × 4096 × 8
    expect(w.flops.routedExperts).toBe(360_777_252_864); // 512 × 2 × 6 × 4096 × 14336
    expect(w.flops.sharedExperts).toBe(0);
    expect(w.flopsPerCall).toBe(360_810_807_296);
    expect(w.bytes.weights).toBe(5_637_275_648); // (4096×8 + 8 × 3×4096×14336) × 4: all 8 experts hit
    expect(w.bytes.activations).toBe(16_793_600); // (2×512×4096 + 512×8) × 4
    expect(w.expertTokens!.reduce((a, x) => a + x, 0)).toBe(1024);
  });

  it('mixtral-8x7b dense-all runs every expert on every token', () => {
    const w = accountFor(
      make({
        preset: 'mixtral-8x7b',
        layer: PRESETS['mixtral-8x7b'].moe!,
        phase: 'decode',
        numTokens: 1,
        dtype: 'fp32',
        moeImpl: 'dense-all',
        routing: { kind: 'uniform' },
      }),
    );
    expect(w.flops.routedExperts).toBe(8 * 6 * 4096 * 14336); // 2,818,572,288
    expect(w.bytes.weights).toBe((4096 * 8 + 8 * 3 * 4096 * 14336) * 4);
  });

  it('deepseek-v3 expert-parallel slice counts only the tokens routed to the local experts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'moebench-acc-'));
    const path = join(dir, 'r.json');
    // token 0 → experts 0..7 (all local), token 1 → 8..15 (none local), token 2 → 3 local (0, 1, 2)
    writeFileSync(
      path,
      JSON.stringify({
        assignments: [
          [0, 1, 2, 3, 4, 5, 6, 7],
          [8, 9, 10, 11, 12, 13, 14, 15],
          [0, 1, 2, 100, 101, 102, 103, 104],
        ],
      }),
    );
    const w = accountFor(
      make({
        preset: 'deepseek-v3',
        layer: PRESETS['deepseek-v3'].moe!,
        phase: 'decode',
        numTokens: 3,
        dtype: 'fp16',
        moeImpl: 'routed',
        routing: parseRouting(`file:${path}`),
        expertsPerCard: 8,
      }),
    );
    expect(w.tokensPerCall).toBe((3 * 8) / 256);
    expect(w.receivedTokens).toBe(2);
    expect(w.expertTokens).toEqual([2, 2, 2, 1, 1, 1, 1, 1]);
    expect(w.flops.router).toBe(0);
    expect(w.flops.routedExperts).toBe(11 * 6 * 7168 * 2048);
    expect(w.bytes.weights).toBe(8 * 3 * 7168 * 2048 * 2);
    expect(w.bytes.activations).toBe((2 * 2 * 7168 + 2 * 8) * 2);
  });

  it('llama-3.1-8b dense FFN, one token, fp16', () => {
    const w = accountFor(make({ preset: 'llama-3.1-8b', layer: PRESETS['llama-3.1-8b'].dense!, phase: 'decode', numTokens: 1, dtype: 'fp16' }));
    expect(w.flopsPerCall).toBe(352_321_536); // 6 × 4096 × 14336
    expect(w.bytesPerCall).toBe(352_321_536 + 16_384); // 3×4096×14336 weights × 2 bytes + x and y
  });

  it('the roofline probe: 8 products of 4096², 1,024 tokens, fp32; and one token, fp16', () => {
    const layer = PRESETS.roofline.matmul!;
    const big = accountFor(make({ preset: 'roofline', layer, phase: 'prefill', numTokens: 1024, dtype: 'fp32' }));
    expect(big.flopsPerCall).toBe(274_877_906_944); // 8 × 2 × 1024 × 4096 × 4096
    expect(big.bytes.weights).toBe(536_870_912); // 8 × 4096² × 4 bytes: 512 MiB
    expect(big.bytes.activations).toBe(268_435_456); // 8 products × (in + out) × 1024 × 4096 × 4 bytes
    const one = accountFor(make({ preset: 'roofline', layer, phase: 'prefill', numTokens: 1, dtype: 'fp16' }));
    expect(one.flopsPerCall).toBe(268_435_456); // 8 × 2 × 4096²
    expect(one.bytesPerCall).toBe(268_435_456 + 131_072); // 8 × 4096² × 2 bytes + 8 × 2 × 4096 × 2
  });

  it('GQA attention of llama-3.1-8b, mixtral-8x7b and qwen3-30b-a3b: 32 decode queries over 4,096 tokens of cache, fp16', () => {
    // projections: q and o d×(32·128) each, k and v d×(K·128); QKᵀ and PV: 2 × 32 heads × 128 multiply-adds per key,
    // over 4,097 keys (the cache and the token itself); the cache: 32 sequences × 4,096 × K heads × 128 × (k, v) × 2 bytes
    const cases: [string, number, number, number][] = [
      // preset, d, kv heads, expected projection parameters
      ['llama-3.1-8b', 4096, 8, 4096 * 4096 * 2 + 4096 * 1024 * 2],
      ['mixtral-8x7b', 4096, 8, 4096 * 4096 * 2 + 4096 * 1024 * 2],
      ['qwen3-30b-a3b', 2048, 4, 2048 * 4096 * 2 + 2048 * 512 * 2],
    ];
    for (const [preset, d, K, params] of cases) {
      const w = accountFor(make({ preset, layer: PRESETS[preset].attention!, phase: 'decode', numTokens: 32, dtype: 'fp16', context: 4096 }));
      expect(w.flopsPerCall, preset).toBe(2 * 32 * params + 32 * 2 * 2 * 32 * 128 * 4097);
      expect(w.bytes.kvCache, preset).toBe(32 * 4096 * K * 128 * 2 * 2);
      expect(w.bytesPerCall, preset).toBe(params * 2 + 32 * 4096 * K * 128 * 2 * 2 + 2 * 32 * d * 2);
    }
    // llama: 25.2 M projection parameters × 2 bytes, 537 MB of cache
    expect(
      accountFor(
        make({ preset: 'llama-3.1-8b', layer: PRESETS['llama-3.1-8b'].attention!, phase: 'decode', numTokens: 32, dtype: 'fp16', context: 4096 }),
      ).bytes.kvCache,
    ).toBe(536_870_912);
  });

  it('GQA attention prefill counts the causal half: one sequence of 512 tokens, fp32', () => {
    const c = make({ preset: 'llama-3.1-8b', layer: PRESETS['llama-3.1-8b'].attention!, phase: 'prefill', numTokens: 512, dtype: 'fp32' });
    const w = accountFor({ ...c, batch: 1, seqLen: 512 });
    // 512·513/2 = 131,328 query-key pairs × 32 heads × 2 products × 128 multiply-adds × 2
    expect(w.flopsPerCall).toBe(2 * 512 * 41_943_040 + 131_328 * 32 * 2 * 128 * 2);
    expect(w.bytesPerCall).toBe(41_943_040 * 4 + 2 * 512 * 4096 * 4);
    expect(w.bytes.kvCache).toBe(0);
  });

  it('MLA of deepseek-v3: absorbed decode of 32 queries over 4,096 tokens of latent cache, and decompressed prefill, fp16', () => {
    const layer = PRESETS['deepseek-v3'].attention!;
    // wq_a 7168×1536, wq_b 1536×128·192, wkv_a 7168×576, wkv_b 512×128·256, wo 128·128×7168: 187,105,280 weights
    const params = 7168 * 1536 + 1536 * 128 * 192 + 7168 * 576 + 512 * 128 * 256 + 128 * 128 * 7168;
    expect(params).toBe(187_105_280);
    const decode = accountFor(make({ preset: 'deepseek-v3', layer, phase: 'decode', numTokens: 32, dtype: 'fp16', context: 4096 }));
    // per query and key, every head: the 576-wide latent and rotary key for the score, the 512-wide latent again as value
    expect(decode.flopsPerCall).toBe(2 * 32 * params + 2 * 128 * (576 + 512) * 32 * 4097);
    // the cache: 32 sequences × 4,096 tokens × 576 values × 2 bytes (DeepSeek's 1,152 bytes per token per layer)
    expect(decode.bytes.kvCache).toBe(32 * 4096 * 1152);
    expect(decode.bytesPerCall).toBe(params * 2 + 32 * 4096 * 1152 + 2 * 32 * 7168 * 2);
    const p = make({ preset: 'deepseek-v3', layer, phase: 'prefill', numTokens: 1024, dtype: 'fp16' });
    const prefill = accountFor({ ...p, batch: 1, seqLen: 1024 });
    // 1024·1025/2 pairs × 128 heads × (192 for the score + 128 for the value)
    expect(prefill.flopsPerCall).toBe(2 * 1024 * params + 2 * 128 * 320 * 524_800);
  });

  it('GQA decode with a spread of cache lengths counts each sequence’s own cache', () => {
    const c = make({
      preset: 'tiny',
      layer: PRESETS.tiny.attention!,
      phase: 'decode',
      numTokens: 4,
      dtype: 'fp32',
      context: 16,
      attnImpl: 'fused',
      contextSpread: 0.5,
    });
    const w = accountFor(c);
    // caches of 16, 13, 11 and 8 tokens: 48 cached keys read, 52 query-key pairs; 2 kv heads × 16 × (k, v) × 4 bytes a cached token
    expect(w.bytes.kvCache).toBe(48 * 2 * 16 * 2 * 4);
    // projections 32·64 + 32·32 + 32·32 + 64·32 = 6,144 weights per token; 4 heads × 2 products × 16 multiply-adds per pair
    expect(w.flopsPerCall).toBe(2 * 4 * 6144 + 2 * 52 * 4 * 2 * 16);
  });
});
