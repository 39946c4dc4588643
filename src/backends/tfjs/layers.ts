import type * as TfCore from '@tensorflow/tfjs-core';
import type { AttentionShape, MoeShape } from '../../workloads/presets.js';
import type { WorkloadCase } from '../../workloads/spec.js';
import {
  attentionTables,
  expertPrefix,
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
    const { cos, sin, mask, s } = attentionTables(c, c.layer);
    const hd = c.layer.headDim;
    weights.set('rope_cos', tf.tensor2d(cos, [s, hd]));
    weights.set('rope_sin', tf.tensor2d(sin, [s, hd]));
    if (mask) weights.set('causal_mask', tf.tensor2d(mask, [mask.length / s, s]));
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
  const { numHeads: H, numKvHeads: K, headDim: hd } = a;
  const group = H / K;
  const B = c.batch;
  const decode = c.phase === 'decode';
  const s = decode ? 1 : c.seqLen;
  const L = decode ? (c.context ?? 0) : 0;
  return tf.tidy(() => {
    const cos = tf.reshape(w.get('rope_cos')!, [s, 1, hd]);
    const sin = tf.reshape(w.get('rope_sin')!, [s, 1, hd]);
    const rope = (t: TfCore.Tensor) => {
      const [first, second] = tf.split(t, 2, -1);
      return tf.add(tf.mul(t, cos), tf.mul(tf.concat([tf.neg(second), first], -1), sin));
    };
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
