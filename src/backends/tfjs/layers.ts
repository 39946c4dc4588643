import type * as TfCore from '@tensorflow/tfjs-core';
import type { AttentionShape, GqaShape, MlaShape, MoeShape } from '../../workloads/presets.js';
import type { WorkloadCase } from '../../workloads/spec.js';
import {
  absorbedValues,
  attentionTables,
  expertPrefix,
  ropeDim,
  expertsInGraph,
  matmulWeightName,
  sharedPrefix,
  tensorValues,
  weightDecls,
  type CaseInputs,
} from '../../workloads/tensors.js';
import type { Tf } from './runtime.js';

type Tensor2D = TfCore.Tensor2D;

/** The case's weights as TF.js tensors, created once and kept on the device. */
export function uploadWeights(tf: Tf, c: WorkloadCase): Map<string, Tensor2D> {
  const weights = new Map<string, Tensor2D>();
  for (const decl of weightDecls(c)) {
    // an attention cache [B, K, L, hd] is kept as rows of hd (values) or, keys, transposed to rows of L: QKᵀ reads them as they are
    const values = tensorValues(c, decl);
    const last = decl.dims[decl.dims.length - 1];
    if (decl.name === 'k_cache') {
      const [B, K, L, hd] = decl.dims;
      const t = new Float32Array(values.length);
      for (let block = 0; block < B * K; block++)
        for (let p = 0; p < L; p++) for (let i = 0; i < hd; i++) t[block * L * hd + i * L + p] = values[block * L * hd + p * hd + i];
      weights.set(decl.name, tf.tensor2d(t, [B * K * hd, L], 'float32'));
    } else weights.set(decl.name, tf.tensor2d(values, [values.length / last, last], 'float32'));
  }
  if (c.layer.kind === 'attention') {
    const a = c.layer;
    const { cos, sin, mask, s } = attentionTables(c, a);
    const hd = ropeDim(a);
    weights.set('rope_cos', tf.tensor2d(cos, [cos.length / hd, hd]));
    weights.set('rope_sin', tf.tensor2d(sin, [sin.length / hd, hd]));
    if (mask) weights.set('causal_mask', tf.tensor2d(mask, [mask.length / s, s]));
    if (a.form === 'mla' && c.phase === 'decode') {
      weights.set('w_uk_absorbed', tf.tensor2d(absorbedValues(c, a, 'keys'), [a.numHeads * a.qkNopeHeadDim, a.kvLoraRank]));
      weights.set('w_uv_absorbed', tf.tensor2d(absorbedValues(c, a, 'values'), [a.numHeads * a.kvLoraRank, a.vHeadDim]));
    }
  }
  return weights;
}

export function uploadInputs(tf: Tf, inputs: CaseInputs): Map<string, Tensor2D> {
  const out = new Map<string, Tensor2D>();
  for (const [name, t] of Object.entries(inputs.feeds)) out.set(name, tf.tensor2d(t.data, t.dims as [number, number], 'float32'));
  return out;
}

function swiglu(tf: Tf, w: Map<string, Tensor2D>, prefix: string, x: Tensor2D): Tensor2D {
  return tf.tidy(() => {
    const gate = tf.matMul(x, w.get(`${prefix}w_gate`)!);
    const up = tf.matMul(x, w.get(`${prefix}w_up`)!);
    return tf.matMul(tf.mul(tf.mul(gate, tf.sigmoid(gate)), up), w.get(`${prefix}w_down`)!);
  });
}

/**
 * Routed experts in TF.js: the token lists per expert are data-dependent, so the
 * (small) routing tensor is read to the host inside the call, as any eager engine
 * must; then each expert gathers its tokens, runs its SwiGLU, and one scatterND
 * adds every weighted result back. Matmul cost grows with k.
 */
