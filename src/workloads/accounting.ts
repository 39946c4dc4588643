import type { AttentionShape, MoeShape } from './presets.js';
import { assignExperts, expertHistogram, type Assignment } from './routing.js';
import { bytesPerElement, contextsOf, type WorkloadCase } from './spec.js';

/** Analytic work of one call, in the spirit of nvbench's add_element_count / add_global_memory_reads. */
export interface WorkAccounting {
  /**
   * Tokens this card completes per call. For an expert-parallel slice this is the
   * card's share of the global batch, numTokens × expertsPerCard / numExperts.
   */
  tokensPerCall: number;
  /** 2 × multiply-adds of the router, the routed experts actually hit and the shared experts. */
  flopsPerCall: number;
  /** Weights actually touched plus the graph's input and output activations. */
  bytesPerCall: number;
  flops: { router: number; routedExperts: number; sharedExperts: number; dense: number; attention?: number };
  bytes: { weights: number; activations: number; kvCache?: number };
  /** MoE only: tokens routed to each expert present on this card. */
  expertTokens?: number[];
  /** MoE slice only: tokens this card receives (routed to at least one local expert). */
  receivedTokens?: number;
}

/** FLOPs of one token through a SwiGLU FFN: three d×ff matmuls, 2 FLOPs per multiply-add. */
function swigluFlopsPerToken(hidden: number, intermediate: number): number {
  return 2 * 3 * hidden * intermediate;
}

export function routingOf(c: WorkloadCase): Assignment {
  const moe = c.layer as MoeShape;
  return assignExperts(c.routing ?? { kind: 'uniform' }, c.numTokens, moe.numExperts, moe.topK, c.seed);
}

/** Tokens that route to at least one expert below `localExperts`, in token order. */
export function receivedTokenIds(assignment: Assignment, localExperts: number): number[] {
  const ids: number[] = [];
  for (let t = 0; t < assignment.numTokens; t++) {
    const row = assignment.experts.subarray(t * assignment.topK, (t + 1) * assignment.topK);
    if (row.some((e) => e < localExperts)) ids.push(t);
  }
  return ids;
}

export function accountFor(c: WorkloadCase, assignment?: Assignment): WorkAccounting {
  const b = bytesPerElement(c.dtype);
  const T = c.numTokens;
  if (c.layer.kind === 'matmul') {
    // counted as dense FLOPs; each product reads its own weight and its input and writes its output
    const { hiddenSize: d, depth } = c.layer;
    const dense = depth * 2 * T * d * d;
    const weights = depth * d * d * b;
    const activations = depth * 2 * T * d * b;
    return {
      tokensPerCall: T,
      flopsPerCall: dense,
      bytesPerCall: weights + activations,
      flops: { router: 0, routedExperts: 0, sharedExperts: 0, dense },
      bytes: { weights, activations },
    };
  }
  if (c.layer.kind === 'attention') return attentionWork(c, c.layer, b);
  if (c.layer.kind === 'dense') {
    const { hiddenSize: d, intermediateSize: ff } = c.layer;
    const dense = T * swigluFlopsPerToken(d, ff);
    const weights = 3 * d * ff * b;
    const activations = 2 * T * d * b;
    return {
      tokensPerCall: T,
      flopsPerCall: dense,
      bytesPerCall: weights + activations,
      flops: { router: 0, routedExperts: 0, sharedExperts: 0, dense },
      bytes: { weights, activations },
    };
  }
  const m = c.layer;
  const d = m.hiddenSize;
  const expertWeightBytes = 3 * d * m.expertIntermediateSize * b;
  const histogram = expertHistogram(assignment ?? routingOf(c), m.numExperts);
  const impl = c.moeImpl ?? 'routed';

  if (c.expertsPerCard !== undefined) {
    const local = c.expertsPerCard;
    const received = receivedTokenIds(assignment ?? routingOf(c), local).length;
    const localCounts = histogram.slice(0, local);
    const routedTokens = impl === 'dense-all' ? local * received : sum(localCounts);
    const expertsTouched = impl === 'dense-all' ? (received > 0 ? local : 0) : localCounts.filter((n) => n > 0).length;
    const routedExperts = routedTokens * swigluFlopsPerToken(d, m.expertIntermediateSize);
    const weights = expertsTouched * expertWeightBytes;
    // received activations in, per-expert gate weights in, combined outputs back
    const activations = (2 * received * d + received * local) * b;
    return {
      tokensPerCall: (T * local) / m.numExperts,
      flopsPerCall: routedExperts,
      bytesPerCall: weights + activations,
      flops: { router: 0, routedExperts, sharedExperts: 0, dense: 0 },
      bytes: { weights, activations },
      expertTokens: localCounts,
      receivedTokens: received,
    };
  }

  const router = 2 * T * d * m.numExperts;
  const routedTokens = impl === 'dense-all' ? m.numExperts * T : T * m.topK;
  const expertsTouched = impl === 'dense-all' ? m.numExperts : histogram.filter((n) => n > 0).length;
  const routedExperts = routedTokens * swigluFlopsPerToken(d, m.expertIntermediateSize);
  const sharedExperts = m.numSharedExperts * T * swigluFlopsPerToken(d, m.sharedIntermediateSize);
  const weights = (d * m.numExperts + expertsTouched * 3 * d * m.expertIntermediateSize + m.numSharedExperts * 3 * d * m.sharedIntermediateSize) * b;
  // x and the routing bias in, y out
  const activations = (2 * T * d + T * m.numExperts) * b;
  return {
    tokensPerCall: T,
    flopsPerCall: router + routedExperts + sharedExperts,
    bytesPerCall: weights + activations,
    flops: { router, routedExperts, sharedExperts, dense: 0 },
    bytes: { weights, activations },
    expertTokens: histogram,
  };
}

