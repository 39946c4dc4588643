import { UsageError } from '../errors.js';

/** Layer shapes of real models, as published in their configuration files. */

export interface DenseShape {
  kind: 'dense';
  hiddenSize: number;
  intermediateSize: number;
}

export interface MoeShape {
  kind: 'moe';
  hiddenSize: number;
  /** Intermediate size of one routed expert's SwiGLU. */
  expertIntermediateSize: number;
  numExperts: number;
  topK: number;
  numSharedExperts: number;
  /** Intermediate size of one shared expert. */
  sharedIntermediateSize: number;
  /** Renormalise the top-k router probabilities so they sum to 1. */
  renormalize: boolean;
}

/**
 * A roofline probe, not a model's layer: y = x·W1·W2·…·W_depth, each W d×d. With many tokens it is
 * compute-bound (the engine's attainable FLOP/s); with one token each product streams its weight,
 * and the call reads all `depth` of them, more than any cache holds, so it is memory-bound (the
 * attainable bandwidth). The chain keeps the activations on the device between products, so an
 * engine that copies inputs and outputs every call (onnxruntime-node has no IO binding) pays that
 * copy once per `depth` products.
 */
export interface MatmulShape {
  kind: 'matmul';
  hiddenSize: number;
  depth: number;
}

/**
 * Grouped-query attention (GQA): `numHeads` query heads share `numKvHeads` key/value heads of
 * `headDim`, with rotary position embedding (GPT-NeoX's rotate-half form, base `ropeTheta`).
 */
export interface GqaShape {
  kind: 'attention';
  form: 'gqa';
  hiddenSize: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  ropeTheta: number;
  /** Decode context lengths the preset's suites measure by default. */
  defaultContext: number;
}

/**
 * DeepSeek's multi-head latent attention (MLA): queries through a rank-`qLoraRank` bottleneck;
 * keys and values from a `kvLoraRank` latent per token plus one shared `qkRopeHeadDim` rotary key,
 * which is all the KV cache holds. Each head's query and key are `qkNopeHeadDim` + `qkRopeHeadDim`
 * wide, its value `vHeadDim`. The low-rank RMSNorms and YaRN's frequency scaling are left out
 * (a few FLOPs per element; values, not work).
 */
export interface MlaShape {
  kind: 'attention';
  form: 'mla';
  hiddenSize: number;
  numHeads: number;
  qLoraRank: number;
  kvLoraRank: number;
  qkNopeHeadDim: number;
  qkRopeHeadDim: number;
  vHeadDim: number;
  ropeTheta: number;
  defaultContext: number;
}

export type AttentionShape = GqaShape | MlaShape;

export interface Preset {
  name: string;
  description: string;
  /** Where the shapes come from. */
  source: string;
  dense?: DenseShape;
  moe?: MoeShape;
  matmul?: MatmulShape;
  attention?: AttentionShape;
  /** Whole-model structure, used by the sizing model to compose layer times; absent for the roofline probe. */
  model?: ModelStructure;
}

export interface ModelStructure {
  numDenseLayers: number;
  numMoeLayers: number;
  totalParams: number;
  activeParams: number;
  /** Bytes per weight as deployed (DeepSeek-V3 ships FP8: 1). */
  deployedWeightBytes: number;
  /** Attention, for a roofline estimate until an attention benchmark exists. */
  attention: {
    /** Projection weights per layer (q, k, v, o and any low-rank factors). */
    paramsPerLayer: number;
    /** KV-cache bytes one token adds per layer. */
    kvBytesPerTokenPerLayer: number;
    /** Score and value FLOPs per token per position of context, per layer. */
    flopsPerTokenPerContextPerLayer: number;
  };
}

