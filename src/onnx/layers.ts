import type { AttentionShape, GqaShape, MlaShape, MoeShape } from '../workloads/presets.js';
import { bytesPerElement, contextsOf, type WorkloadCase } from '../workloads/spec.js';
import {
  absorbedValues,
  expertPrefix,
  expertsInGraph,
  attentionTables,
  matmulWeightName,
  ropeInvFreq,
  sharedPrefix,
  tensorRange,
  tensorValues,
  WeightStore,
  type TensorDecl,
} from '../workloads/tensors.js';
import { toHalfArray } from '../workloads/float16.js';
import { attr, ElemType, GraphBuilder } from './graph.js';

/** Bumped whenever a graph changes, so cached model files are rebuilt. */
export const BUILDER_VERSION = 3;

const TOKENS = 'tokens';

/** Why an ONNX engine (ort-*, ort-python) skips a bf16 or fp8 case. */
export const ONNX_DTYPE_REASON =
  "moebench builds its ONNX layers in fp32 and fp16 only (ONNX Runtime's CPU and WebGPU providers have no bf16 or FP8 MatMul); bf16 and fp8 are measured through the torch peers (torch-cpu, torch-cuda)";

export function elemTypeOf(c: WorkloadCase): number {
  return c.dtype === 'fp16' ? ElemType.float16 : ElemType.float32;
}

function toBytes(c: WorkloadCase, values: Float32Array): Uint8Array {
  const typed = c.dtype === 'fp16' ? toHalfArray(values) : values;
  return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
}

function weight(g: GraphBuilder, c: WorkloadCase, decl: TensorDecl): string {
  const count = decl.dims.reduce((a, x) => a * x, 1);
  return g.initializer({
    name: decl.name,
    dims: decl.dims,
    elemType: elemTypeOf(c),
    byteLength: count * bytesPerElement(c.dtype),
    chunks: () => [toBytes(c, tensorValues(c, decl))],
  });
}

/** down(silu(x·Wg) ⊙ (x·Wu)) */
function swiglu(g: GraphBuilder, c: WorkloadCase, store: WeightStore, prefix: string, x: string): string {
  const gate = g.op('MatMul', [x, weight(g, c, store.decl(`${prefix}w_gate`))]);
  const up = g.op('MatMul', [x, weight(g, c, store.decl(`${prefix}w_up`))]);
  const act = g.op('Mul', [g.op('Mul', [gate, g.op('Sigmoid', [gate])]), up]);
  return g.op('MatMul', [act, weight(g, c, store.decl(`${prefix}w_down`))]);
}

/**
 * The ONNX graph of a case. Inputs: `x` [tokens, d] and, for MoE, `router_bias`
 * [tokens, E] (full layer) or `route_weights` [tokens, E_local] (expert-parallel
 * slice). Output: `y` [tokens, d]. The token count is symbolic, so one model file
 * serves every token count and routing of a layer.
 */
export function buildLayerGraph(c: WorkloadCase): GraphBuilder {
  const g = new GraphBuilder(c.id);
  const et = elemTypeOf(c);
  const d = c.layer.hiddenSize;
  const store = new WeightStore(c);
  const x = g.input('x', et, [TOKENS, d]);
  let y: string;
  if (c.layer.kind === 'dense') {
    y = swiglu(g, c, store, '', x);
  } else if (c.layer.kind === 'attention') {
    y = attention(g, c, c.layer, store, x);
  } else if (c.layer.kind === 'matmul') {
    y = x;
    for (let k = 0; k < c.layer.depth; k++) y = g.op('MatMul', [y, weight(g, c, store.decl(matmulWeightName(k)))]);
  } else {
    y = moe(g, c, c.layer, store, x);
  }
  g.finish(y, 'y', et, [TOKENS, d]);
  return g;
}

