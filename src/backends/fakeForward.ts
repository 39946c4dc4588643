import type { WorkloadCase } from '../workloads/spec.js';
import { expertPrefix, matmulWeightName, sharedPrefix, type CaseInputs, type WeightStore } from '../workloads/tensors.js';

/**
 * The fake backend's own forward pass, written apart from workloads/reference.ts so that a fake
 * run's correctness check compares two computations, not the reference with itself: it works a
 * whole batch at a time in float32 (as an engine does), takes the top-k of the router's logits
 * before its softmax, and shares no code with the reference beyond the weights' names.
 */
export function fakeForward(c: WorkloadCase, inputs: CaseInputs, weights: WeightStore): Float32Array {
  const d = c.layer.hiddenSize;
  const x = inputs.feeds.x.data;
  const rows = inputs.feeds.x.dims[0];
  const y = new Float32Array(rows * d);
  if (c.layer.kind === 'dense') {
    addExpert(weights, '', x, rows, d, Array(rows).fill(1), y);
    return y;
  }
  if (c.layer.kind === 'matmul') {
    let v = x;
    for (let k = 0; k < c.layer.depth; k++) v = matmul(v, weights.get(matmulWeightName(k)), rows, d, d);
    return v;
  }
  const m = c.layer;
  if (c.expertsPerCard !== undefined) {
    const local = c.expertsPerCard;
    const w = inputs.feeds.route_weights.data;
    for (let e = 0; e < local; e++)
      addExpert(
        weights,
        expertPrefix(e),
        x,
        rows,
        d,
        Array.from({ length: rows }, (_, r) => w[r * local + e]),
        y,
      );
    return y;
  }
  const E = m.numExperts;
  const logits = matmul(x, weights.get('router'), rows, d, E);
  const bias = inputs.feeds.router_bias.data;
  const scales = Array.from({ length: E }, () => new Array<number>(rows).fill(0));
  for (let r = 0; r < rows; r++) {
    const l = Array.from({ length: E }, (_, e) => logits[r * E + e] + bias[r * E + e]);
    const order = l.map((_, e) => e).sort((a, b) => l[b] - l[a]);
    const max = l[order[0]];
    const all = l.reduce((s, v) => s + Math.exp(v - max), 0);
    const chosen = order.slice(0, m.topK);
    const kept = m.renormalize ? chosen.reduce((s, e) => s + Math.exp(l[e] - max), 0) : all;
    for (const e of chosen) scales[e][r] = Math.exp(l[e] - max) / kept;
  }
  for (let e = 0; e < E; e++) addExpert(weights, expertPrefix(e), x, rows, d, scales[e], y);
  for (let s = 0; s < m.numSharedExperts; s++) addExpert(weights, sharedPrefix(s), x, rows, d, Array(rows).fill(1), y);
  return y;
}

/** y[r] += scale[r] · (silu(x·Wg) ⊙ x·Wu)·Wd for the rows r with a non-zero scale, gathered into one batch. */
function addExpert(weights: WeightStore, prefix: string, x: Float32Array, rows: number, d: number, scale: number[], y: Float32Array): void {
  const picked = Array.from({ length: rows }, (_, r) => r).filter((r) => scale[r] !== 0);
  if (picked.length === 0) return;
  const xs = new Float32Array(picked.length * d);
  picked.forEach((r, i) => xs.set(x.subarray(r * d, (r + 1) * d), i * d));
  const ff = weights.decl(`${prefix}w_gate`).dims[1];
  const g = matmul(xs, weights.get(`${prefix}w_gate`), picked.length, d, ff);
  const u = matmul(xs, weights.get(`${prefix}w_up`), picked.length, d, ff);
  for (let i = 0; i < g.length; i++) g[i] = (g[i] / (1 + Math.exp(-g[i]))) * u[i] * scale[picked[Math.floor(i / ff)]];
  const out = matmul(g, weights.get(`${prefix}w_down`), picked.length, ff, d);
  picked.forEach((r, i) => {
    for (let j = 0; j < d; j++) y[r * d + j] += out[i * d + j];
  });
}

/** [n, k] · [k, m] in float32, row by row. */
function matmul(a: Float32Array, b: Float32Array, n: number, k: number, m: number): Float32Array {
  const out = new Float32Array(n * m);
  for (let r = 0; r < n; r++)
    for (let j = 0; j < k; j++) {
      const av = a[r * k + j];
      if (av === 0) continue;
      for (let i = 0; i < m; i++) out[r * m + i] += av * b[j * m + i];
    }
  return out;
}
