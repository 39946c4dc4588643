import { UsageError } from '../errors.js';
import { linkFor } from './link.js';
import { deviceOnHostCpu } from '../env/cards.js';
import { cardPeakByName, findCardPeak, rooflineTimes, type CardPeak } from '../env/datasheets.js';
import { ceilingsOf, type Ceiling } from '../results/ceilings.js';
import { fmt } from '../text/table.js';
import type { CaseResult, ResultFile } from '../results/schema.js';
import { fitSweeps } from '../measure/sweep.js';
import { accountFor } from '../workloads/accounting.js';
import { modelPreset, type ModelPreset, type MoeShape } from '../workloads/presets.js';
import { bytesPerElement, caseId, DTYPES, type Dtype, type Phase, type WorkloadCase } from '../workloads/spec.js';

/**
 * What composition reads of a result file (or of a run inside a collection), or of several runs of
 * one card pooled: then `caseSources` names each case's own file, so every term still names it.
 */
export type MeasuredRun = Pick<ResultFile, 'environment' | 'cases'> & { caseSources?: ReadonlyMap<CaseResult, string> };

export interface Layout {
  /** Expert parallelism: the cards one serving instance spreads the experts over. */
  ep: number;
  /** Tensor parallelism; only 1 is modelled. */
  tp: number;
}

export function parseLayout(text: string): Layout {
  const layout: Layout = { ep: 1, tp: 1 };
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^(ep|tp)=(\d+)$/.exec(part);
    if (!m || Number(m[2]) < 1) throw new UsageError(`--layout "${text}": use e.g. ep=32,tp=1`);
    layout[m[1] as 'ep' | 'tp'] = Number(m[2]);
  }
  if (layout.tp !== 1)
    throw new UsageError(`--layout tp=${layout.tp}: tensor parallelism is not modelled yet (its all-reduce would be guessed); use tp=1`);
  return layout;
}

export interface ComposeOptions {
  model: string;
  layout: Layout;
  /** Tokens of context each decoded token attends over (prefill attends over half its chunk on average). */
  contextTokens: number;
  /** Expert-parallel all-to-all bandwidth per card, GB/s; default: the published measurement for the layout (link.ts). */
  linkGBps?: number;
  /** The card to size for; default: the card the file was measured on. */
  card?: string;
  /**
   * Compose decode alone, prefill left to the scenario's assumption: files that measured decode
   * (what most of a fleet's cards serve) and no prefill MoE case yet, as the first H200 sitting's.
   */
  decodeOnly?: boolean;
}

export const COMPOSE_DEFAULTS = { contextTokens: 4096 } as const;

/** Where a term's time comes from; never mixed silently. */
export type TermKind = 'measured' | 'interpolated' | 'extrapolated' | 'estimated';

export interface Term {
  name: 'moe' | 'router+shared' | 'dense' | 'attention' | 'all-to-all';
  layers: number;
  perLayerMs: number;
  totalMs: number;
  kind: TermKind;
  /** File, case id, card, backend and dtype for measured terms; the formula for the others. */
  source: string;
}

export interface PhaseComposition {
  phase: Phase;
  /** The math mode of its measured terms. */
  dtype: Dtype;
  /** Tokens one card completes per step: its share of the instance's batch. */
  tokensPerStepPerCard: number;
  terms: Term[];
  stepMs: number;
  tokensPerSecPerCard: number;
}

export interface Composition {
  file: string;
  card: string;
  peak: CardPeak;
  model: string;
  layout: Layout;
  memory: { weightsGiBPerCard: number; cardGiB: number };
  /** Absent with decodeOnly: the scenario's assumed prefill figure stands. */
  prefill?: PhaseComposition;
  decode: PhaseComposition;
  /** The math modes measured: what a roofline bound beside it is computed at, with FP8. */
  dtypes: Dtype[];
}