function moe(g: GraphBuilder, c: WorkloadCase, m: MoeShape, store: WeightStore, x: string): string {
  const et = elemTypeOf(c);
  const impl = c.moeImpl ?? 'routed';
  const local = expertsInGraph(c);
  let routed: string;
  if (c.expertsPerCard !== undefined) {
    const gates = g.input('route_weights', et, [TOKENS, local]);
    routed = impl === 'dense-all' ? denseAllExperts(g, c, store, x, gates, local) : routedExperts(g, c, store, x, gates, local);
  } else {
    const logits = g.op('Add', [g.op('MatMul', [x, weight(g, c, store.decl('router'))]), g.input('router_bias', et, [TOKENS, m.numExperts])]);
    if (impl === 'fused') {
      routed = fusedExperts(g, c, m, store, x, logits);
    } else {
      const gates = routerGates(g, m, logits);
      routed = impl === 'dense-all' ? denseAllExperts(g, c, store, x, gates, local) : routedExperts(g, c, store, x, gates, local);
    }
  }
  for (let s = 0; s < m.numSharedExperts && c.expertsPerCard === undefined; s++) {
    routed = g.op('Add', [routed, swiglu(g, c, store, sharedPrefix(s), x)]);
  }
  return routed;
}

/** A constant of the case's element type from float32 values (a scalar when `dims` is empty). */
function constant(g: GraphBuilder, c: WorkloadCase, name: string, values: Float32Array, dims: number[]): string {
  return g.initializer({
    name,
    dims,
    elemType: elemTypeOf(c),
    byteLength: values.length * bytesPerElement(c.dtype),
    chunks: () => [toBytes(c, values)],
  });
}

/**
 * Grouped-query attention from standard ops. Tokens are `batch` sequences of `s` (prefill: the
 * sequence length, causal; decode: 1 query at position `context`, after its cache). Query heads are
 * grouped under their KV head ([B, K, g·s, hd]), so QKᵀ and PV are batched MatMuls over (B, K)
 * without copying keys or values per query head. The decode cache is held in the model, its keys
 * stored transposed ([B, K, hd, L]) so QKᵀ reads them as they are; the cache's scores and the own
 * token's are concatenated (a few numbers per head), never the cache itself.
 */
function attention(g: GraphBuilder, c: WorkloadCase, a: AttentionShape, store: WeightStore, x: string): string {
  if (c.contextSpread && c.attnImpl !== 'fused') throw new Error(`${c.id}: a spread of cache lengths needs the fused formulation`);
  if (a.form === 'mla') return mla(g, c, a, store, x);
  return c.attnImpl === 'fused' ? gqaFused(g, c, a, store, x) : gqa(g, c, a, store, x);
}

/** An int32 constant. */
function int32(g: GraphBuilder, name: string, values: number[], dims: number[]): string {
  const data = Int32Array.from(values);
  return g.initializer({ name, dims, elemType: ElemType.int32, byteLength: data.byteLength, chunks: () => [new Uint8Array(data.buffer)] });
}

/**
 * GQA through ONNX Runtime's com.microsoft.GroupQueryAttention: q, k, v as [B, s, heads·hd], the
 * rotary embedding inside the op (do_rotary, rotate-half, cos and sin per position up to the
 * cache's end), causal within the sequence, and in decode the cache as its past_key and past_value
 * ([B, K, L, hd], held in the model). seqlens_k is each sequence's last position (total − 1).
 * Without IO binding the op cannot update the cache in place: it writes present_key and
 * present_value, [B, K, L + s, hd], every call, a copy of the cache the standard formulation
 * does not make and the work accounting does not count.
 */
