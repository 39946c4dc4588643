import type * as TfCore from '@tensorflow/tfjs-core';
import type { MoeShape } from '../../workloads/presets.js';
import type { WorkloadCase } from '../../workloads/spec.js';
import { expertPrefix, expertsInGraph, matmulWeightName, sharedPrefix, tensorValues, weightDecls, type CaseInputs } from '../../workloads/tensors.js';
import type { Tf } from './runtime.js';

type Tensor2D = TfCore.Tensor2D;

/** The case's weights as TF.js tensors, created once and kept on the device. */
export function uploadWeights(tf: Tf, c: WorkloadCase): Map<string, Tensor2D> {
  const weights = new Map<string, Tensor2D>();
  for (const decl of weightDecls(c)) weights.set(decl.name, tf.tensor2d(tensorValues(c, decl), decl.dims as [number, number], 'float32'));
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

/** One forward pass of the case's layer; resolves to the output tensor (caller disposes). */
export async function forward(tf: Tf, c: WorkloadCase, w: Map<string, Tensor2D>, inputs: Map<string, Tensor2D>): Promise<Tensor2D> {
  const x = inputs.get('x')!;
  if (c.layer.kind === 'dense') return swiglu(tf, w, '', x);
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