/**
 * Attention: the q, k, v and output projections of every token, then QKᵀ and PV (hd multiply-adds
 * per query head and key each): in decode each query over its cache and itself, in prefill over
 * the causal half of its sequence (S(S+1)/2 pairs, the work the layer needs, whatever a
 * formulation computes and masks). Softmax, masking and the rotary embedding are a few FLOPs per
 * score or element and left out. Bytes: the projection weights, the KV cache decode reads (the
 * term that grows with context), and x in and y out.
 */
function attentionWork(c: WorkloadCase, a: AttentionShape, b: number): WorkAccounting {
  const T = c.numTokens;
  const decode = c.phase === 'decode';
  const cached = decode ? sum(contextsOf(c)) : 0;
  const pairs = decode ? cached + T : (c.batch * c.seqLen * (c.seqLen + 1)) / 2;
  let projectionParams: number;
  /** Multiply-adds per query-key pair, all heads: the score and the value's share. */
  let macsPerPair: number;
  /** Values the decode cache holds per cached token. */
  let kvCachePerToken: number;
  const d = a.hiddenSize;
  const H = a.numHeads;
  if (a.form === 'mla') {
    const { qLoraRank: rq, kvLoraRank: rkv, qkNopeHeadDim: n, qkRopeHeadDim: r, vHeadDim: v } = a;
    projectionParams = d * rq + rq * H * (n + r) + d * (rkv + r) + rkv * H * (n + v) + H * v * d;
    // prefill decompresses each token's keys and values (wkv_b) and attends per head over n + r and v;
    // decode absorbs wkv_b into the query and the output (H·n·rkv + H·rkv·v per token, the same weights)
    // and attends over the cache's rkv + r latent and rotary key, reading the rkv latent again as values
    macsPerPair = decode ? H * (rkv + r + rkv) : H * (n + r + v);
    kvCachePerToken = rkv + r;
  } else {
    const { numKvHeads: K, headDim: hd } = a;
    projectionParams = d * (H + 2 * K) * hd + H * hd * d;
    macsPerPair = H * 2 * hd;
    kvCachePerToken = K * hd * 2;
  }
  const attention = 2 * T * projectionParams + 2 * macsPerPair * pairs;
  const weights = projectionParams * b;
  const kvCache = cached * kvCachePerToken * b;
  const activations = 2 * T * d * b;
  return {
    tokensPerCall: T,
    flopsPerCall: attention,
    bytesPerCall: weights + kvCache + activations,
    flops: { router: 0, routedExperts: 0, sharedExperts: 0, dense: 0, attention },
    bytes: { weights, activations, kvCache },
  };
}

function sum(xs: number[]): number {
  return xs.reduce((a, x) => a + x, 0);
}

/**
 * Bytes that working out a case's plan allocates before anything runs: its routing (an expert id
 * and a gate weight per token and choice) and a count per expert. Computed from shapes only, so a
 * plan can be refused before an absurd --tokens or --experts exhausts the heap.
 */
export function planningBytes(c: WorkloadCase): number {
  if (c.layer.kind !== 'moe') return 0;
  return c.numTokens * c.layer.topK * 8 + c.layer.numExperts * 16;
}

/**
 * Bytes a case process holds at once, at least: every weight of the model it builds (all its
 * experts, not only those a call touches), its input and output activations and its routing.
 */
export function footprintBytes(c: WorkloadCase): number {
  const b = bytesPerElement(c.dtype);
  const d = c.layer.hiddenSize;
  const activations = 2 * c.numTokens * d * b;
  if (c.layer.kind === 'dense') return 3 * d * c.layer.intermediateSize * b + activations;
  if (c.layer.kind === 'matmul') return c.layer.depth * d * d * b + activations;
  if (c.layer.kind === 'attention') {
    const w = attentionWork(c, c.layer, b);
    // the cache, a causal mask of S² and the S×S scores of every head in prefill
    const maskRows = c.layer.form === 'mla' ? 1 : c.layer.numHeads / c.layer.numKvHeads;
    const scores = c.phase === 'prefill' ? (c.batch * c.layer.numHeads + maskRows) * c.seqLen * c.seqLen * b : 0;
    return w.bytes.weights + (w.bytes.kvCache ?? 0) + activations + scores;
  }
  const m = c.layer;
  const experts = c.expertsPerCard ?? m.numExperts;
  const weights = (d * m.numExperts + experts * 3 * d * m.expertIntermediateSize + m.numSharedExperts * 3 * d * m.sharedIntermediateSize) * b;
  return weights + activations + c.numTokens * m.numExperts * b + planningBytes(c);
}