function gqaFused(g: GraphBuilder, c: WorkloadCase, a: GqaShape, store: WeightStore, x: string): string {
  const { numHeads: H, numKvHeads: K, headDim: hd } = a;
  const B = c.batch;
  const decode = c.phase === 'decode';
  const s = decode ? 1 : c.seqLen;
  const L = decode ? (c.context ?? 0) : 0;
  const total = L + s;
  const shape = (dims: number[]) => g.int64(dims);
  const project = (w: string, n: number) => g.op('Reshape', [g.op('MatMul', [x, weight(g, c, store.decl(w))]), shape([B, s, n * hd])]);
  const invFreq = ropeInvFreq(a);
  const table = (f: (x: number) => number) =>
    Float32Array.from({ length: total * (hd / 2) }, (_, i) => f(Math.floor(i / (hd / 2)) * invFreq[i % (hd / 2)]));
  const cache = (name: string) => {
    const decl = store.decl(name);
    return g.initializer({
      name,
      dims: [B, K, L, hd],
      elemType: elemTypeOf(c),
      byteLength: B * K * L * hd * bytesPerElement(c.dtype),
      chunks: function* () {
        for (let block = 0; block < B * K; block++) yield toBytes(c, tensorRange(c, decl, block * L * hd, L * hd));
      },
    });
  };
  const [out] = g.node(
    'GroupQueryAttention',
    [
      project('wq', H),
      project('wk', K),
      project('wv', K),
      L > 0 ? cache('k_cache') : '',
      L > 0 ? cache('v_cache') : '',
      // each sequence's last position: its own cache length in decode (contextsOf), the prompt's end in prefill
      int32(g, 'seqlens_k', decode ? contextsOf(c) : Array(B).fill(total - 1), [B]),
      int32(g, 'total_sequence_length', [total], []),
      constant(g, c, 'rope_cos_cache', table(Math.cos), [total, hd / 2]),
      constant(g, c, 'rope_sin_cache', table(Math.sin), [total, hd / 2]),
    ],
    { num_heads: attr.int(H), kv_num_heads: attr.int(K), do_rotary: attr.int(1), rotary_interleaved: attr.int(0) },
    { outputs: 3, domain: 'com.microsoft' },
  );
  return g.op('MatMul', [g.op('Reshape', [out, shape([B * s, H * hd])]), weight(g, c, store.decl('wo'))]);
}

function gqa(g: GraphBuilder, c: WorkloadCase, a: GqaShape, store: WeightStore, x: string): string {
  const { numHeads: H, numKvHeads: K, headDim: hd } = a;
  const group = H / K;
  const B = c.batch;
  const decode = c.phase === 'decode';
  const s = decode ? 1 : c.seqLen;
  const L = decode ? (c.context ?? 0) : 0;
  const shape = (dims: number[]) => g.int64(dims);
  const tables = attentionTables(c, a);
  const cos = constant(g, c, 'rope_cos', tables.cos, tables.dims);
  const sin = constant(g, c, 'rope_sin', tables.sin, tables.dims);
  const rope = (t: string) => rotary(g, t, hd, cos, sin);
  const scale = constant(g, c, 'score_scale', Float32Array.of(1 / Math.sqrt(hd)), []);
  const heads = (w: string, n: number) => g.op('Reshape', [g.op('MatMul', [x, weight(g, c, store.decl(w))]), shape([B, s, n, hd])]);
  // [B, s, H, hd] → [B, H, s, hd] → [B, K, g·s, hd]
  const q = g.op('Reshape', [
    g.op('Transpose', [g.op('Mul', [rope(heads('wq', H)), scale])], { perm: attr.ints([0, 2, 1, 3]) }),
    shape([B, K, group * s, hd]),
  ]);
  const kT = g.op('Transpose', [rope(heads('wk', K))], { perm: attr.ints([0, 2, 3, 1]) }); // [B, K, hd, s]
  const v = g.op('Transpose', [heads('wv', K)], { perm: attr.ints([0, 2, 1, 3]) }); // [B, K, s, hd]
  let out: string;
  if (!decode) {
    const mask = constant(g, c, 'causal_mask', tables.mask!, [group * s, s]);
    const probs = g.op('Softmax', [g.op('Add', [g.op('MatMul', [q, kT]), mask])], { axis: attr.int(-1) });
    out = g.op('MatMul', [probs, v]);
  } else {
    const self = g.op('MatMul', [q, kT]); // [B, K, g, 1]
    if (L === 0) {
      out = g.op('MatMul', [g.op('Softmax', [self], { axis: attr.int(-1) }), v]);
    } else {
      const cached = (name: string, transposeKeys: boolean) => {
        const decl = store.decl(name);
        const count = B * K * L * hd;
        return g.initializer({
          name,
          dims: transposeKeys ? [B, K, hd, L] : [B, K, L, hd],
          elemType: elemTypeOf(c),
          byteLength: count * bytesPerElement(c.dtype),
          chunks: function* () {
            // one (sequence, kv head) block at a time, made on its own: a whole cache can outgrow a typed array
            for (let block = 0; block < B * K; block++) {
              const values = tensorRange(c, decl, block * L * hd, L * hd);
              if (!transposeKeys) {
                yield toBytes(c, values);
                continue;
              }
              // [L, hd] → [hd, L]
              const out = new Float32Array(L * hd);
              for (let p = 0; p < L; p++) for (let i = 0; i < hd; i++) out[i * L + p] = values[p * hd + i];
              yield toBytes(c, out);
            }
          },
        });
      };
      const scores = g.op('Concat', [g.op('MatMul', [q, cached('k_cache', true)]), self], { axis: attr.int(-1) }); // [B, K, g, L + 1]
      const probs = g.op('Softmax', [scores], { axis: attr.int(-1) });
      const fromCache = g.op('MatMul', [g.op('Slice', [probs, g.int64([0]), g.int64([L]), g.int64([-1])]), cached('v_cache', false)]);
      const fromSelf = g.op('MatMul', [g.op('Slice', [probs, g.int64([L]), g.int64([L + 1]), g.int64([-1])]), v]);
      out = g.op('Add', [fromCache, fromSelf]);
    }
  }
  // [B, K, g·s, hd] → [B, H, s, hd] → [B, s, H, hd] → [T, H·hd]
  const merged = g.op('Reshape', [
    g.op('Transpose', [g.op('Reshape', [out, shape([B, H, s, hd])])], { perm: attr.ints([0, 2, 1, 3]) }),
    shape([B * s, H * hd]),
  ]);
  return g.op('MatMul', [merged, weight(g, c, store.decl('wo'))]);
}