export const PRESETS: Readonly<Record<string, Preset>> = {
  'deepseek-v3': {
    name: 'deepseek-v3',
    description: 'DeepSeek-V3/R1: 671B parameters, 37B active, 256 routed experts top-8 plus 1 shared',
    source:
      'deepseek-ai/DeepSeek-V3 config.json (hidden_size 7168, moe_intermediate_size 2048, n_routed_experts 256, num_experts_per_tok 8, n_shared_experts 1, intermediate_size 18432, first_k_dense_replace 3, num_hidden_layers 61)',
    dense: { kind: 'dense', hiddenSize: 7168, intermediateSize: 18432 },
    moe: {
      kind: 'moe',
      hiddenSize: 7168,
      expertIntermediateSize: 2048,
      numExperts: 256,
      topK: 8,
      numSharedExperts: 1,
      sharedIntermediateSize: 2048,
      renormalize: true,
    },
    // config.json: num_attention_heads 128, q_lora_rank 1536, kv_lora_rank 512, qk_nope_head_dim 128, qk_rope_head_dim 64,
    // v_head_dim 128, rope_theta 10000
    attention: {
      kind: 'attention',
      form: 'mla',
      hiddenSize: 7168,
      numHeads: 128,
      qLoraRank: 1536,
      kvLoraRank: 512,
      qkNopeHeadDim: 128,
      qkRopeHeadDim: 64,
      vHeadDim: 128,
      ropeTheta: 10_000,
      defaultContext: 4096,
    },
    // MLA: q 7168→1536→128×192, kv 7168→576, 512→128×256, o 128×128→7168; cache 512+64 values (bf16);
    // absorbed decode attends over 128 heads × (576 + 512) dims
    model: {
      numDenseLayers: 3,
      numMoeLayers: 58,
      totalParams: 671e9,
      activeParams: 37e9,
      deployedWeightBytes: 1,
      attention: { paramsPerLayer: 187_105_280, kvBytesPerTokenPerLayer: 1152, flopsPerTokenPerContextPerLayer: 2 * 128 * 1088 },
    },
  },
  'mixtral-8x7b': {
    name: 'mixtral-8x7b',
    description: 'Mixtral 8x7B: 8 experts top-2, no shared expert',
    source:
      'mistralai/Mixtral-8x7B-v0.1 config.json (hidden_size 4096, intermediate_size 14336, num_local_experts 8, num_experts_per_tok 2, num_hidden_layers 32)',
    moe: {
      kind: 'moe',
      hiddenSize: 4096,
      expertIntermediateSize: 14336,
      numExperts: 8,
      topK: 2,
      numSharedExperts: 0,
      sharedIntermediateSize: 0,
      renormalize: true,
    },
    attention: { kind: 'attention', form: 'gqa', hiddenSize: 4096, numHeads: 32, numKvHeads: 8, headDim: 128, ropeTheta: 1e6, defaultContext: 4096 },
    // GQA: 32 query heads, 8 KV heads of 128; cache bf16
    model: {
      numDenseLayers: 0,
      numMoeLayers: 32,
      totalParams: 46.7e9,
      activeParams: 12.9e9,
      deployedWeightBytes: 2,
      attention: { paramsPerLayer: 41_943_040, kvBytesPerTokenPerLayer: 4096, flopsPerTokenPerContextPerLayer: 2 * 32 * 128 * 2 },
    },
  },
  'qwen3-30b-a3b': {
    name: 'qwen3-30b-a3b',
    description: 'Qwen3-30B-A3B: 128 experts top-8, no shared expert',
    source:
      'Qwen/Qwen3-30B-A3B config.json (hidden_size 2048, moe_intermediate_size 768, num_experts 128, num_experts_per_tok 8, norm_topk_prob true, num_hidden_layers 48)',
    moe: {
      kind: 'moe',
      hiddenSize: 2048,
      expertIntermediateSize: 768,
      numExperts: 128,
      topK: 8,
      numSharedExperts: 0,
      sharedIntermediateSize: 0,
      renormalize: true,
    },
    // Qwen3's per-head RMSNorm of q and k is left out (a few FLOPs per element)
    attention: { kind: 'attention', form: 'gqa', hiddenSize: 2048, numHeads: 32, numKvHeads: 4, headDim: 128, ropeTheta: 1e6, defaultContext: 4096 },
    // GQA: 32 query heads, 4 KV heads of 128; cache bf16
    model: {
      numDenseLayers: 0,
      numMoeLayers: 48,
      totalParams: 30.5e9,
      activeParams: 3.3e9,
      deployedWeightBytes: 2,
      attention: { paramsPerLayer: 18_874_368, kvBytesPerTokenPerLayer: 2048, flopsPerTokenPerContextPerLayer: 2 * 32 * 128 * 2 },
    },
  },
  'llama-3.1-8b': {
    name: 'llama-3.1-8b',
    description: 'Llama 3.1 8B: dense SwiGLU FFN',
    source: 'meta-llama/Llama-3.1-8B config.json (hidden_size 4096, intermediate_size 14336, num_hidden_layers 32)',
    dense: { kind: 'dense', hiddenSize: 4096, intermediateSize: 14336 },
    // rope_theta 500000; Llama 3.1's long-context frequency scaling is left out (it changes values, not work)
    attention: {
      kind: 'attention',
      form: 'gqa',
      hiddenSize: 4096,
      numHeads: 32,
      numKvHeads: 8,
      headDim: 128,
      ropeTheta: 500_000,
      defaultContext: 4096,
    },
    model: {
      numDenseLayers: 32,
      numMoeLayers: 0,
      totalParams: 8.0e9,
      activeParams: 8.0e9,
      deployedWeightBytes: 2,
      attention: { paramsPerLayer: 41_943_040, kvBytesPerTokenPerLayer: 4096, flopsPerTokenPerContextPerLayer: 2 * 32 * 128 * 2 },
    },
  },
  small: {
    name: 'small',
    description: 'CPU-sized MoE and dense layers for the default suite (not a real model)',
    source: 'moebench: chosen so the default suite finishes in a minute on a 2-core CPU',
    dense: { kind: 'dense', hiddenSize: 1024, intermediateSize: 2816 },
    attention: {
      kind: 'attention',
      form: 'gqa',
      hiddenSize: 1024,
      numHeads: 8,
      numKvHeads: 2,
      headDim: 128,
      ropeTheta: 10_000,
      defaultContext: 1024,
    },
    moe: {
      kind: 'moe',
      hiddenSize: 1024,
      expertIntermediateSize: 512,
      numExperts: 16,
      topK: 2,
      numSharedExperts: 1,
      sharedIntermediateSize: 512,
      renormalize: true,
    },
    model: {
      numDenseLayers: 1,
      numMoeLayers: 1,
      totalParams: 0,
      activeParams: 0,
      deployedWeightBytes: 4,
      attention: { paramsPerLayer: 4 * 1024 * 1024, kvBytesPerTokenPerLayer: 2048, flopsPerTokenPerContextPerLayer: 4096 },
    },
  },
  roofline: {
    name: 'roofline',
    description: "Roofline probe (not a model): a chain of 8 products with 4096×4096 weights, the engine's attainable FLOP/s and bandwidth",
    source:
      'moebench: 512 MiB of fp32 weights (256 MiB fp16) per call, more than any CPU or GPU cache holds, so one token streams them from memory; 1,024 tokens make each product compute-bound (8,192 FLOPs per byte of input and output copied)',
    matmul: { kind: 'matmul', hiddenSize: 4096, depth: 8 },
  },
  'tiny-mla': {
    name: 'tiny-mla',
    description: 'Tiny MLA attention for tests (not a model)',
    source:
      'moebench test shapes: every MLA dimension distinct, so a transposed or swapped one cannot pass; the latent and rotary key 16 wide, as GroupQueryAttention needs',
    attention: {
      kind: 'attention',
      form: 'mla',
      hiddenSize: 32,
      numHeads: 4,
      qLoraRank: 20,
      kvLoraRank: 12,
      qkNopeHeadDim: 8,
      qkRopeHeadDim: 4,
      vHeadDim: 6,
      ropeTheta: 10_000,
      defaultContext: 16,
    },
  },
  tiny: {
    name: 'tiny',
    description: 'Tiny layers for tests',
    source: 'moebench test shapes',
    dense: { kind: 'dense', hiddenSize: 32, intermediateSize: 48 },
    matmul: { kind: 'matmul', hiddenSize: 32, depth: 2 },
    attention: { kind: 'attention', form: 'gqa', hiddenSize: 32, numHeads: 4, numKvHeads: 2, headDim: 16, ropeTheta: 10_000, defaultContext: 16 },
    moe: {
      kind: 'moe',
      hiddenSize: 32,
      expertIntermediateSize: 16,
      numExperts: 8,
      topK: 2,
      numSharedExperts: 1,
      sharedIntermediateSize: 16,
      renormalize: true,
    },
    // 1 dense + 2 MoE layers of the tiny shapes; attention 32→32 projections, 4 heads of 8
    model: {
      numDenseLayers: 1,
      numMoeLayers: 2,
      totalParams: 100_000,
      activeParams: 20_000,
      deployedWeightBytes: 4,
      attention: { paramsPerLayer: 4096, kvBytesPerTokenPerLayer: 256, flopsPerTokenPerContextPerLayer: 128 },
    },
  },
};

export function presetNames(): string[] {
  return Object.keys(PRESETS);
}

export type ModelPreset = Preset & { model: ModelStructure };

/** The presets that are models (the sizing model composes them); not the roofline probe. */
export function modelNames(): string[] {
  return presetNames().filter((n) => PRESETS[n].model);
}

/** A preset that is a model, by name, or a UsageError naming those there are. */
export function modelPreset(name: string): ModelPreset {
  const p = PRESETS[name];
  if (!p?.model) throw new UsageError(`${p ? `${name} is not a model` : `unknown model "${name}"`}: use one of ${modelNames().join(', ')}`);
  return p as ModelPreset;
}