async function routedExperts(tf: Tf, w: Map<string, Tensor2D>, x: Tensor2D, gates: Tensor2D, experts: number, numTokens: number): Promise<Tensor2D> {
  const g = (await gates.data()) as Float32Array;
  const E = gates.shape[1];
  const outputs: Tensor2D[] = [];
  const tokenIds: number[] = [];
  for (let e = 0; e < experts; e++) {
    const ids: number[] = [];
    const weights: number[] = [];
    for (let t = 0; t < numTokens; t++) {
      const v = g[t * E + e];
      if (v > 0) {
        ids.push(t);
        weights.push(v);
      }
    }
    if (ids.length === 0) continue;
    outputs.push(
      tf.tidy(() => {
        const xe = tf.gather(x, tf.tensor1d(ids, 'int32')) as Tensor2D;
        return tf.mul(swiglu(tf, w, expertPrefix(e), xe), tf.tensor2d(weights, [ids.length, 1]));
      }),
    );
    tokenIds.push(...ids);
  }
  if (outputs.length === 0) return tf.zerosLike(x) as Tensor2D;
  // scatterND sums updates that share an index: one scatter combines every expert's rows
  const y = tf.tidy(
    () => tf.scatterND(tf.tensor2d(tokenIds, [tokenIds.length, 1], 'int32'), tf.concat(outputs, 0), [numTokens, x.shape[1]]) as Tensor2D,
  );
  tf.dispose(outputs);
  return y;
}

/** Every expert on every token, weighted by its (mostly zero) gate column. */
function denseAllExperts(tf: Tf, w: Map<string, Tensor2D>, x: Tensor2D, gates: Tensor2D, experts: number): Tensor2D {
  return tf.tidy(() => {
    let acc: Tensor2D | undefined;
    for (let e = 0; e < experts; e++) {
      const ye = tf.mul(swiglu(tf, w, expertPrefix(e), x), tf.slice(gates, [0, e], [-1, 1])) as Tensor2D;
      acc = acc ? (tf.add(acc, ye) as Tensor2D) : ye;
    }
    return acc!;
  });
}

/** softmax → top-k → (renormalise) → a dense [tokens, E] gate matrix, zero off the top-k. */
function routerGates(tf: Tf, m: MoeShape, w: Map<string, Tensor2D>, x: Tensor2D, bias: Tensor2D): Tensor2D {
  return tf.tidy(() => {
    const probs = tf.softmax(tf.add(tf.matMul(x, w.get('router')!), bias)) as Tensor2D;
    const { values, indices } = tf.topk(probs, m.topK);
    const weights = m.renormalize ? tf.div(values, tf.sum(values, -1, true)) : values;
    // one-hot of the chosen experts, weighted: Σ_j onehot(indices[:, j]) · weights[:, j]
    const oneHot = tf.oneHot(indices, m.numExperts); // [T, k, E]
    return tf.sum(tf.mul(oneHot, tf.expandDims(weights, -1)), 1) as Tensor2D;
  });
}

/**
 * Grouped-query attention as the ONNX graph computes it (onnx/layers.ts): query heads grouped under
 * their KV head so QKᵀ and PV are batched matmuls over sequence × KV head; the decode cache's scores
 * and the own token's concatenated, never the cache.
 */
function attention(tf: Tf, c: WorkloadCase, a: AttentionShape, w: Map<string, Tensor2D>, x: Tensor2D): Tensor2D {
  return a.form === 'mla' ? mla(tf, c, a, w, x) : gqa(tf, c, a, w, x);
}

/** Rotate-half rotary embedding of t's last axis by the case's rope_cos and rope_sin, broadcast as attentionTables says. */
function rotary(tf: Tf, c: WorkloadCase, w: Map<string, Tensor2D>, t: TfCore.Tensor, width: number): TfCore.Tensor {
  const dims = c.phase === 'decode' ? [c.batch, 1, 1, width] : [c.seqLen, 1, width];
  const [first, second] = tf.split(t, 2, -1);
  return tf.add(
    tf.mul(t, tf.reshape(w.get('rope_cos')!, dims)),
    tf.mul(tf.concat([tf.neg(second), first], -1), tf.reshape(w.get('rope_sin')!, dims)),
  );
}

