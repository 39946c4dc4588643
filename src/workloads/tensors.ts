import type { AttentionShape, DenseShape, MlaShape, MoeShape } from './presets.js';
import { makeRng, uniformValues } from './rng.js';
import { receivedTokenIds, routingOf } from './accounting.js';
import { roundToHalf } from './float16.js';
import { fp8Scale, quantiseE4m3, roundToBf16 } from './lowPrecision.js';
import type { Assignment } from './routing.js';
import { contextsOf, type WorkloadCase } from './spec.js';

/**
 * The named weights and inputs of a case. Every engine builds its layer from these
 * names and regenerates the same values from (seed, name), so outputs compare
 * across engines and the float64 reference needs no copy of the model.
 */
export interface TensorDecl {
  name: string;
  dims: number[];
  /** Values are uniform in [-scale, scale). */
  scale: number;
}

/**
 * Added to the router logits of the experts a token is assigned to. Real logits
 * here are O(1), so top-k picks exactly the imposed experts, while the softmax
 * weights among them still come from the real router.
 */
export const ROUTING_BIAS = 20;

export function swigluDecls(prefix: string, d: number, ff: number): TensorDecl[] {
  return [
    { name: `${prefix}w_gate`, dims: [d, ff], scale: 1 / Math.sqrt(d) },
    { name: `${prefix}w_up`, dims: [d, ff], scale: 1 / Math.sqrt(d) },
    { name: `${prefix}w_down`, dims: [ff, d], scale: 1 / Math.sqrt(ff) },
  ];
}

export function expertPrefix(e: number): string {
  return `expert${e}.`;
}

export function sharedPrefix(s: number): string {
  return `shared${s}.`;
}

/** Experts whose weights this case's graph holds. */
export function expertsInGraph(c: WorkloadCase): number {
  const m = c.layer as MoeShape;
  return c.expertsPerCard ?? m.numExperts;
}

/** The roofline probe's i-th weight: uniform in ±√(3/d), variance 1/d, so each product keeps the activations' scale. */
export function matmulWeightName(i: number): string {
  return `w${i}`;
}

export function weightDecls(c: WorkloadCase): TensorDecl[] {
  if (c.layer.kind === 'matmul') {
    const { hiddenSize: d, depth } = c.layer;
    return Array.from({ length: depth }, (_, i) => ({ name: matmulWeightName(i), dims: [d, d], scale: Math.sqrt(3 / d) }));
  }
  if (c.layer.kind === 'dense') {
    const l: DenseShape = c.layer;
    return swigluDecls('', l.hiddenSize, l.intermediateSize);
  }
  if (c.layer.kind === 'attention') return attentionDecls(c, c.layer);
  const m = c.layer;
  const d = m.hiddenSize;
  const decls: TensorDecl[] = [];
  if (c.expertsPerCard === undefined) decls.push({ name: 'router', dims: [d, m.numExperts], scale: 1 / Math.sqrt(d) });
  for (let e = 0; e < expertsInGraph(c); e++) decls.push(...swigluDecls(expertPrefix(e), d, m.expertIntermediateSize));
  if (c.expertsPerCard === undefined) {
    for (let s = 0; s < m.numSharedExperts; s++) decls.push(...swigluDecls(sharedPrefix(s), d, m.sharedIntermediateSize));
  }
  return decls;
}

/**
 * Attention's projections, and in decode the KV cache of each sequence ([batch, kv heads, context,
 * head dim], keys as stored after their rotary embedding), seeded like weights: a cache is state
 * the model holds, not an input copied in every call.
 */
function attentionDecls(c: WorkloadCase, a: AttentionShape): TensorDecl[] {
  if (a.form === 'mla') return mlaDecls(c, a);
  const { hiddenSize: d, numHeads: H, numKvHeads: K, headDim: hd } = a;
  const decls: TensorDecl[] = [
    { name: 'wq', dims: [d, H * hd], scale: 1 / Math.sqrt(d) },
    { name: 'wk', dims: [d, K * hd], scale: 1 / Math.sqrt(d) },
    { name: 'wv', dims: [d, K * hd], scale: 1 / Math.sqrt(d) },
    { name: 'wo', dims: [H * hd, d], scale: 1 / Math.sqrt(H * hd) },
  ];
  if (c.phase === 'decode' && (c.context ?? 0) > 0) {
    for (const name of ['k_cache', 'v_cache']) decls.push({ name, dims: [c.batch, K, c.context!, hd], scale: 1 });
  }
  return decls;
}

/**
 * MLA's projections: x → the query's rank-`qLoraRank` latent (wq_a) → every head's query (wq_b:
 * nope then rope part per head); x → the KV latent and the shared rotary key (wkv_a); the KV latent
 * → every head's key (nope part) and value (wkv_b: key then value per head); the heads' values →
 * y (wo). In decode the cache holds, per sequence and position, the latent and the rotary key
 * ([batch, context, kvLoraRank + qkRopeHeadDim]): all MLA caches.
 */
