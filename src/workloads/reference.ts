import type { GqaShape, MlaShape, MoeShape } from './presets.js';
import { contextsOf, type Dtype, type WorkloadCase } from './spec.js';
import { expertPrefix, matmulWeightName, ropeInvFreq, sharedPrefix, tensorRange, type CaseInputs, type WeightStore } from './tensors.js';

/** Bumped whenever the reference computes anything differently, so cached reference rows are recomputed. */
export const REFERENCE_VERSION = 2;

/** y += scale · down(silu(x·Wg) ⊙ (x·Wu)) for one row, in float64. */
function addSwiglu(weights: WeightStore, prefix: string, x: ArrayLike<number>, scale: number, y: Float64Array): void {
  const gate = weights.get(`${prefix}w_gate`);
  const up = weights.get(`${prefix}w_up`);
  const down = weights.get(`${prefix}w_down`);
  const [d, ff] = weights.decl(`${prefix}w_gate`).dims;
  const h = new Float64Array(ff);
  const u = new Float64Array(ff);
  for (let i = 0; i < d; i++) {
    const xi = x[i];
    const row = i * ff;
    for (let j = 0; j < ff; j++) {
      h[j] += xi * gate[row + j];
      u[j] += xi * up[row + j];
    }
  }
  for (let j = 0; j < ff; j++) {
    const g = h[j];
    const a = (g / (1 + Math.exp(-g))) * u[j] * scale;
    const row = j * d;
    for (let i = 0; i < d; i++) y[i] += a * down[row + i];
  }
}

/** Router weights of one token: softmax over all experts, top-k, optional renormalisation. */
export function routeToken(m: MoeShape, weights: WeightStore, x: ArrayLike<number>, bias: ArrayLike<number>): { expert: number; weight: number }[] {
  const router = weights.get('router');
  const d = m.hiddenSize;
  const E = m.numExperts;
  const logits = new Float64Array(E);
  for (let i = 0; i < d; i++) {
    const xi = x[i];
    for (let e = 0; e < E; e++) logits[e] += xi * router[i * E + e];
  }
  for (let e = 0; e < E; e++) logits[e] += bias[e];
  const max = Math.max(...logits);
  let total = 0;
  const probs = Array.from(logits, (l) => {
    const p = Math.exp(l - max);
    total += p;
    return p;
  });
  const top = probs
    .map((p, e) => ({ expert: e, weight: p / total }))
    .sort((a, b) => b.weight - a.weight)
    .slice(0, m.topK);
  if (m.renormalize) {
    const s = top.reduce((a, r) => a + r.weight, 0);
    for (const r of top) r.weight /= s;
  }
  return top;
}

/** v · W for a row v and W [v.length, n] row-major, in float64. */
function rowTimes(v: ArrayLike<number>, w: Float32Array, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < v.length; i++) {
    const vi = v[i];
    const row = i * n;
    for (let j = 0; j < n; j++) out[j] += vi * w[row + j];
  }
  return out;
}

/** Rotate-half rotary embedding of each `hd`-wide head of v at position `pos`, in place. */
function rotate(v: Float64Array, hd: number, pos: number, invFreq: number[]): void {
  const half = hd / 2;
  for (let h = 0; h < v.length / hd; h++) {
    for (let i = 0; i < half; i++) {
      const [a, b] = [v[h * hd + i], v[h * hd + half + i]];
      const [cos, sin] = [Math.cos(pos * invFreq[i]), Math.sin(pos * invFreq[i])];
      v[h * hd + i] = a * cos - b * sin;
      v[h * hd + half + i] = b * cos + a * sin;
    }
  }
}

/**
 * Attention rows: each query head over its KV head's keys (decode: the seeded cache, then its own
 * token; prefill: its sequence up to itself), softmax of the scaled scores, the weighted values,
 * the output projection. A prefill row needs its sequence's keys and values up to it: computed
 * once per sequence and kept in `kv`.
 */
