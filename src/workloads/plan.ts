import { loadBenchFile } from '../files/benchFiles.js';
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { PRESETS, presetNames, type AttentionShape, type DenseShape, type MatmulShape, type MoeShape, type Preset } from './presets.js';
import { parseRouting, checkRouting } from './routing.js';
import {
  ATTN_IMPLS,
  caseId,
  DTYPES,
  LAYER_KINDS,
  MOE_IMPLS,
  PHASES,
  type AttnImpl,
  type Dtype,
  type LayerKind,
  type MoeImpl,
  type Phase,
  type WorkloadCase,
} from './spec.js';

const oneOrMany = <T extends z.ZodTypeAny>(t: T) => z.union([t, z.array(t).min(1)]);

/** One entry of a suite: every field may list values; the entry expands to their cross product (nvbench axes). */
export const SuiteEntrySchema = z
  .object({
    preset: oneOrMany(z.string()),
    layer: oneOrMany(z.enum(LAYER_KINDS as [LayerKind, ...LayerKind[]])).optional(),
    phase: oneOrMany(z.enum(PHASES as [Phase, ...Phase[]])).optional(),
    /** Sequences in the batch; the decode token count. */
    batch: oneOrMany(z.number().int()).optional(),
    /** Tokens per sequence in prefill. */
    seqLen: oneOrMany(z.number().int()).optional(),
    /** Token count directly (prefill: one sequence of this length; decode: this batch). */
    tokens: oneOrMany(z.number().int()).optional(),
    dtype: oneOrMany(z.enum(DTYPES as [Dtype, ...Dtype[]])).optional(),
    moeImpl: oneOrMany(z.enum(MOE_IMPLS as [MoeImpl, ...MoeImpl[]])).optional(),
    routing: oneOrMany(z.string()).optional(),
    expertsPerCard: oneOrMany(z.number().int()).optional(),
    /** Overrides of the preset's MoE shape, e.g. to sweep k at a fixed number of experts. */
    topK: oneOrMany(z.number().int()).optional(),
    numExperts: z.number().int().optional(),
    /** Attention decode: tokens already in each sequence's KV cache (default: the preset's). */
    context: oneOrMany(z.number().int()).optional(),
    /** Attention decode, fused: the sequences' caches spread evenly from context down to context × (1 − this). */
    contextSpread: z.number().optional(),
    /** Attention: standard ops or ONNX Runtime's fused contrib op. */
    attnImpl: oneOrMany(z.enum(ATTN_IMPLS as [AttnImpl, ...AttnImpl[]])).optional(),
  })
  .strict();

export const SuiteSchema = z
  .object({
    name: z.string(),
    description: z.string(),
    /** Backend to use when the command line does not name one. */
    backend: z.string().default('auto'),
    /** Processes per case when the command line does not say (default RUN_DEFAULTS.repetitions). */
    repetitions: z.number().int().positive().optional(),
    /**
     * Wall-clock budget for the whole suite, seconds: the scheduler shares what is left among the
     * processes still to run, so the suite ends on time however noisy the host (the cases that
     * could not converge in their share are reported noisy). An explicit --repetitions or
     * --max-time-ms asks for a thorough run and lifts it; --time-budget-s sets it.
     */
    timeBudgetS: z.number().positive().optional(),
    cases: z.array(SuiteEntrySchema).min(1),
  })
  .strict();

export type SuiteEntry = z.infer<typeof SuiteEntrySchema>;
export type Suite = z.infer<typeof SuiteSchema>;

/** A suite by name (bench/suites/NAME.json) or by path. */
export function loadSuite(nameOrPath: string): Suite {
  return loadBenchFile('suites', 'suite', nameOrPath, SuiteSchema);
}

export const DEFAULTS = { seed: 42, batch: { prefill: 1, decode: 32 }, seqLen: 512 } as const;

function list<T>(v: T | T[] | undefined, fallback: T[]): T[] {
  if (v === undefined) return fallback;
  return Array.isArray(v) ? v : [v];
}

function presetOf(name: string): Preset {
  const p = PRESETS[name];
  if (!p) throw new UsageError(`unknown preset "${name}": use one of ${presetNames().join(', ')}`);
  return p;
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v <= 0) throw new UsageError(`${name} must be a positive integer, got ${v}`);
  return v;
}

