import type { AttentionShape, GqaShape, MlaShape } from '../workloads/presets.js';
import { contextsOf, type WorkloadCase } from '../workloads/spec.js';
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
  if (c.layer.kind === 'attention') return fakeAttention(c, c.layer, x, rows, weights);
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

/**
 * Attention in float32, whole matrices at a time: Q, K, V of every token, the rotary embedding from
 * cos and sin computed here, then per sequence and query head the scores over its keys (decode: the
 * cache, read in its stored [B, K, L, hd] order, then its own token; prefill: its sequence up to
 * itself), a max-shifted softmax, the values, and the output projection.
 */
function fakeAttention(c: WorkloadCase, a: AttentionShape, x: Float32Array, rows: number, weights: WeightStore): Float32Array {
  return a.form === 'mla' ? fakeMla(c, a, x, rows, weights) : fakeGqa(c, a, x, rows, weights);
}

/** Rotate-half rotary embedding of `width` values at `at` in m, at position `pos`, in place. */
function rotateAt(m: Float32Array, at: number, width: number, pos: number, theta: number): void {
  const half = width / 2;
  for (let i = 0; i < half; i++) {
    const angle = pos / theta ** (i / half);
    const [u, v] = [m[at + i], m[at + half + i]];
    m[at + i] = u * Math.cos(angle) - v * Math.sin(angle);
    m[at + half + i] = v * Math.cos(angle) + u * Math.sin(angle);
  }
}

/**
 * MLA decompressed in both phases, unlike the reference's absorbed decode: every latent the token
 * sees (decode: the cache's, then its own) goes through wkv_b into per-head keys and values, and
 * each head attends over keys [nope | shared rotary key].
 */
function fakeMla(c: WorkloadCase, a: MlaShape, x: Float32Array, rows: number, weights: WeightStore): Float32Array {
  const { hiddenSize: d, numHeads: H, qLoraRank: rq, kvLoraRank: rkv, qkNopeHeadDim: n, qkRopeHeadDim: r, vHeadDim: v } = a;
  const decode = c.phase === 'decode';
  const L = decode ? (c.context ?? 0) : 0;
  const S = decode ? 1 : c.seqLen;
  // a decode sequence's own cache length (fused cases may spread them), at which its token sits
  const lengths = decode ? contextsOf(c) : [];
  const position = (t: number) => (decode ? lengths[t] : t % S);
  const q = matmul(matmul(x, weights.get('wq_a'), rows, d, rq), weights.get('wq_b'), rows, rq, H * (n + r));
  const kva = matmul(x, weights.get('wkv_a'), rows, d, rkv + r);
  for (let t = 0; t < rows; t++) {
    for (let h = 0; h < H; h++) rotateAt(q, t * H * (n + r) + h * (n + r) + n, r, position(t), a.ropeTheta);
    rotateAt(kva, t * (rkv + r) + rkv, r, position(t), a.ropeTheta);
  }
  const cache = L > 0 ? weights.get('kv_cache') : undefined;
  const o = new Float32Array(rows * H * v);
  for (let t = 0; t < rows; t++) {
    // the latents and rotary keys this token sees, as rows of rkv + r
    const seen: Float32Array[] = [];
    if (decode) for (let p = 0; p < lengths[t]; p++) seen.push(cache!.subarray((t * L + p) * (rkv + r), (t * L + p + 1) * (rkv + r)));
    const first = decode ? t : t - (t % S);
    for (let u = first; u <= t; u++) seen.push(kva.subarray(u * (rkv + r), (u + 1) * (rkv + r)));
    const latents = new Float32Array(seen.length * rkv);
    seen.forEach((e, i) => latents.set(e.subarray(0, rkv), i * rkv));
    const kv = matmul(latents, weights.get('wkv_b'), seen.length, rkv, H * (n + v));
    for (let h = 0; h < H; h++) {
      const qh = q.subarray(t * H * (n + r) + h * (n + r), t * H * (n + r) + (h + 1) * (n + r));
      const scores = seen.map((e, p) => {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += qh[i] * kv[p * H * (n + v) + h * (n + v) + i];
        for (let i = 0; i < r; i++) dot += qh[n + i] * e[rkv + i];
        return dot / Math.sqrt(n + r);
      });
      const top = Math.max(...scores);
      const e = scores.map((sc) => Math.exp(sc - top));
      const total = e.reduce((acc, x) => acc + x, 0);
      for (let p = 0; p < seen.length; p++)
        for (let i = 0; i < v; i++) o[t * H * v + h * v + i] += (e[p] / total) * kv[p * H * (n + v) + h * (n + v) + n + i];
    }
  }
  return matmul(o, weights.get('wo'), rows, H * v, d);
}