function attentionRow(c: WorkloadCase, a: GqaShape, weights: WeightStore, x: Float32Array, r: number, kv: Map<number, PrefixKv>): Float64Array {
  const { hiddenSize: d, numHeads: H, numKvHeads: K, headDim: hd } = a;
  const invFreq = ropeInvFreq(a);
  const project = (t: number, pos: number) => {
    const xt = x.subarray(t * d, (t + 1) * d);
    const k = rowTimes(xt, weights.get('wk'), K * hd);
    rotate(k, hd, pos, invFreq);
    return { k, v: rowTimes(xt, weights.get('wv'), K * hd) };
  };
  let keys: Float64Array[];
  let values: Float64Array[];
  let pos: number;
  if (c.phase === 'decode') {
    // the cache holds `context` positions per sequence; this one's first `own` are its own
    const L = c.context ?? 0;
    const mine = contextsOf(c)[r];
    // sequence r's block of each cache, [K, L, hd], made on its own: a whole cache can outgrow a typed array
    const block = (name: string) => (L > 0 ? tensorRange(c, weights.decl(name), r * K * L * hd, K * L * hd) : new Float32Array(0));
    const kc = block('k_cache');
    const vc = block('v_cache');
    // position p, all kv heads side by side
    const cached = (cache: Float32Array, p: number) => {
      const out = new Float64Array(K * hd);
      for (let j = 0; j < K; j++) for (let i = 0; i < hd; i++) out[j * hd + i] = cache[(j * L + p) * hd + i];
      return out;
    };
    const own = project(r, mine);
    keys = [...Array.from({ length: mine }, (_, p) => cached(kc, p)), own.k];
    values = [...Array.from({ length: mine }, (_, p) => cached(vc, p)), own.v];
    pos = mine;
  } else {
    const S = c.seqLen;
    const b = Math.floor(r / S);
    pos = r % S;
    if (!kv.has(b)) {
      const all = Array.from({ length: S }, (_, s) => project(b * S + s, s));
      kv.set(b, { k: all.map((e) => e.k), v: all.map((e) => e.v) });
    }
    keys = kv.get(b)!.k.slice(0, pos + 1);
    values = kv.get(b)!.v.slice(0, pos + 1);
  }
  const q = rowTimes(x.subarray(r * d, (r + 1) * d), weights.get('wq'), H * hd);
  rotate(q, hd, pos, invFreq);
  const o = new Float64Array(H * hd);
  const g = H / K;
  for (let h = 0; h < H; h++) {
    const j = Math.floor(h / g);
    const scores = keys.map((k) => {
      let s = 0;
      for (let i = 0; i < hd; i++) s += q[h * hd + i] * k[j * hd + i];
      return s / Math.sqrt(hd);
    });
    const max = Math.max(...scores);
    const e = scores.map((s) => Math.exp(s - max));
    const total = e.reduce((acc, v) => acc + v, 0);
    values.forEach((v, p) => {
      for (let i = 0; i < hd; i++) o[h * hd + i] += (e[p] / total) * v[j * hd + i];
    });
  }
  return rowTimes(o, weights.get('wo'), d);
}

/** Rotary embedding of the `width`-wide slice at `offset` of each `stride`-wide head of v, in place. */
function rotateSlices(v: Float64Array, stride: number, offset: number, width: number, pos: number, invFreq: number[]): void {
  for (let h = 0; h < v.length / stride; h++) {
    const part = v.subarray(h * stride + offset, h * stride + offset + width);
    rotate(part, width, pos, invFreq);
  }
}

/**
 * MLA rows. Prefill decompresses each prefix token's latent into every head's key (nope part, then
 * the shared rotary key) and value, and attends as multi-head attention. Decode reads the cache as
 * latents and absorbs the up-projection into each head's query (scores against the latent) and
 * output (the latent-weighted sum, then the value projection): the same numbers, computed in the
 * form the engines use, at the cost of a few matrix-vector products per head instead of
 * decompressing the whole cache.
 */