function mlaDecls(c: WorkloadCase, a: MlaShape): TensorDecl[] {
  const { hiddenSize: d, numHeads: H, qLoraRank: rq, kvLoraRank: rkv, qkNopeHeadDim: n, qkRopeHeadDim: r, vHeadDim: v } = a;
  const decls: TensorDecl[] = [
    { name: 'wq_a', dims: [d, rq], scale: 1 / Math.sqrt(d) },
    { name: 'wq_b', dims: [rq, H * (n + r)], scale: 1 / Math.sqrt(rq) },
    { name: 'wkv_a', dims: [d, rkv + r], scale: 1 / Math.sqrt(d) },
    { name: 'wkv_b', dims: [rkv, H * (n + v)], scale: 1 / Math.sqrt(rkv) },
    { name: 'wo', dims: [H * v, d], scale: 1 / Math.sqrt(H * v) },
  ];
  if (c.phase === 'decode' && (c.context ?? 0) > 0) decls.push({ name: 'kv_cache', dims: [c.batch, c.context!, rkv + r], scale: 1 });
  return decls;
}

/**
 * MLA's up-projection wkv_b ([rkv, H·(n + v)], key then value columns per head) re-laid per head for
 * decode's absorbed form: keys as [H, n, rkv] (a head's query nope part → its latent query), values
 * as [H, rkv, v] (a head's latent output → its value). The same seeded numbers, rearranged.
 */
export function absorbedValues(c: WorkloadCase, a: MlaShape, part: 'keys' | 'values'): Float32Array {
  const { numHeads: H, kvLoraRank: rkv, qkNopeHeadDim: n, vHeadDim: v } = a;
  const w = tensorValues(c, { name: 'wkv_b', dims: [rkv, H * (n + v)], scale: 1 / Math.sqrt(rkv) });
  const width = part === 'keys' ? n : v;
  const out = new Float32Array(H * width * rkv);
  for (let h = 0; h < H; h++) {
    const col = h * (n + v) + (part === 'keys' ? 0 : n);
    for (let j = 0; j < rkv; j++)
      for (let i = 0; i < width; i++) {
        const value = w[j * H * (n + v) + col + i];
        if (part === 'keys') out[(h * n + i) * rkv + j] = value;
        else out[(h * rkv + j) * v + i] = value;
      }
  }
  return out;
}

/** The width each head's rotary embedding turns: GQA's whole head, MLA's rope part. */
export function ropeDim(a: AttentionShape): number {
  return a.form === 'mla' ? a.qkRopeHeadDim : a.headDim;
}

/** Rotary angle frequencies: θ^(−2i/hd) for i < hd/2, each used for element i and i + hd/2 (rotate-half form). */
export function ropeInvFreq(a: AttentionShape): number[] {
  const hd = ropeDim(a);
  return Array.from({ length: hd / 2 }, (_, i) => a.ropeTheta ** ((-2 * i) / hd));
}

/**
 * Constants an engine's attention graph holds beside its weights: the rotary cos and sin of each
 * query position, `dims` as they broadcast over [B, s, heads, hd] (prefill: [s, 1, hd], positions
 * 0..s−1; decode: [B, 1, 1, hd], each sequence's token at its own cache length, contextsOf), and
 * in prefill the causal mask of a KV head's group of query heads ([g·s, s]: row i·s + p is query
 * head i at position p, which sees keys 0..p; a large negative elsewhere, safe in fp16; MLA's
 * [s, s] serves every head).
 */
export function attentionTables(
  c: WorkloadCase,
  a: AttentionShape,
): { cos: Float32Array; sin: Float32Array; dims: number[]; mask?: Float32Array; s: number } {
  const hd = ropeDim(a);
  const decode = c.phase === 'decode';
  const s = decode ? 1 : c.seqLen;
  const positions = decode ? contextsOf(c) : Array.from({ length: s }, (_, p) => p);
  const invFreq = ropeInvFreq(a);
  const table = (f: (x: number) => number) =>
    Float32Array.from({ length: positions.length * hd }, (_, i) => f(positions[Math.floor(i / hd)] * invFreq[(i % hd) % (hd / 2)]));
  // MLA's heads all see one key per position: its mask broadcasts over them
  const group = a.form === 'mla' ? 1 : a.numHeads / a.numKvHeads;
  const mask = decode ? undefined : Float32Array.from({ length: group * s * s }, (_, i) => (i % s > Math.floor(i / s) % s ? -30000 : 0));
  return { cos: table(Math.cos), sin: table(Math.sin), dims: decode ? [c.batch, 1, 1, hd] : [s, 1, hd], mask, s };
}

/** Deterministic values of one declared tensor, rounded to the case's dtype. */
export function tensorValues(c: WorkloadCase, decl: TensorDecl): Float32Array {
  return tensorRange(
    c,
    decl,
    0,
    decl.dims.reduce((a, x) => a * x, 1),
  );
}

/** `count` of a declared tensor's values from flat index `start`: one sequence's block of a cache too large to make whole. */
export function tensorRange(c: WorkloadCase, decl: TensorDecl, start: number, count: number): Float32Array {
  return roundTo(c, decl, uniformValues(c.seed, decl.name, count, decl.scale, start));
}