/** Expands suite entries into concrete cases, checking each against its layer's shape. */
export function planCases(entries: SuiteEntry[], seed: number = DEFAULTS.seed): WorkloadCase[] {
  const cases: WorkloadCase[] = [];
  const seen = new Set<string>();
  for (const entry of entries) {
    for (const presetName of list(entry.preset, [])) {
      const preset = presetOf(presetName);
      for (const layerKind of list<LayerKind>(entry.layer, defaultLayers(preset))) {
        const presetLayer = preset[layerKind];
        if (!presetLayer) throw new UsageError(`preset ${presetName} has no ${layerKind} layer`);
        for (const layer of layerVariants(entry, presetLayer)) {
          for (const phase of list<Phase>(entry.phase, ['prefill', 'decode'])) {
            for (const [batch, seqLen] of tokenShapes(entry, phase)) {
              for (const dtype of list<Dtype>(entry.dtype, ['fp32'])) {
                const base = { preset: presetName, layer, phase, batch, seqLen, numTokens: phase === 'decode' ? batch : batch * seqLen, dtype, seed };
                const variants =
                  layer.kind === 'moe'
                    ? moeVariants(entry, layer.numExperts, layer.topK)
                    : layer.kind === 'attention'
                      ? attentionVariants(entry, layer.defaultContext, phase)
                      : [{}];
                for (const v of variants) {
                  const c = { ...base, ...v };
                  const id = caseId(c);
                  if (seen.has(id)) continue;
                  seen.add(id);
                  cases.push({ ...c, id });
                }
              }
            }
          }
        }
      }
    }
  }
  return cases;
}

/** A model's MoE and dense layers; the roofline probe's matmul only when it has nothing else (or is asked for). */
function defaultLayers(preset: Preset): LayerKind[] {
  const model = (['moe', 'dense'] as const).filter((k) => preset[k]);
  return model.length > 0 ? model : ['matmul'];
}

type Layer = DenseShape | MoeShape | MatmulShape | AttentionShape;

function layerVariants(entry: SuiteEntry, layer: Layer): Layer[] {
  if (layer.kind !== 'moe' || (entry.topK === undefined && entry.numExperts === undefined)) return [layer];
  const numExperts = entry.numExperts === undefined ? layer.numExperts : positiveInt('experts', entry.numExperts);
  return list(entry.topK, [layer.topK]).map((k) => {
    positiveInt('top-k', k);
    if (k > numExperts) throw new UsageError(`top-k ${k} is more than the ${numExperts} experts`);
    return { ...layer, numExperts, topK: k };
  });
}

function tokenShapes(entry: SuiteEntry, phase: Phase): [number, number][] {
  if (entry.tokens !== undefined) {
    return list(entry.tokens, []).map((t) => {
      positiveInt('tokens', t);
      return phase === 'decode' ? [t, 1] : [1, t];
    });
  }
  const shapes: [number, number][] = [];
  for (const b of list(entry.batch, [DEFAULTS.batch[phase]])) {
    positiveInt('batch', b);
    for (const s of phase === 'decode' ? [1] : list(entry.seqLen, [DEFAULTS.seqLen])) shapes.push([b, positiveInt('seqLen', s)]);
  }
  return shapes;
}

/** Attention's formulations and, in decode, its contexts. Standard cases carry no attnImpl, as before there was a choice. */
function attentionVariants(entry: SuiteEntry, defaultContext: number, phase: Phase): Partial<WorkloadCase>[] {
  const contexts = phase === 'decode' ? list(entry.context, [defaultContext]).map((n) => positiveInt('context', n)) : [undefined];
  const spread = phase === 'decode' ? entry.contextSpread : undefined;
  if (spread !== undefined && !(spread > 0 && spread < 1)) throw new UsageError(`--context-spread must be between 0 and 1, got ${spread}`);
  return list<AttnImpl>(entry.attnImpl, ['standard']).flatMap((attnImpl) => {
    if (spread !== undefined && attnImpl !== 'fused')
      throw new UsageError(
        '--context-spread needs --attn-impl fused: the standard formulation gives every query of a case the same cache length (the fused op takes one per sequence)',
      );
    return contexts.map((context) => ({
      ...(context !== undefined ? { context } : {}),
      ...(attnImpl === 'fused' ? { attnImpl } : {}),
      ...(spread !== undefined ? { contextSpread: spread } : {}),
    }));
  });
}

function moeVariants(entry: SuiteEntry, numExperts: number, topK: number): Partial<WorkloadCase>[] {
  if (topK > numExperts) throw new UsageError(`top-k ${topK} is more than the ${numExperts} experts`);
  const out: Partial<WorkloadCase>[] = [];
  const slices = entry.expertsPerCard === undefined ? [undefined] : list(entry.expertsPerCard, []);
  for (const moeImpl of list<MoeImpl>(entry.moeImpl, ['routed'])) {
    for (const routingText of list(entry.routing, ['uniform'])) {
      const routing = parseRouting(routingText);
      checkRouting(routing, numExperts, topK);
      for (const expertsPerCard of slices) {
        if (expertsPerCard !== undefined) {
          if (!Number.isInteger(expertsPerCard) || expertsPerCard <= 0 || expertsPerCard > numExperts || numExperts % expertsPerCard !== 0) {
            throw new UsageError(`--experts-per-card ${expertsPerCard} must divide the ${numExperts} experts`);
          }
          if (moeImpl === 'fused') {
            throw new UsageError(
              '--moe-impl fused cannot run an expert-parallel slice: com.microsoft.MoE routes over all experts itself; use routed or dense-all',
            );
          }
        }
        out.push({ moeImpl, routing, ...(expertsPerCard !== undefined ? { expertsPerCard } : {}) });
      }
    }
  }
  return out;
}