/**
 * The card a case ran on: its GPU in the environment, else (a stand-in's scripted card) its
 * roofline card, but never for a CPU engine: a roofline label given with --card to CPU timings
 * (files before 1.4 allowed it) does not make them that card's.
 */
export function measuredCard(file: MeasuredRun, c: CaseResult): CardPeak | undefined {
  // the host CPU, or a software WebGPU adapter on it
  if (deviceOnHostCpu(c.device)) return ceilingPeak(file, c, file.environment.memoryBytes / 1024 ** 3);
  const m = /^gpu:(\d+)/.exec(c.device);
  const gpu = m ? file.environment.gpus.find((g) => g.index === Number(m[1])) : undefined;
  if (gpu) return findCardPeak(gpu.name) ?? ceilingPeak(file, c, (gpu.memoryTotalMiB ?? 0) / 1024);
  return (c.roofline ? cardPeakByName(c.roofline.card) : undefined) ?? ceilingPeak(file, c, file.environment.memoryBytes / 1024 ** 3);
}

/**
 * A device without a datasheet row, as its engine's measured ceilings (the run's roofline probes on
 * the same device and engine): enough to size that device for itself, labelled as measured.
 */
function ceilingPeak(file: MeasuredRun, c: CaseResult, memoryGiB: number): CardPeak | undefined {
  const g = ceilingsOf(file.cases, c);
  const modes = DTYPES.filter((d) => g?.gflopsPerSec[d]);
  if (!g?.gbytesPerSec || modes.length === 0) return undefined;
  const noisy = (x: Ceiling) => (x.status === 'noisy' ? ', noisy' : '');
  const tflops: CardPeak['tflops'] = {};
  for (const d of modes) tflops[d] = g.gflopsPerSec[d]!.value / 1000;
  return {
    name: `${c.device} · ${c.backend} (measured ceilings)`,
    match: /(?!)/,
    tflops,
    memoryBandwidthTBps: g.gbytesPerSec.value / 1000,
    memoryGiB,
    source: `measured by the roofline probes ${modes.map((d) => `${g.gflopsPerSec[d]!.caseId} (${fmt(g.gflopsPerSec[d]!.value)} GFLOP/s${noisy(g.gflopsPerSec[d]!)})`).join(', ')} and ${g.gbytesPerSec.caseId} (${fmt(g.gbytesPerSec.value)} GB/s${noisy(g.gbytesPerSec)})`,
    measured: true,
  };
}

/**
 * Scaling a time measured on one card to another rests on both cards' datasheet rows; a device known
 * only by its measured ceilings is sized for itself, never scaled to or from, and a CPU never to a GPU.
 */
function refuseScaling(from: CardPeak, to: CardPeak, what: string): void {
  if (!from.measured && !to.measured) return;
  // a measured peak's name begins with its device
  const cpu = deviceOnHostCpu(from.name) && !deviceOnHostCpu(to.name);
  throw new UsageError(
    cpu
      ? `${what} was measured on the CPU (${from.name}); a CPU measurement is never scaled to a GPU (${to.name}): measure it on the ${to.name}`
      : `${what} was measured on the ${from.name} and would be scaled to the ${to.name}, but ${from.measured ? from.name : to.name} has no datasheet row (only measured ceilings): scaling between cards needs both cards' datasheet peaks; size it on the card it ran on (leave out --card) or measure it on the ${to.name}`,
  );
}

const usable = (c: CaseResult) => (c.status === 'ok' || c.status === 'noisy') && c.summary !== undefined;
/** A case as a term's source: its file, id, card, backend and dtype. */
const describe = (sources: Sources, c: CaseResult, card: string) => `${sources.of(c)} ${c.id} on ${card} (${c.backend}, ${c.workload.dtype})`;

/** Each case's file: its own where runs of one card were pooled, else the one file's. */
interface Sources {
  of: (c: CaseResult) => string;
}
const sourcesOf = (caseSources: MeasuredRun['caseSources'], path: string): Sources => ({ of: (c) => caseSources?.get(c) ?? path });