/**
 * The tensors an fp8 case holds as e4m3: the layer's input and the weights of its products (SwiGLU's
 * three, the roofline probe's chain). The router, its bias and the gate weights stay bf16, as
 * FP8-served models keep their gating in higher precision.
 */
export function isFp8Operand(name: string): boolean {
  return /^x$|(^|\.)w_(gate|up|down)$|^w\d+$/.test(name);
}

/** The per-tensor scale of an fp8 case's e4m3 tensor (its values lie in ±decl.scale); undefined for every other tensor. */
export function fp8ScaleOf(c: WorkloadCase, decl: Pick<TensorDecl, 'name' | 'scale'>): number | undefined {
  return c.dtype === 'fp8' && isFp8Operand(decl.name) ? fp8Scale(decl.scale) : undefined;
}

/** Values as the case's dtype holds them: half, bfloat16, or e4m3 with the tensor's scale. */
function roundTo(c: WorkloadCase, decl: Pick<TensorDecl, 'name' | 'scale'>, values: Float32Array): Float32Array {
  if (c.dtype === 'fp16') return roundToHalf(values);
  if (c.dtype === 'bf16') return roundToBf16(values);
  if (c.dtype === 'fp8') {
    const scale = fp8ScaleOf(c, decl);
    return scale === undefined ? roundToBf16(values) : quantiseE4m3(values, scale);
  }
  return values;
}

/** A lazily filled cache of a case's weights, for the reference and the builders. */
export class WeightStore {
  private readonly byName = new Map<string, TensorDecl>();
  private readonly values = new Map<string, Float32Array>();
  constructor(private readonly c: WorkloadCase) {
    for (const decl of weightDecls(c)) this.byName.set(decl.name, decl);
  }
  decl(name: string): TensorDecl {
    const decl = this.byName.get(name);
    if (!decl) throw new Error(`no weight named ${name} in case ${this.c.id}`);
    return decl;
  }
  get(name: string): Float32Array {
    let v = this.values.get(name);
    if (!v) {
      v = tensorValues(this.c, this.decl(name));
      this.values.set(name, v);
    }
    return v;
  }
}

export interface InputTensor {
  dims: number[];
  data: Float32Array;
}

/** A case's graph inputs plus what the reference needs to recompute them. */
export interface CaseInputs {
  feeds: Record<string, InputTensor>;
  /** Row t of the output belongs to global token tokenIds[t]. */
  tokenIds: number[];
  assignment?: Assignment;
}

/**
 * Inputs: `x` [tokens, d]; for the full MoE layer also `router_bias` [tokens, E];
 * for an expert-parallel slice, the received tokens' `x` and their `route_weights`
 * [received, expertsPerCard] (the router ran on the tokens' home cards).
 */
export function makeInputs(c: WorkloadCase): CaseInputs {
  const d = c.layer.hiddenSize;
  const T = c.numTokens;
  const x = tensorValues(c, { name: 'x', dims: [T, d], scale: 1 });
  const all = Array.from({ length: T }, (_, t) => t);
  if (c.layer.kind !== 'moe') return { feeds: { x: { dims: [T, d], data: x } }, tokenIds: all };

  const m = c.layer;
  const assignment = routingOf(c);
  if (c.expertsPerCard === undefined) {
    const bias = new Float32Array(T * m.numExperts);
    for (let t = 0; t < T; t++) {
      for (let j = 0; j < m.topK; j++) bias[t * m.numExperts + assignment.experts[t * m.topK + j]] = ROUTING_BIAS;
    }
    return {
      feeds: { x: { dims: [T, d], data: x }, router_bias: { dims: [T, m.numExperts], data: bias } },
      tokenIds: all,
      assignment,
    };
  }

  const local = c.expertsPerCard;
  const ids = receivedTokenIds(assignment, local);
  const xr = new Float32Array(ids.length * d);
  const weights = new Float32Array(ids.length * local);
  const gates = gateWeights(c, assignment);
  ids.forEach((t, r) => {
    xr.set(x.subarray(t * d, (t + 1) * d), r * d);
    for (let j = 0; j < m.topK; j++) {
      const e = assignment.experts[t * m.topK + j];
      if (e < local) weights[r * local + e] = gates[t * m.topK + j];
    }
  });
  return {
    feeds: {
      // x's rows are already the case's values; rounding them again changes nothing
      x: { dims: [ids.length, d], data: xr },
      route_weights: { dims: [ids.length, local], data: roundTo(c, { name: 'route_weights', scale: 1 }, weights) },
    },
    tokenIds: ids,
    assignment,
  };
}

/**
 * The gate weights a slice's tokens arrive with: positive, summing to 1 over a
 * token's k experts. Seeded, standing in for the home card's router output.
 */
function gateWeights(c: WorkloadCase, assignment: Assignment): Float32Array {
  const rng = makeRng(c.seed, 'gates');
  const k = assignment.topK;
  const out = new Float32Array(assignment.numTokens * k);
  for (let t = 0; t < assignment.numTokens; t++) {
    let total = 0;
    for (let j = 0; j < k; j++) total += out[t * k + j] = 0.5 + rng();
    for (let j = 0; j < k; j++) out[t * k + j] /= total;
  }
  return out;
}