/** MLA as the ONNX graph computes it (onnx/layers.ts): prefill decompressed, decode absorbed over the cache as stored. */
function mla(tf: Tf, c: WorkloadCase, a: MlaShape, w: Map<string, Tensor2D>, x: Tensor2D): Tensor2D {
  const { numHeads: H, kvLoraRank: rkv, qkNopeHeadDim: n, qkRopeHeadDim: r, vHeadDim: v } = a;
  const B = c.batch;
  const decode = c.phase === 'decode';
  const s = decode ? 1 : c.seqLen;
  const L = decode ? (c.context ?? 0) : 0;
  const scale = 1 / Math.sqrt(n + r);
  return tf.tidy(() => {
    const q = tf.reshape(tf.matMul(tf.matMul(x, w.get('wq_a')!), w.get('wq_b')!), [B, s, H, n + r]);
    const [qNope, qRopeRaw] = tf.split(q, [n, r], -1);
    const qRope = rotary(tf, c, w, qRopeRaw, r);
    const kva = tf.matMul(x, w.get('wkv_a')!);
    const [latent, kRopeRaw] = tf.split(kva, [rkv, r], -1);
    const kRope = rotary(tf, c, w, tf.reshape(kRopeRaw, [B, s, 1, r]), r); // [B, s, 1, r]
    let out: TfCore.Tensor; // [B, s, H, v]
    if (!decode) {
      const kv = tf.reshape(tf.matMul(latent, w.get('wkv_b')!), [B, s, H, n + v]);
      const [kNope, values] = tf.split(kv, [n, v], -1);
      const flat = (t: TfCore.Tensor, perm: number[], dims: [number, number, number]) => tf.reshape(tf.transpose(t, perm), dims) as TfCore.Tensor3D;
      // [B·H, s, ·] batches; the shared rotary key's scores broadcast over heads by tiling its [B, s, s] product
      const nopeScores = tf.matMul(flat(qNope, [0, 2, 1, 3], [B * H, s, n]), flat(kNope, [0, 2, 3, 1], [B * H, n, s]));
      const ropeScores = tf.matMul(flat(qRope, [0, 2, 1, 3], [B, H * s, r]), flat(kRope, [0, 2, 3, 1], [B, r, s]));
      const scores = tf.add(nopeScores, tf.reshape(ropeScores, [B * H, s, s]));
      const probs = tf.softmax(tf.add(tf.mul(scores, scale), w.get('causal_mask')!)) as TfCore.Tensor3D;
      out = tf.transpose(tf.reshape(tf.matMul(probs, flat(values, [0, 2, 1, 3], [B * H, s, v])), [B, H, s, v]), [0, 2, 1, 3]);
    } else {
      const qNopeHeads = tf.transpose(tf.reshape(qNope, [B, H, n]), [1, 0, 2]) as TfCore.Tensor3D; // [H, B, n]
      const qLatent = tf.transpose(tf.matMul(qNopeHeads, tf.reshape(w.get('w_uk_absorbed')!, [H, n, rkv]) as TfCore.Tensor3D), [1, 0, 2]);
      const query = tf.mul(tf.concat([qLatent, tf.reshape(qRope, [B, H, r])], -1), scale);
      const queryT = tf.transpose(query, [0, 2, 1]) as TfCore.Tensor3D; // [B, rkv + r, H]
      const own = tf.concat([tf.reshape(latent, [B, 1, rkv]), tf.reshape(kRope, [B, 1, r])], -1) as TfCore.Tensor3D;
      let latentOut: TfCore.Tensor;
      if (L === 0) {
        // one score per head, its softmax 1: each head takes the own token's latent
        latentOut = tf.matMul(tf.softmax(tf.transpose(tf.matMul(own, queryT), [0, 2, 1])) as TfCore.Tensor3D, own);
      } else {
        const cache = tf.reshape(w.get('kv_cache')!, [B, L, rkv + r]) as TfCore.Tensor3D;
        // softmax over the cache and the own token, for each head: [B, H, L + 1]
        const probs = tf.softmax(tf.transpose(tf.concat([tf.matMul(cache, queryT), tf.matMul(own, queryT)], 1), [0, 2, 1])) as TfCore.Tensor3D;
        latentOut = tf.add(tf.matMul(tf.slice(probs, [0, 0, 0], [-1, -1, L]), cache), tf.matMul(tf.slice(probs, [0, 0, L], [-1, -1, 1]), own));
      }
      const latentHeads = tf.transpose(tf.slice(latentOut, [0, 0, 0], [-1, -1, rkv]), [1, 0, 2]) as TfCore.Tensor3D; // [H, B, rkv]
      out = tf.transpose(tf.matMul(latentHeads, tf.reshape(w.get('w_uv_absorbed')!, [H, rkv, v]) as TfCore.Tensor3D), [1, 0, 2]);
    }
    return tf.matMul(tf.reshape(out, [B * s, H * v]), w.get('wo')!);
  });
}