/** Rotate-half rotary embedding of t's last axis (`width` wide) by the graph's rope_cos and rope_sin. */
function rotary(g: GraphBuilder, t: string, width: number, cos: string, sin: string): string {
  const first = g.op('Slice', [t, g.int64([0]), g.int64([width / 2]), g.int64([-1])]);
  const second = g.op('Slice', [t, g.int64([width / 2]), g.int64([width]), g.int64([-1])]);
  const rotated = g.op('Concat', [g.op('Neg', [second]), first], { axis: attr.int(-1) });
  return g.op('Add', [g.op('Mul', [t, cos]), g.op('Mul', [rotated, sin])]);
}

/** wkv_b re-laid for decode's absorbed form (tensors.ts absorbedValues): [H, n, rkv] keys or [H, rkv, v] values. */
function absorbed(g: GraphBuilder, c: WorkloadCase, a: MlaShape, part: 'keys' | 'values'): string {
  const { numHeads: H, kvLoraRank: rkv, qkNopeHeadDim: n, vHeadDim: v } = a;
  return constant(g, c, part === 'keys' ? 'w_uk_absorbed' : 'w_uv_absorbed', absorbedValues(c, a, part), part === 'keys' ? [H, n, rkv] : [H, rkv, v]);
}

/**
 * DeepSeek's MLA from standard ops, in the two forms inference engines use. Prefill decompresses
 * every token's latent into per-head keys and values and attends as multi-head attention; the
 * shared rotary key's scores come from its own product ([B, H, s, r] × [B, 1, r, s], broadcast over
 * heads) rather than a copy of it per head. Decode absorbs wkv_b into each head's query and output
 * and attends over the cache as it is stored, [B, L, rkv + r]: scores as cache × queryᵀ
 * ([B, L, H], softmax over L), values as the probabilities × the same cache (the rotary columns'
 * 64 products thrown away), so the cache is never transposed or copied.
 */