/** Expert weights live on their card only; everything else is replicated on each card of the instance. */
export function weightsPerCardBytes(preset: ModelPreset, ep: number): number {
  const m = preset.moe;
  const expertParams = m ? preset.model.numMoeLayers * m.numExperts * 3 * m.hiddenSize * m.expertIntermediateSize : 0;
  return (expertParams / ep + (preset.model.totalParams - expertParams)) * preset.model.deployedWeightBytes;
}

/** A measured case's share of its card's roofline: its floor there over its median time. */
function achievedFraction(card: CardPeak, c: CaseResult): number {
  return rooflineMs(card, c.workload.dtype, c.work.flopsPerCall, c.work.bytesPerCall) / c.summary!.medianMs;
}

function rooflineMs(peak: CardPeak, dtype: Dtype, flops: number, bytes: number): number {
  return rooflineTimes(peak, dtype, flops, bytes).floorMs;
}

/**
 * A model's time per step on one card, from measured layer cases:
 *   step = MoE layers × MoE-slice time + dense layers × dense time
 *        + all layers × attention (roofline estimate) + MoE layers × all-to-all bytes / link bandwidth,
 * and tokens/sec per card = tokens per step per card / step time. Pure: the file is already read.
 */
export function compose(file: MeasuredRun, path: string, o: ComposeOptions): Composition {
  const preset = modelPreset(o.model);
  const moe = preset.moe;
  if (moe && moe.numExperts % o.layout.ep !== 0)
    throw new UsageError(`--layout ep=${o.layout.ep} must divide ${o.model}'s ${moe.numExperts} experts`);
  if (!moe && o.layout.ep !== 1) throw new UsageError(`${o.model} has no experts: use --layout ep=1`);

  const anyCase = file.cases.find(usable);
  if (!anyCase) throw new UsageError(`${path}: no measured case (ok or noisy) to size from`);
  const fileCard = measuredCard(file, anyCase);
  const peak = o.card ? cardPeakByName(o.card) : fileCard;
  if (!peak) {
    throw new UsageError(
      o.card
        ? `unknown card "${o.card}": see src/env/datasheets.ts for the cards with datasheet peaks`
        : `${path}: measured on ${anyCase.device}, which has no datasheet peaks and no roofline probes in the files given; attention and any scaling need a card's ceilings${deviceOnHostCpu(anyCase.device) ? '' : ' (or name a card with datasheet peaks with --card)'}: run moebench run --suite roofline --backend ${anyCase.backend}`,
    );
  }
  const weightsGiBPerCard = weightsPerCardBytes(preset, o.layout.ep) / 1024 ** 3;
  if (weightsGiBPerCard > peak.memoryGiB) {
    throw new UsageError(
      `layout ep=${o.layout.ep} does not fit: ${o.model}'s weights need ${weightsGiBPerCard.toFixed(1)} GiB per card (${preset.model.deployedWeightBytes} byte(s) per weight), the ${peak.name} has ${peak.memoryGiB} GiB`,
    );
  }
  const prefill = o.decodeOnly ? undefined : composePhase(file, path, o, preset, peak, 'prefill');
  const decode = composePhase(file, path, o, preset, peak, 'decode');
  return {
    file: path,
    card: peak.name,
    peak,
    model: o.model,
    layout: o.layout,
    memory: { weightsGiBPerCard, cardGiB: peak.memoryGiB },
    ...(prefill ? { prefill } : {}),
    decode,
    dtypes: [...new Set([...(prefill ? [prefill.dtype] : []), decode.dtype])],
  };
}

