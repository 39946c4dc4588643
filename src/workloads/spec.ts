import type { AttentionShape, DenseShape, MatmulShape, MoeShape } from './presets.js';
import { routingLabel, type RoutingSpec } from './routing.js';

/**
 * The math mode of a case. fp32 is strict float32 (on CUDA engines TF32 is switched off for it);
 * tf32 keeps float32 storage but lets NVIDIA tensor cores round matmul operands to TF32, on
 * purpose; fp16 and bf16 store inputs, weights and intermediates as half or bfloat16; fp8 stores
 * weights and the layer's input as e4m3 with per-tensor scales (the peer torch engines' scaled
 * matmul; moebench's ONNX and TF.js layers have none).
 */
export type Dtype = 'fp32' | 'tf32' | 'fp16' | 'bf16' | 'fp8';
export type Phase = 'prefill' | 'decode';
export type MoeImpl = 'routed' | 'fused' | 'dense-all';
/** Attention: standard ONNX ops, or ONNX Runtime's fused contrib op (GroupQueryAttention, MultiHeadAttention). */
export type AttnImpl = 'standard' | 'fused';
export type LayerKind = 'dense' | 'moe' | 'matmul' | 'attention';
export const LAYER_KINDS: readonly LayerKind[] = ['dense', 'moe', 'matmul', 'attention'];

export const DTYPES: readonly Dtype[] = ['fp32', 'tf32', 'fp16', 'bf16', 'fp8'];
export const PHASES: readonly Phase[] = ['prefill', 'decode'];
export const MOE_IMPLS: readonly MoeImpl[] = ['routed', 'fused', 'dense-all'];
export const ATTN_IMPLS: readonly AttnImpl[] = ['standard', 'fused'];

export function bytesPerElement(dtype: Dtype): number {
  return dtype === 'fp8' ? 1 : dtype === 'fp16' || dtype === 'bf16' ? 2 : 4;
}

/** One benchmark case: a layer, its inputs and how it is computed. Backend-independent. */
export interface WorkloadCase {
  /** Stable id: the same workload gets the same id in every run, so runs can be matched. */
  id: string;
  preset: string;
  layer: DenseShape | MoeShape | MatmulShape | AttentionShape;
  phase: Phase;
  batch: number;
  /** Sequence length; 1 in decode. */
  seqLen: number;
  /** Tokens in the global batch: batch × seqLen in prefill, batch in decode. */
  numTokens: number;
  dtype: Dtype;
  seed: number;
  /** MoE only. */
  moeImpl?: MoeImpl;
  routing?: RoutingSpec;
  /**
   * MoE only: benchmark one card's share of the experts under expert parallelism.
   * The card holds experts 0..expertsPerCard-1 (the busiest card under zipf and hot routing).
   */
  expertsPerCard?: number;
  /**
   * Attention decode only: tokens already in each sequence's KV cache; each of the `batch` queries
   * attends over them and itself. Prefill attends causally within its own sequences.
   */
  context?: number;
  /** Attention only; absent means standard. */
  attnImpl?: AttnImpl;
  /**
   * Attention decode, fused only: the batch's sequences hold caches of different lengths, from
   * `context` (the first) down to context × (1 − spread) (the last), evenly (contextsOf).
   */
  contextSpread?: number;
}

/** Each decode sequence's cache length: all `context`, or spread evenly down from it. */
export function contextsOf(c: Pick<WorkloadCase, 'batch' | 'context' | 'contextSpread'>): number[] {
  const L = c.context ?? 0;
  const spread = c.contextSpread ?? 0;
  return Array.from({ length: c.batch }, (_, b) => L - Math.round((spread * L * b) / Math.max(1, c.batch - 1)));
}

/**
 * A case id split at its math mode (caseId's fifth part): the same workload in another dtype has
 * the same `workload`, which is how compare tells a dtype mismatch from cases that differ in shape.
 */
export function splitCaseIdDtype(id: string): { workload: string; dtype: string } {
  const parts = id.split('/');
  return { workload: parts.filter((_, i) => i !== 4).join('/'), dtype: parts[4] ?? '' };
}

export function caseId(c: Omit<WorkloadCase, 'id'>): string {
  const parts = [c.preset, c.layer.kind, c.phase, `t${c.numTokens}`, c.dtype];
  if (c.layer.kind === 'matmul') parts.push(`d${c.layer.hiddenSize}x${c.layer.depth}`);
  if (c.layer.kind === 'attention') {
    parts.push(c.phase === 'decode' ? `ctx${c.context}${c.contextSpread ? `s${c.contextSpread}` : ''}` : `b${c.batch}`);
    if (c.attnImpl === 'fused') parts.push('fused');
  }
  if (c.layer.kind === 'moe') {
    parts.push(`e${c.layer.numExperts}k${c.layer.topK}`, c.moeImpl ?? 'routed', routingLabel(c.routing ?? { kind: 'uniform' }));
    if (c.expertsPerCard !== undefined) parts.push(`ep${c.expertsPerCard}`);
  }
  return parts.join('/');
}