function mla(g: GraphBuilder, c: WorkloadCase, a: MlaShape, store: WeightStore, x: string): string {
  const { numHeads: H, kvLoraRank: rkv, qkNopeHeadDim: n, qkRopeHeadDim: r, vHeadDim: v } = a;
  const B = c.batch;
  const decode = c.phase === 'decode';
  const s = decode ? 1 : c.seqLen;
  const L = decode ? (c.context ?? 0) : 0;
  const shape = (dims: number[]) => g.int64(dims);
  const slice = (t: string, from: number, to: number, axis = -1) => g.op('Slice', [t, g.int64([from]), g.int64([to]), g.int64([axis])]);
  const tables = attentionTables(c, a);
  const cos = constant(g, c, 'rope_cos', tables.cos, tables.dims);
  const sin = constant(g, c, 'rope_sin', tables.sin, tables.dims);
  const scale = constant(g, c, 'score_scale', Float32Array.of(1 / Math.sqrt(n + r)), []);
  const w = (name: string) => weight(g, c, store.decl(name));
  // queries [B, s, H, n + r]: nope part, rotary part
  const q = g.op('Reshape', [g.op('MatMul', [g.op('MatMul', [x, w('wq_a')]), w('wq_b')]), shape([B, s, H, n + r])]);
  const qNope = slice(q, 0, n);
  const qRope = rotary(g, slice(q, n, n + r), r, cos, sin);
  // the latent and the shared rotary key of each token: [T, rkv + r]
  const kva = g.op('MatMul', [x, w('wkv_a')]);
  const kRope = rotary(g, g.op('Reshape', [slice(kva, rkv, rkv + r), shape([B, s, 1, r])]), r, cos, sin); // [B, s, 1, r]
  let out: string; // [B, s, H, v]
  const fused = c.attnImpl === 'fused';
  if (!decode && fused) {
    // MultiHeadAttention takes one key per head: the shared rotary key is copied to every head
    const kv = g.op('Reshape', [g.op('MatMul', [slice(kva, 0, rkv), w('wkv_b')]), shape([B, s, H, n + v])]);
    const flat = (t: string, width: number) => g.op('Reshape', [t, shape([B, s, H * width])]);
    const key = g.op('Concat', [slice(kv, 0, n), g.op('Expand', [kRope, shape([B, s, H, r])])], { axis: attr.int(-1) });
    const query = g.op('Concat', [qNope, qRope], { axis: attr.int(-1) });
    const [o] = g.node(
      'MultiHeadAttention',
      [flat(query, n + r), flat(key, n + r), flat(slice(kv, n, n + v), v)],
      { num_heads: attr.int(H), unidirectional: attr.int(1), scale: attr.float(1 / Math.sqrt(n + r)) },
      { outputs: 1, domain: 'com.microsoft' },
    );
    out = g.op('Reshape', [o, shape([B, s, H, v])]);
  } else if (!decode) {
    const kv = g.op('Reshape', [g.op('MatMul', [slice(kva, 0, rkv), w('wkv_b')]), shape([B, s, H, n + v])]);
    const heads = (t: string, perm: number[]) => g.op('Transpose', [t], { perm: attr.ints(perm) });
    const scores = g.op('Add', [
      g.op('MatMul', [heads(qNope, [0, 2, 1, 3]), heads(slice(kv, 0, n), [0, 2, 3, 1])]),
      g.op('MatMul', [heads(qRope, [0, 2, 1, 3]), heads(kRope, [0, 2, 3, 1])]),
    ]); // [B, H, s, s]
    const mask = constant(g, c, 'causal_mask', tables.mask!, [s, s]);
    const probs = g.op('Softmax', [g.op('Add', [g.op('Mul', [scores, scale]), mask])], { axis: attr.int(-1) });
    out = heads(g.op('MatMul', [probs, heads(slice(kv, n, n + v), [0, 2, 1, 3])]), [0, 2, 1, 3]);
  } else {
    // [B, 1, H, n] → [H, B, n] · [H, n, rkv] → [H, B, rkv] → [B, H, rkv]; with the rotary part, [B, H, rkv + r]
    const qNopeHeads = g.op('Transpose', [g.op('Reshape', [qNope, shape([B, H, n])])], { perm: attr.ints([1, 0, 2]) });
    const qLatent = g.op('Transpose', [g.op('MatMul', [qNopeHeads, absorbed(g, c, a, 'keys')])], { perm: attr.ints([1, 0, 2]) });
    const query = g.op('Mul', [g.op('Concat', [qLatent, g.op('Reshape', [qRope, shape([B, H, r])])], { axis: attr.int(-1) }), scale]);
    const queryT = g.op('Transpose', [query], { perm: attr.ints([0, 2, 1]) }); // [B, rkv + r, H]
    const own = g.op('Concat', [g.op('Reshape', [slice(kva, 0, rkv), shape([B, 1, rkv])]), g.op('Reshape', [kRope, shape([B, 1, r])])], {
      axis: attr.int(-1),
    }); // [B, 1, rkv + r]
    let latentOut: string; // [B, H, rkv + r]
    const cacheOf = (dims: number[]) => {
      const decl = store.decl('kv_cache');
      return g.initializer({
        name: 'kv_cache',
        dims,
        elemType: elemTypeOf(c),
        byteLength: B * L * (rkv + r) * bytesPerElement(c.dtype),
        // one sequence at a time: a whole cache can outgrow a typed array
        chunks: function* () {
          for (let b = 0; b < B; b++) yield toBytes(c, tensorRange(c, decl, b * L * (rkv + r), L * (rkv + r)));
        },
      });
    };
    if (fused) {
      // GroupQueryAttention with one KV head of rkv + r: the latent and rotary key are the key, and
      // the same vector is the value (its rotary part's products thrown away after); the scale is
      // the layer's 1/√(n + r), not the op's 1/√(rkv + r), so the query goes in unscaled
      const unscaled = g.op('Concat', [qLatent, g.op('Reshape', [qRope, shape([B, H, r])])], { axis: attr.int(-1) });
      const past = L > 0 ? cacheOf([B, 1, L, rkv + r]) : '';
      const [o] = g.node(
        'GroupQueryAttention',
        [
          g.op('Reshape', [unscaled, shape([B, 1, H * (rkv + r)])]),
          own,
          own,
          past,
          past,
          int32(g, 'seqlens_k', contextsOf(c), [B]),
          int32(g, 'total_sequence_length', [L + 1], []),
        ],
        { num_heads: attr.int(H), kv_num_heads: attr.int(1), scale: attr.float(1 / Math.sqrt(n + r)) },
        { outputs: 3, domain: 'com.microsoft' },
      );
      latentOut = g.op('Reshape', [o, shape([B, H, rkv + r])]);
    } else if (L === 0) {
      latentOut = g.op('MatMul', [
        g.op('Transpose', [g.op('Softmax', [g.op('MatMul', [own, queryT])], { axis: attr.int(1) })], { perm: attr.ints([0, 2, 1]) }),
        own,
      ]);
    } else {
      const cache = cacheOf([B, L, rkv + r]);
      const probs = g.op('Softmax', [g.op('Concat', [g.op('MatMul', [cache, queryT]), g.op('MatMul', [own, queryT])], { axis: attr.int(1) })], {
        axis: attr.int(1),
      }); // [B, L + 1, H]
      const transposed = (t: string) => g.op('Transpose', [t], { perm: attr.ints([0, 2, 1]) });
      latentOut = g.op('Add', [
        g.op('MatMul', [transposed(slice(probs, 0, L, 1)), cache]),
        g.op('MatMul', [transposed(slice(probs, L, L + 1, 1)), own]),
      ]);
    }
    // [B, H, rkv] → [H, B, rkv] · [H, rkv, v] → [H, B, v] → [B, H, v]
    const latentHeads = g.op('Transpose', [slice(latentOut, 0, rkv)], { perm: attr.ints([1, 0, 2]) });
    out = g.op('Transpose', [g.op('MatMul', [latentHeads, absorbed(g, c, a, 'values')])], { perm: attr.ints([1, 0, 2]) });
  }
  return g.op('MatMul', [g.op('Reshape', [out, shape([B * s, H * v])]), w('wo')]);
}