function mlaRow(c: WorkloadCase, a: MlaShape, weights: WeightStore, x: Float32Array, r: number, kv: Map<number, PrefixKv>): Float64Array {
  const { hiddenSize: d, numHeads: H, qLoraRank: rq, kvLoraRank: rkv, qkNopeHeadDim: n, qkRopeHeadDim: rr, vHeadDim: v } = a;
  const invFreq = ropeInvFreq(a);
  const wkvb = weights.get('wkv_b');
  const scale = 1 / Math.sqrt(n + rr);
  const latent = (t: number, pos: number) => {
    const kva = rowTimes(x.subarray(t * d, (t + 1) * d), weights.get('wkv_a'), rkv + rr);
    rotate(kva.subarray(rkv), rr, pos, invFreq);
    return kva;
  };
  const decode = c.phase === 'decode';
  const L = c.context ?? 0;
  const mine = decode ? contextsOf(c)[r] : 0;
  const pos = decode ? mine : r % c.seqLen;
  const q = rowTimes(rowTimes(x.subarray(r * d, (r + 1) * d), weights.get('wq_a'), rq), weights.get('wq_b'), H * (n + rr));
  rotateSlices(q, n + rr, n, rr, pos, invFreq);
  const o = new Float64Array(H * v);
  if (decode) {
    // sequence r's [L, rkv + rr] of the cache, made on its own; its first `mine` positions are its own
    const cache = L > 0 ? tensorRange(c, weights.decl('kv_cache'), r * L * (rkv + rr), L * (rkv + rr)) : new Float32Array(0);
    const entries = [
      ...Array.from({ length: mine }, (_, p) => Float64Array.from(cache.subarray(p * (rkv + rr), (p + 1) * (rkv + rr)))),
      latent(r, mine),
    ];
    for (let h = 0; h < H; h++) {
      const col = h * (n + v);
      const qLat = new Float64Array(rkv);
      for (let j = 0; j < rkv; j++) for (let i = 0; i < n; i++) qLat[j] += q[h * (n + rr) + i] * wkvb[j * H * (n + v) + col + i];
      const scores = entries.map((e) => {
        let s = 0;
        for (let j = 0; j < rkv; j++) s += qLat[j] * e[j];
        for (let i = 0; i < rr; i++) s += q[h * (n + rr) + n + i] * e[rkv + i];
        return s * scale;
      });
      const max = Math.max(...scores);
      const w = scores.map((s) => Math.exp(s - max));
      const total = w.reduce((acc, e) => acc + e, 0);
      const oLat = new Float64Array(rkv);
      entries.forEach((e, p) => {
        for (let j = 0; j < rkv; j++) oLat[j] += (w[p] / total) * e[j];
      });
      for (let i = 0; i < v; i++) for (let j = 0; j < rkv; j++) o[h * v + i] += oLat[j] * wkvb[j * H * (n + v) + col + n + i];
    }
  } else {
    const S = c.seqLen;
    const b = Math.floor(r / S);
    if (!kv.has(b)) {
      const k: Float64Array[] = [];
      const vals: Float64Array[] = [];
      for (let s = 0; s < S; s++) {
        const e = latent(b * S + s, s);
        const full = rowTimes(e.subarray(0, rkv), wkvb, H * (n + v));
        const key = new Float64Array(H * (n + rr));
        const value = new Float64Array(H * v);
        for (let h = 0; h < H; h++) {
          key.set(full.subarray(h * (n + v), h * (n + v) + n), h * (n + rr));
          key.set(e.subarray(rkv), h * (n + rr) + n);
          value.set(full.subarray(h * (n + v) + n, (h + 1) * (n + v)), h * v);
        }
        k.push(key);
        vals.push(value);
      }
      kv.set(b, { k, v: vals });
    }
    const { k, v: vals } = kv.get(b)!;
    for (let h = 0; h < H; h++) {
      const scores = k.slice(0, pos + 1).map((key) => {
        let s = 0;
        for (let i = 0; i < n + rr; i++) s += q[h * (n + rr) + i] * key[h * (n + rr) + i];
        return s * scale;
      });
      const max = Math.max(...scores);
      const w = scores.map((s) => Math.exp(s - max));
      const total = w.reduce((acc, e) => acc + e, 0);
      for (let p = 0; p <= pos; p++) for (let i = 0; i < v; i++) o[h * v + i] += (w[p] / total) * vals[p][h * v + i];
    }
  }
  return rowTimes(o, weights.get('wo'), d);
}

/** A prefill sequence's keys and values, per position, all heads side by side. */
type PrefixKv = { k: Float64Array[]; v: Float64Array[] };

/**
 * Float64 output rows of a case, given its inputs. `rows` are output row indices;
 * each row depends only on its own token, so a sample of rows is checked exactly.
 */