function composePhase(file: MeasuredRun, path: string, o: ComposeOptions, preset: ModelPreset, peak: CardPeak, p: Phase): PhaseComposition {
  const sources = sourcesOf(file.caseSources, path);
  const moe = preset.moe;
  const slice = moe ? moe.numExperts / o.layout.ep : undefined;
  const terms: Term[] = [];
  const cases = file.cases.filter((c) => usable(c) && c.workload.phase === p);
  let tokensPerCard: number;
  let dtype: Dtype;
  /** Tokens in one prompt (prefill's sequence length). */
  let promptTokens: number;

  if (moe) {
    const wantSlice = o.layout.ep > 1 ? slice : undefined;
    // what serving runs: routed experts (dense-all computes every expert for every token) under uniform
    // routing unless only another was measured, then the most tokens; its id names formulation and routing
    const served = (c: CaseResult) => [
      c.workload.moeImpl === 'dense-all' ? 1 : 0,
      c.workload.routing?.kind === 'uniform' ? 0 : 1,
      -c.workload.numTokens,
    ];
    const exact = cases
      .filter((c) => c.workload.preset === o.model && c.workload.layer.kind === 'moe' && c.workload.expertsPerCard === wantSlice)
      .sort((a, b) => {
        const [x, y] = [served(a), served(b)];
        return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
      })[0];
    const sameCard = (c: CaseResult) => measuredCard(file, c)?.name === peak.name;
    // the MoE case's achieved share of its card's roofline, and the case: what the slice's router and shared experts are scaled by
    let moeFraction: { fraction: number; of: string };
    if (exact && sameCard(exact)) {
      tokensPerCard = exact.work.tokensPerCall;
      dtype = exact.workload.dtype;
      promptTokens = exact.workload.seqLen;
      moeFraction = {
        fraction: achievedFraction(peak, exact),
        of: describe(sources, exact, peak.name),
      };
      terms.push({
        name: 'moe',
        layers: preset.model.numMoeLayers,
        perLayerMs: exact.summary!.medianMs,
        totalMs: 0,
        kind: 'measured',
        source: describe(sources, exact, peak.name),
      });
    } else {
      // scale by the datasheet roofline: the measured case's achieved fraction applied to the target's floor
      const basis = (exact ? [exact] : cases.filter((c) => c.workload.layer.kind === 'moe')).find((c) => measuredCard(file, c) && c.summary);
      if (!basis) {
        throw new UsageError(
          `${path}: no ${p} MoE case of ${o.model}${wantSlice ? ` with --experts-per-card ${wantSlice}` : ''} measured on the ${peak.name}, and none on a card with datasheet peaks to scale from${p === 'prefill' ? " (or size from the files' decode alone with --decode-only)" : ''}: run moebench run --preset ${o.model} --layer moe --phase ${p}${wantSlice ? ` --experts-per-card ${wantSlice}` : ''}`,
        );
      }
      const basisCard = measuredCard(file, basis)!;
      refuseScaling(basisCard, peak, `${describe(sources, basis, basisCard.name)}`);
      const fraction = achievedFraction(basisCard, basis);
      dtype = basis.workload.dtype;
      tokensPerCard = basis.work.tokensPerCall;
      const numTokens = wantSlice ? Math.round((tokensPerCard * moe.numExperts) / wantSlice) : tokensPerCard;
      promptTokens = p === 'prefill' ? numTokens : 1;
      const target = targetCase(o.model, moe, p, numTokens, dtype, wantSlice, basis.workload.routing);
      const w = accountFor(target);
      const perLayerMs = rooflineMs(peak, dtype, w.flopsPerCall, w.bytesPerCall) / fraction;
      moeFraction = { fraction, of: describe(sources, basis, basisCard.name) };
      terms.push({
        name: 'moe',
        layers: preset.model.numMoeLayers,
        perLayerMs,
        totalMs: 0,
        kind: 'extrapolated',
        source: `${target.id} on ${peak.name}: its roofline floor / ${(fraction * 100).toFixed(1)}%, the roofline fraction of ${describe(sources, basis, basisCard.name)}`,
      });
    }
    if (wantSlice) {
      // an expert-parallel slice runs only its routed experts; each card also routes its tokens and
      // runs the shared experts on them, which no slice case measures: the MoE case's achieved
      // roofline fraction applied to their floor
      const d = moe.hiddenSize;
      const b = bytesPerElement(dtype);
      const flops = 2 * tokensPerCard * d * moe.numExperts + moe.numSharedExperts * 6 * tokensPerCard * d * moe.sharedIntermediateSize;
      const bytes = (d * moe.numExperts + moe.numSharedExperts * 3 * d * moe.sharedIntermediateSize) * b + 2 * tokensPerCard * d * b;
      terms.push({
        name: 'router+shared',
        layers: preset.model.numMoeLayers,
        perLayerMs: rooflineMs(peak, dtype, flops, bytes) / moeFraction.fraction,
        totalMs: 0,
        kind: 'extrapolated',
        source: `router over ${moe.numExperts} experts and ${moe.numSharedExperts} shared expert(s) for ${tokensPerCard} tokens on ${peak.name}: their roofline floor (${(flops / 1e9).toPrecision(3)} GFLOP, ${(bytes / 1e6).toPrecision(3)} MB) / ${(moeFraction.fraction * 100).toFixed(1)}%, the roofline fraction of ${moeFraction.of}`,
      });
    }
  } else {
    const dense = cases
      .filter((c) => c.workload.preset === o.model && c.workload.layer.kind === 'dense')
      .sort((a, b) => b.workload.numTokens - a.workload.numTokens)[0];
    if (!dense) throw new UsageError(`${path}: no ${p} dense case of ${o.model}: run moebench run --preset ${o.model} --layer dense --phase ${p}`);
    tokensPerCard = dense.workload.numTokens;
    dtype = dense.workload.dtype;
    promptTokens = dense.workload.seqLen;
  }

  if (preset.model.numDenseLayers > 0) {
    // the same workload key as the MoE term: preset, layer, phase and math mode
    const candidates = cases.filter((c) => c.workload.preset === o.model && c.workload.layer.kind === 'dense' && c.workload.dtype === dtype);
    const dense = [...candidates].sort((a, b) => Math.abs(a.workload.numTokens - tokensPerCard) - Math.abs(b.workload.numTokens - tokensPerCard))[0];
    if (!dense)
      throw new UsageError(
        `${path}: no ${p} ${dtype} dense case of ${o.model} (it has ${preset.model.numDenseLayers} dense layers): run moebench run --preset ${o.model} --layer dense --phase ${p} --dtype ${dtype} --tokens ${tokensPerCard}`,
      );
    const denseCard = measuredCard(file, dense);
    if (!denseCard) {
      throw new UsageError(
        `${path}: its ${p} dense case ${dense.id} ran on ${dense.device}, not a card with datasheet peaks, so it can be neither the ${peak.name}'s time nor scaled to it: run moebench run --preset ${o.model} --layer dense --phase ${p} on the ${peak.name}`,
      );
    }
    if (denseCard.name === peak.name) {
      const onCard = candidates.filter((c) => measuredCard(file, c)?.name === peak.name);
      terms.push({ name: 'dense', layers: preset.model.numDenseLayers, totalMs: 0, ...denseAt(tokensPerCard, onCard, path, peak, file.caseSources) });
    } else {
      // another card's dense layer: its achieved roofline fraction applied to the target card's floor
      refuseScaling(denseCard, peak, describe(sources, dense, denseCard.name));
      const fraction = achievedFraction(denseCard, dense);
      const target = accountFor(denseTarget(dense, tokensPerCard));
      terms.push({
        name: 'dense',
        layers: preset.model.numDenseLayers,
        perLayerMs: rooflineMs(peak, dense.workload.dtype, target.flopsPerCall, target.bytesPerCall) / fraction,
        totalMs: 0,
        kind: 'extrapolated',
        source: `${dense.id} at ${tokensPerCard} tokens on ${peak.name}: its roofline floor / ${(fraction * 100).toFixed(1)}%, the roofline fraction of ${describe(sources, dense, denseCard.name)}`,
      });
    }
  }

  const layers = preset.model.numDenseLayers + preset.model.numMoeLayers;
  const measuredAttention = attentionMeasured(file, sources, o, preset, peak, p, dtype, tokensPerCard, promptTokens);
  terms.push({
    name: 'attention',
    layers,
    totalMs: 0,
    ...(measuredAttention && 'perLayerMs' in measuredAttention
      ? measuredAttention
      : attentionEstimate(preset, peak, p, dtype, tokensPerCard, promptTokens, o.contextTokens, measuredAttention?.missing)),
  });

  if (moe && o.layout.ep > 1) {
    const link = linkFor(o.layout, o.linkGBps);
    // dispatch each token to its k experts and combine k results back; (ep − 1)/ep of them leave the card
    const bytes = tokensPerCard * moe.topK * moe.hiddenSize * bytesPerElement(dtype) * 2 * ((o.layout.ep - 1) / o.layout.ep);
    terms.push({
      name: 'all-to-all',
      layers: preset.model.numMoeLayers,
      perLayerMs: (bytes / (link.gbytesPerSec * 1e9)) * 1000,
      totalMs: 0,
      kind: 'estimated',
      source: `${(bytes / 1e6).toPrecision(3)} MB per layer / ${link.gbytesPerSec} GB/s (${link.source})`,
    });
  }
  for (const t of terms) t.totalMs = t.perLayerMs * t.layers;
  const stepMs = terms.reduce((s, t) => s + t.totalMs, 0);
  return { phase: p, dtype, tokensPerStepPerCard: tokensPerCard, terms, stepMs, tokensPerSecPerCard: tokensPerCard / (stepMs / 1000) };
}