/** softmax → top-k → (renormalise) → a dense [tokens, E] gate matrix, zero off the top-k. */
function routerGates(g: GraphBuilder, m: MoeShape, logits: string): string {
  const probs = g.op('Softmax', [logits], { axis: attr.int(-1) });
  const [topValues, indices] = g.node(
    'TopK',
    [probs, g.int64([m.topK])],
    { axis: attr.int(-1), largest: attr.int(1), sorted: attr.int(0) },
    { outputs: 2 },
  );
  let values = topValues;
  if (m.renormalize) values = g.op('Div', [values, g.op('ReduceSum', [values, g.int64([-1])], { keepdims: attr.int(1) })]);
  const zeros = g.op('Mul', [probs, g.op('CastLike', [g.int64([0], []), probs])]);
  return g.op('ScatterElements', [zeros, indices, values], { axis: attr.int(1) });
}

/**
 * Standard ops, cost grows with k: for each expert, the tokens whose gate is
 * non-zero are gathered, run through its SwiGLU, weighted and scatter-added back.
 */
function routedExperts(g: GraphBuilder, c: WorkloadCase, store: WeightStore, x: string, gates: string, experts: number): string {
  // ORT's CPU ScatterND has no fp16 'add' reduction: accumulate in fp32, as fp16 kernels usually do
  const fp16 = c.dtype === 'fp16';
  const zero = g.op('CastLike', [g.int64([0], []), x]);
  let acc = g.op('Mul', [x, zero]);
  if (fp16) acc = g.op('Cast', [acc], { to: attr.int(ElemType.float32) });
  for (let e = 0; e < experts; e++) {
    const gate = g.op('Gather', [gates, g.int64([e], [])], { axis: attr.int(1) }); // [T]
    const idx = g.op('Transpose', [g.op('NonZero', [g.op('Greater', [gate, zero])])], { perm: attr.ints([1, 0]) }); // [n, 1]
    const xe = g.op('GatherND', [x, idx]); // [n, d]
    const we = g.op('Unsqueeze', [g.op('GatherND', [gate, idx]), g.int64([1])]); // [n, 1]
    let ye = g.op('Mul', [swiglu(g, c, store, expertPrefix(e), xe), we]);
    if (fp16) ye = g.op('Cast', [ye], { to: attr.int(ElemType.float32) });
    acc = g.op('ScatterND', [acc, idx, ye], { reduction: attr.str('add') });
  }
  return fp16 ? g.op('Cast', [acc], { to: attr.int(ElemType.float16) }) : acc;
}