export function referenceRows(c: WorkloadCase, inputs: CaseInputs, weights: WeightStore, rows: number[]): Float64Array {
  const d = c.layer.hiddenSize;
  const out = new Float64Array(rows.length * d);
  const x = inputs.feeds.x.data;
  const kv = new Map<number, PrefixKv>();
  rows.forEach((r, i) => {
    const y = out.subarray(i * d, (i + 1) * d);
    const xr = x.subarray(r * d, (r + 1) * d);
    if (c.layer.kind === 'dense') {
      addSwiglu(weights, '', xr, 1, y);
      return;
    }
    if (c.layer.kind === 'attention') {
      y.set(c.layer.form === 'mla' ? mlaRow(c, c.layer, weights, x, r, kv) : attentionRow(c, c.layer, weights, x, r, kv));
      return;
    }
    if (c.layer.kind === 'matmul') {
      let v: ArrayLike<number> = xr;
      for (let k = 0; k < c.layer.depth; k++) {
        const w = weights.get(matmulWeightName(k));
        const next = new Float64Array(d);
        for (let i = 0; i < d; i++) {
          const vi = v[i];
          const row = i * d;
          for (let j = 0; j < d; j++) next[j] += vi * w[row + j];
        }
        v = next;
      }
      y.set(v);
      return;
    }
    const m = c.layer;
    if (c.expertsPerCard !== undefined) {
      const local = c.expertsPerCard;
      const w = inputs.feeds.route_weights.data.subarray(r * local, (r + 1) * local);
      for (let e = 0; e < local; e++) if (w[e] !== 0) addSwiglu(weights, expertPrefix(e), xr, w[e], y);
      return;
    }
    const bias = inputs.feeds.router_bias.data.subarray(r * m.numExperts, (r + 1) * m.numExperts);
    for (const { expert, weight } of routeToken(m, weights, xr, bias)) addSwiglu(weights, expertPrefix(expert), xr, weight, y);
    for (let s = 0; s < m.numSharedExperts; s++) addSwiglu(weights, sharedPrefix(s), xr, 1, y);
  });
  return out;
}

/** Output rows checked against the reference: all of them for small cases, an even sample for large ones. */
export function rowsToCheck(numRows: number, maxRows = 64): number[] {
  if (numRows <= maxRows) return Array.from({ length: numRows }, (_, i) => i);
  const step = (numRows - 1) / (maxRows - 1);
  return Array.from({ length: maxRows }, (_, i) => Math.round(i * step));
}

/** ‖actual − expected‖₂ / ‖expected‖₂ over the checked rows. */
export function relativeL2Error(actual: ArrayLike<number>, expected: Float64Array, rows: number[], d: number): number {
  let num = 0;
  let den = 0;
  rows.forEach((r, i) => {
    for (let j = 0; j < d; j++) {
      const e = expected[i * d + j];
      const diff = actual[r * d + j] - e;
      num += diff * diff;
      den += e * e;
    }
  });
  if (den === 0) return num === 0 ? 0 : Infinity;
  return Math.sqrt(num / den);
}

/**
 * Relative L2 error allowed against the float64 reference, per math mode. fp32: float32 storage and
 * accumulation. fp16: half storage of inputs, weights and intermediates. tf32: float32 storage and
 * accumulation, but each matmul's operands rounded to a 10-bit mantissa (unit roundoff 2^-11 ≈
 * 4.9e-4): a product of two rounded operands is off by about 0.8 × 2^-11 (rms) and, summed with
 * fp32 accumulation over any reduction length, the output keeps that relative error; three chained
 * matmuls (gate, up, down) give about √3 × 4e-4 ≈ 7e-4, so 2e-3 leaves a margin of about 3 while
 * still refusing what fp16 storage would do (1e-3 to 1e-2). fp32 math mistaken for TF32 (a few
 * 1e-4) fails the fp32 check. bf16: as fp16 with 8 significant bits for 11 (unit roundoff 2^-8 against
 * 2^-11, 8× coarser); torch-cpu measured 4e-3 (dense) to 1.4e-2 (MoE, whose gates are bf16 too) on
 * the tiny and small presets, so 4e-2 leaves a margin of about 3. fp8 (e4m3: 3 mantissa bits):
 * the weights and the layer's input are quantised on both sides, so the reference holds the same
 * numbers; what it does not share is the engine's quantisation of each intermediate (SwiGLU's
 * hidden activations, the probe's chained products), each value off by at most half a quantum,
 * 2^-4 relative, and by 2^-3/(2√3)·√½ ≈ 2.6e-2 rms over a binade. One such rounding gives an
 * output error of about 2.6e-2 (measured 2.5e-2 to 2.8e-2 by torch-cpu on tiny and small);
 * 0.1 stays above the worst case of one rounding (every value off by 2^-4 the same way, plus
 * bf16's 2^-8) and above √8 × 2.6e-2 ≈ 7e-2 for the roofline probe's eight chained roundings,
 * while a wrong layer errs by order 1.
 */
export const TOLERANCE: Record<Dtype, number> = { fp32: 1e-4, tf32: 2e-3, fp16: 1e-2, bf16: 4e-2, fp8: 0.1 };