/** The attention term from its roofline, labelled estimated, saying what would measure it. */
function attentionEstimate(
  preset: ModelPreset,
  peak: CardPeak,
  p: Phase,
  dtype: Dtype,
  tokensPerCard: number,
  promptTokens: number,
  contextTokens: number,
  missing = 'no attention benchmark of this model yet',
): Pick<Term, 'perLayerMs' | 'kind' | 'source'> {
  const a = preset.model.attention;
  // prefill attends, on average, over half its prompt: the measured prefill case's sequence length, not the card's token share
  const context = p === 'decode' ? contextTokens : promptTokens / 2;
  const attnFlops = tokensPerCard * (2 * a.paramsPerLayer + a.flopsPerTokenPerContextPerLayer * context);
  const attnBytes =
    a.paramsPerLayer * bytesPerElement(dtype) + (p === 'decode' ? tokensPerCard * contextTokens : tokensPerCard) * a.kvBytesPerTokenPerLayer;
  return {
    perLayerMs: rooflineMs(peak, dtype, attnFlops, attnBytes),
    kind: 'estimated',
    source: `roofline of ${peak.name} (${dtype}): ${(attnFlops / 1e9).toPrecision(3)} GFLOP, ${(attnBytes / 1e6).toPrecision(3)} MB per layer at ${p === 'decode' ? `${contextTokens} tokens of context` : `${tokensPerCard}-token chunks of ${promptTokens}-token prompts (${context} tokens of context on average)`} (${missing})`,
  };
}