/** Baseline: every expert on every token, weighted by its (mostly zero) gate. */
function denseAllExperts(g: GraphBuilder, c: WorkloadCase, store: WeightStore, x: string, gates: string, experts: number): string {
  let acc = '';
  for (let e = 0; e < experts; e++) {
    const gate = g.op('Gather', [gates, g.int64([e])], { axis: attr.int(1) }); // [T, 1]
    const ye = g.op('Mul', [swiglu(g, c, store, expertPrefix(e), x), gate]);
    acc = acc ? g.op('Add', [acc, ye]) : ye;
  }
  return acc;
}

/**
 * ORT's com.microsoft.MoE: takes the router logits and does softmax, top-k and
 * renormalisation itself; fc1 is [E, 2·ff, d] with gate and up rows interleaved
 * (swiglu_fusion=1), fc2 is [E, d, ff]. alpha=1, beta=0 and no limit make its
 * SwiGLU the standard silu(gate)·up.
 */
function fusedExperts(g: GraphBuilder, c: WorkloadCase, m: MoeShape, store: WeightStore, x: string, logits: string): string {
  const d = m.hiddenSize;
  const ff = m.expertIntermediateSize;
  const E = m.numExperts;
  const b = bytesPerElement(c.dtype);
  const fc1 = g.initializer({
    name: 'fc1_experts',
    dims: [E, 2 * ff, d],
    elemType: elemTypeOf(c),
    byteLength: E * 2 * ff * d * b,
    chunks: function* () {
      for (let e = 0; e < E; e++) {
        const gate = tensorValues(c, store.decl(`${expertPrefix(e)}w_gate`));
        const up = tensorValues(c, store.decl(`${expertPrefix(e)}w_up`));
        const out = new Float32Array(2 * ff * d);
        for (let i = 0; i < d; i++) {
          for (let j = 0; j < ff; j++) {
            out[2 * j * d + i] = gate[i * ff + j];
            out[(2 * j + 1) * d + i] = up[i * ff + j];
          }
        }
        yield toBytes(c, out);
      }
    },
  });
  const fc2 = g.initializer({
    name: 'fc2_experts',
    dims: [E, d, ff],
    elemType: elemTypeOf(c),
    byteLength: E * d * ff * b,
    chunks: function* () {
      for (let e = 0; e < E; e++) {
        const down = tensorValues(c, store.decl(`${expertPrefix(e)}w_down`));
        const out = new Float32Array(d * ff);
        for (let j = 0; j < ff; j++) for (let i = 0; i < d; i++) out[i * ff + j] = down[j * d + i];
        yield toBytes(c, out);
      }
    },
  });
  return g.op(
    'MoE',
    [x, logits, fc1, '', fc2],
    {
      k: attr.int(m.topK),
      activation_type: attr.str('swiglu'),
      swiglu_fusion: attr.int(1),
      activation_alpha: attr.float(1),
      activation_beta: attr.float(0),
      swiglu_limit: attr.float(3.0e38),
      normalize_routing_weights: attr.int(m.renormalize ? 1 : 0),
    },
    'com.microsoft',
  );
}