function gqa(tf: Tf, c: WorkloadCase, a: GqaShape, w: Map<string, Tensor2D>, x: Tensor2D): Tensor2D {
  const { numHeads: H, numKvHeads: K, headDim: hd } = a;
  const group = H / K;
  const B = c.batch;
  const decode = c.phase === 'decode';
  const s = decode ? 1 : c.seqLen;
  const L = decode ? (c.context ?? 0) : 0;
  return tf.tidy(() => {
    const rope = (t: TfCore.Tensor) => rotary(tf, c, w, t, hd);
    const heads = (name: string, n: number) => tf.reshape(tf.matMul(x, w.get(name)!), [B, s, n, hd]);
    const q = tf.reshape(tf.transpose(tf.mul(rope(heads('wq', H)), 1 / Math.sqrt(hd)), [0, 2, 1, 3]), [B * K, group * s, hd]) as TfCore.Tensor3D;
    const kT = tf.reshape(tf.transpose(rope(heads('wk', K)), [0, 2, 3, 1]), [B * K, hd, s]) as TfCore.Tensor3D;
    const v = tf.reshape(tf.transpose(heads('wv', K), [0, 2, 1, 3]), [B * K, s, hd]) as TfCore.Tensor3D;
    let out: TfCore.Tensor;
    if (!decode) {
      out = tf.matMul(tf.softmax(tf.add(tf.matMul(q, kT), w.get('causal_mask')!)), v);
    } else if (L === 0) {
      out = tf.matMul(tf.softmax(tf.matMul(q, kT)), v);
    } else {
      const kCache = tf.reshape(w.get('k_cache')!, [B * K, hd, L]) as TfCore.Tensor3D;
      const vCache = tf.reshape(w.get('v_cache')!, [B * K, L, hd]) as TfCore.Tensor3D;
      const probs = tf.softmax(tf.concat([tf.matMul(q, kCache), tf.matMul(q, kT)], -1)) as TfCore.Tensor3D;
      out = tf.add(tf.matMul(tf.slice(probs, [0, 0, 0], [-1, -1, L]), vCache), tf.matMul(tf.slice(probs, [0, 0, L], [-1, -1, 1]), v));
    }
    const merged = tf.reshape(tf.transpose(tf.reshape(out, [B, H, s, hd]), [0, 2, 1, 3]), [B * s, H * hd]);
    return tf.matMul(merged, w.get('wo')!);
  });
}

/** One forward pass of the case's layer; resolves to the output tensor (caller disposes). */
export async function forward(tf: Tf, c: WorkloadCase, w: Map<string, Tensor2D>, inputs: Map<string, Tensor2D>): Promise<Tensor2D> {
  const x = inputs.get('x')!;
  if (c.layer.kind === 'dense') return swiglu(tf, w, '', x);
  if (c.layer.kind === 'attention') return attention(tf, c, c.layer, w, x);
  if (c.layer.kind === 'matmul') {
    const depth = c.layer.depth;
    return tf.tidy(() => {
      let v = x;
      for (let k = 0; k < depth; k++) v = tf.matMul(v, w.get(matmulWeightName(k))!);
      return v;
    });
  }
  const m = c.layer;
  const experts = expertsInGraph(c);
  const numTokens = x.shape[0];
  const gates = c.expertsPerCard !== undefined ? inputs.get('route_weights')! : routerGates(tf, m, w, x, inputs.get('router_bias')!);
  let y = c.moeImpl === 'dense-all' ? denseAllExperts(tf, w, x, gates, experts) : await routedExperts(tf, w, x, gates, experts, numTokens);
  if (c.expertsPerCard === undefined) {
    tf.dispose(gates);
    for (let s = 0; s < m.numSharedExperts; s++) {
      const shared = swiglu(tf, w, sharedPrefix(s), x);
      const sum = tf.add(y, shared) as Tensor2D;
      tf.dispose([y, shared]);
      y = sum;
    }
  }
  return y;
}
