import { UsageError } from '../errors.js';
import { peakKind, type CardPeak } from '../env/datasheets.js';
import { modelPreset } from '../workloads/presets.js';
import { fmt } from '../text/table.js';
import { bytesPerElement, type Dtype, type Phase } from '../workloads/spec.js';
import type { Layout } from './compose.js';
import { linkFor } from './link.js';

/** The math modes a bound can be had at: the measured ones, and FP8 (what DeepSeek-V3 is served in). */
export type BoundMode = Dtype | 'fp8';

export interface PhaseBound {
  phase: Phase;
  mode: BoundMode;
  /** Per card, at any batch: no measurement can exceed it. */
  tokensPerSecPerCard: number;
  limitedBy: 'compute' | 'memory' | 'link';
  /** Time one token costs a card in each resource, ms; the bound is 1 / the largest. */
  perTokenMs: { compute: number; memory: number; link: number };
  /** The figures it rests on. */
  source: string;
}

/**
 * A physics upper bound on a model's per-card throughput, from the datasheet alone: at an
 * unbounded batch the weights' reads amortise to nothing, so what each token still costs a card is
 * its FLOPs at the card's peak for the mode, its KV-cache reads (decode) at the memory bandwidth,
 * and its expert-parallel all-to-all bytes at the link's bandwidth. Those can overlap, so the bound
 * is 1 / the largest of the three, not of their sum: a real system is slower, never faster.
 *   FLOPs per token = 2 × active parameters + layers × attention FLOPs per token per context token
 *     × context (decode: the whole context; prefill: half the prompt on average, causal);
 *   memory bytes per token = layers × KV bytes per token per layer × context (decode); the KV
 *     write only in prefill;
 *   link bytes per token = MoE layers × k × hidden × bytes × 2 (dispatch and combine) × (ep − 1)/ep.
 * Per card, since an instance of N cards does N cards' work: the layout changes only the link term.
 */
export function rooflineBound(
  model: string,
  peak: CardPeak,
  layout: Layout,
  mode: BoundMode,
  o: { contextTokens: number; linkGBps?: number },
): { prefill: PhaseBound; decode: PhaseBound } {
  const preset = modelPreset(model);
  const tflops = peak.tflops[mode];
  if (!tflops) throw new UsageError(`${peak.name} has no ${peakKind(peak)} ${mode} peak (${peak.source}): no ${mode} roofline bound for it`);
  const m = preset.model;
  const a = m.attention;
  const layers = m.numDenseLayers + m.numMoeLayers;
  const moe = preset.moe;
  const link = linkFor(layout, o.linkGBps);
  const linkBytes = moe && layout.ep > 1 ? m.numMoeLayers * moe.topK * moe.hiddenSize * bytesPerElement(mode) * 2 * ((layout.ep - 1) / layout.ep) : 0;
  // a datasheet's figure as printed there; a measured one to the digits it holds
  const figure = (x: number) => (peak.measured ? fmt(x, 3) : String(x));
  const bound = (phase: Phase): PhaseBound => {
    const context = phase === 'decode' ? o.contextTokens : o.contextTokens / 2;
    const flops = 2 * m.activeParams + layers * a.flopsPerTokenPerContextPerLayer * context;
    const memoryBytes = layers * a.kvBytesPerTokenPerLayer * (phase === 'decode' ? o.contextTokens : 1);
    const perTokenMs = {
      compute: (flops / (tflops * 1e12)) * 1000,
      memory: (memoryBytes / (peak.memoryBandwidthTBps * 1e12)) * 1000,
      link: linkBytes ? (linkBytes / (link.gbytesPerSec * 1e9)) * 1000 : 0,
    };
    const limitedBy = (Object.keys(perTokenMs) as (keyof typeof perTokenMs)[]).reduce((x, y) => (perTokenMs[y] > perTokenMs[x] ? y : x));
    return {
      phase,
      mode,
      tokensPerSecPerCard: 1000 / perTokenMs[limitedBy],
      limitedBy,
      perTokenMs,
      source: `${peak.name} ${peakKind(peak)} (${figure(tflops)} TFLOP/s ${mode}, ${figure(peak.memoryBandwidthTBps)} TB/s); ${(flops / 1e9).toPrecision(4)} GFLOP and ${(memoryBytes / 1e6).toPrecision(3)} MB of KV reads per token at ${context} tokens of context${linkBytes ? `; ${(linkBytes / 1e6).toPrecision(3)} MB of all-to-all per token at ${link.gbytesPerSec} GB/s (${link.source})` : ''}`,
    };
  };
  return { prefill: bound('prefill'), decode: bound('decode') };
}