/**
 * The attention term from measured attention cases of the model on the sized card, in the phase's
 * math mode: in decode, cases of the card's batch (`tokensPerCard` queries) at the step's context,
 * interpolated linearly between measured contexts (decode attention's time grows linearly with the
 * cache it reads) and, beyond them, the nearest scaled by the ratio of its roofline floors at the
 * two contexts; in prefill, cases of prompts as long as the MoE case's, their time per token times
 * the card's tokens (prompts are independent). Without such cases: what to run, for the estimate's label.
 */
function attentionMeasured(
  file: MeasuredRun,
  sources: Sources,
  o: ComposeOptions,
  preset: ModelPreset,
  peak: CardPeak,
  p: Phase,
  dtype: Dtype,
  tokensPerCard: number,
  promptTokens: number,
): Pick<Term, 'perLayerMs' | 'kind' | 'source'> | { missing: string } | undefined {
  if (!preset.attention) return undefined;
  const ofKey = file.cases.filter(
    (c) =>
      usable(c) &&
      c.workload.preset === o.model &&
      c.workload.layer.kind === 'attention' &&
      c.workload.contextSpread === undefined &&
      c.workload.phase === p &&
      c.workload.dtype === dtype &&
      measuredCard(file, c)?.name === peak.name,
  );
  // one formulation, never mixed across contexts: the fused op where it was measured (what a serving engine runs), else standard
  const fused = ofKey.filter((c) => c.workload.attnImpl === 'fused');
  if (fused.length) ofKey.splice(0, ofKey.length, ...fused);
  const run = `moebench run --preset ${o.model} --layer attention --phase ${p} --dtype ${dtype}`;
  if (p === 'prefill') {
    const c = ofKey.filter((k) => k.workload.seqLen === promptTokens).sort((x, y) => y.workload.numTokens - x.workload.numTokens)[0];
    if (!c)
      return {
        missing: `no prefill attention case of ${promptTokens}-token prompts measured on the ${peak.name}: run ${run} --tokens ${promptTokens}`,
      };
    const scale = tokensPerCard / c.workload.numTokens;
    return {
      perLayerMs: c.summary!.medianMs * scale,
      kind: 'measured',
      source: `${describe(sources, c, peak.name)}${scale === 1 ? '' : ` × ${tokensPerCard}/${c.workload.numTokens} tokens (its time per token, for the card's share)`}`,
    };
  }
  const context = o.contextTokens;
  const byContext = ofKey.filter((k) => k.workload.numTokens === tokensPerCard).sort((x, y) => x.workload.context! - y.workload.context!);
  if (byContext.length === 0)
    return {
      missing: `no decode attention case of ${tokensPerCard} queries measured on the ${peak.name}: run ${run} --tokens ${tokensPerCard} --context ${context}`,
    };
  const exact = byContext.find((k) => k.workload.context === context);
  if (exact) return { perLayerMs: exact.summary!.medianMs, kind: 'measured', source: describe(sources, exact, peak.name) };
  const below = byContext.filter((k) => k.workload.context! < context).pop();
  const above = byContext.find((k) => k.workload.context! > context);
  if (below && above) {
    const [l0, l1] = [below.workload.context!, above.workload.context!];
    const [m0, m1] = [below.summary!.medianMs, above.summary!.medianMs];
    return {
      perLayerMs: m0 + ((m1 - m0) * (context - l0)) / (l1 - l0),
      kind: 'interpolated',
      source: `${context} tokens of context between ${describe(sources, below, peak.name)} and ${above.id}`,
    };
  }
  const nearest = (below ?? above)!;
  const floor = (ctx: number) => {
    const w = accountFor({ ...nearest.workload, context: ctx, id: nearest.id });
    return rooflineMs(peak, dtype, w.flopsPerCall, w.bytesPerCall);
  };
  const ratio = floor(context) / floor(nearest.workload.context!);
  return {
    perLayerMs: nearest.summary!.medianMs * ratio,
    kind: 'extrapolated',
    source: `${describe(sources, nearest, peak.name)}, beyond the measured contexts: time × ${ratio.toPrecision(4)}, its roofline floor at ${context} tokens of context over that at ${nearest.workload.context}`,
  };
}

/**
 * The dense layer's time at `tokens` on its card, from that card's cases of the same key: the case
 * at that count (measured); between measured counts, the sweep's least-squares line a + b·tokens
 * where three or more counts were measured, else the straight line through the two neighbours
 * (interpolated); beyond them, the nearest case scaled by the ratio of the roofline floors at the
 * two counts (extrapolated: a decode layer is memory-bound, its time barely grows with tokens, and
 * a linear scaling in tokens would overstate it).
 */
export function denseAt(
  tokens: number,
  onCard: CaseResult[],
  path: string,
  peak: CardPeak,
  caseSources?: ReadonlyMap<CaseResult, string>,
): Pick<Term, 'perLayerMs' | 'kind' | 'source'> {
  const sources = sourcesOf(caseSources, path);
  const byTokens = [...onCard].sort((a, b) => a.workload.numTokens - b.workload.numTokens);
  const exact = byTokens.find((c) => c.workload.numTokens === tokens);
  if (exact) return { perLayerMs: exact.summary!.medianMs, kind: 'measured', source: describe(sources, exact, peak.name) };
  const below = byTokens.filter((c) => c.workload.numTokens < tokens).pop();
  const above = byTokens.find((c) => c.workload.numTokens > tokens);
  if (below && above) {
    // a sweep (three or more counts of the key) is read as a whole: its fit a + b·tokens through every
    // count averages out one noisy neighbour, as the report's sweep table does
    const fit = fitSweeps(onCard)
      .filter((f) => f.points[0].tokens < tokens && f.points[f.points.length - 1].tokens > tokens)
      .sort((x, y) => y.points.length - x.points.length)[0];
    if (fit) {
      return {
        perLayerMs: fit.interceptMs + fit.slopeMsPerToken * tokens,
        kind: 'interpolated',
        source: `${tokens} tokens on the sweep fit ${fit.interceptMs.toPrecision(4)} ms + ${fit.slopeMsPerToken.toPrecision(4)} ms/token (R² ${fit.rSquared.toFixed(3)}) through ${fit.points.length} token counts of ${sources.of(onCard.find((c) => c.id === fit.points[0].caseId)!)} ${fit.key} on ${peak.name} (${fit.backend})`,
      };
    }
    const [t0, t1] = [below.workload.numTokens, above.workload.numTokens];
    const [m0, m1] = [below.summary!.medianMs, above.summary!.medianMs];
    return {
      perLayerMs: m0 + ((m1 - m0) * (tokens - t0)) / (t1 - t0),
      kind: 'interpolated',
      source: `${tokens} tokens between ${describe(sources, below, peak.name)} and ${above.id}`,
    };
  }
  const nearest = (below ?? above)!;
  const floor = (c: WorkloadCase) => {
    const w = accountFor(c);
    return rooflineMs(peak, c.dtype, w.flopsPerCall, w.bytesPerCall);
  };
  const ratio = floor(denseTarget(nearest, tokens)) / floor(denseTarget(nearest, nearest.workload.numTokens));
  return {
    perLayerMs: nearest.summary!.medianMs * ratio,
    kind: 'extrapolated',
    source: `${describe(sources, nearest, peak.name)}, beyond the measured token counts: time × ${ratio.toPrecision(4)}, its roofline floor at ${tokens} tokens over that at ${nearest.workload.numTokens}`,
  };
}

/** The dense case's workload at another token count (the target card's share). */
function denseTarget(dense: CaseResult, numTokens: number): WorkloadCase {
  const w = dense.workload;
  const c: Omit<WorkloadCase, 'id'> = { ...w, numTokens, batch: w.phase === 'decode' ? numTokens : 1, seqLen: w.phase === 'decode' ? 1 : numTokens };
  return { ...c, id: caseId(c) };
}

function targetCase(
  model: string,
  m: MoeShape,
  phase: Phase,
  numTokens: number,
  dtype: Dtype,
  expertsPerCard: number | undefined,
  routing: WorkloadCase['routing'],
): WorkloadCase {
  const c: Omit<WorkloadCase, 'id'> = {
    preset: model,
    layer: m,
    phase,
    batch: phase === 'decode' ? numTokens : 1,
    seqLen: phase === 'decode' ? 1 : numTokens,
    numTokens,
    dtype,
    seed: 42,
    moeImpl: 'routed',
    routing: routing ?? { kind: 'uniform' },
    ...(expertsPerCard !== undefined ? { expertsPerCard } : {}),
  };
  return { ...c, id: caseId(c) };
}