function fakeGqa(c: WorkloadCase, a: GqaShape, x: Float32Array, rows: number, weights: WeightStore): Float32Array {
  const { hiddenSize: d, numHeads: H, numKvHeads: K, headDim: hd } = a;
  const half = hd / 2;
  const decode = c.phase === 'decode';
  const L = decode ? (c.context ?? 0) : 0;
  const S = decode ? 1 : c.seqLen;
  // a decode sequence's own cache length (fused cases may spread them), at which its token sits
  const lengths = decode ? contextsOf(c) : [];
  const position = (t: number) => (decode ? lengths[t] : t % S);
  const rotateAll = (m: Float32Array, heads: number) => {
    for (let t = 0; t < rows; t++)
      for (let h = 0; h < heads; h++)
        for (let i = 0; i < half; i++) {
          const angle = position(t) / a.ropeTheta ** (i / half);
          const at = t * heads * hd + h * hd + i;
          const [u, v] = [m[at], m[at + half]];
          m[at] = u * Math.cos(angle) - v * Math.sin(angle);
          m[at + half] = v * Math.cos(angle) + u * Math.sin(angle);
        }
  };
  const q = matmul(x, weights.get('wq'), rows, d, H * hd);
  const k = matmul(x, weights.get('wk'), rows, d, K * hd);
  const v = matmul(x, weights.get('wv'), rows, d, K * hd);
  rotateAll(q, H);
  rotateAll(k, K);
  const kc = L > 0 ? weights.get('k_cache') : undefined;
  const vc = L > 0 ? weights.get('v_cache') : undefined;
  const o = new Float32Array(rows * H * hd);
  for (let t = 0; t < rows; t++) {
    // the keys this token sees: [source, row] pairs, source 'cache' (sequence t, position p) or 'token'
    const seen: { key: (j: number, i: number) => number; value: (j: number, i: number) => number }[] = [];
    if (decode) {
      for (let p = 0; p < lengths[t]; p++)
        seen.push({ key: (j, i) => kc![((t * K + j) * L + p) * hd + i], value: (j, i) => vc![((t * K + j) * L + p) * hd + i] });
      seen.push({ key: (j, i) => k[t * K * hd + j * hd + i], value: (j, i) => v[t * K * hd + j * hd + i] });
    } else {
      for (let u = t - (t % S); u <= t; u++) seen.push({ key: (j, i) => k[u * K * hd + j * hd + i], value: (j, i) => v[u * K * hd + j * hd + i] });
    }
    for (let h = 0; h < H; h++) {
      const j = Math.floor((h * K) / H);
      const scores = seen.map(({ key }) => {
        let dot = 0;
        for (let i = 0; i < hd; i++) dot += q[t * H * hd + h * hd + i] * key(j, i);
        return dot / Math.sqrt(hd);
      });
      const top = Math.max(...scores);
      const weightsOf = scores.map((sc) => Math.exp(sc - top));
      const total = weightsOf.reduce((acc, e) => acc + e, 0);
      seen.forEach(({ value }, n) => {
        for (let i = 0; i < hd; i++) o[t * H * hd + h * hd + i] += (weightsOf[n] / total) * value(j, i);
      });
    }
  }
  return matmul(o, weights.get('wo'), rows, H * hd, d);
}
