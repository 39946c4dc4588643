import { createHash } from 'node:crypto';
import { isIntact, writeCached } from '../files/cache.js';
import { basename, join } from 'node:path';
import type { WorkloadCase } from '../workloads/spec.js';
import { onnx, type GraphBuilder, type TensorProto } from './graph.js';
import { BUILDER_VERSION, buildLayerGraph } from './layers.js';

/** protobuf's hard 2 GiB message limit, with room for the graph itself. */
export const EXTERNAL_DATA_THRESHOLD_BYTES = 1.9 * 1024 ** 3;

export interface ModelFile {
  path: string;
  /** Total initializer bytes. */
  weightBytes: number;
  /** Weights live in `${path}.data` (ONNX external data). */
  externalData: boolean;
  /** The file already existed for this spec. */
  cached: boolean;
}

/** What determines the graph's bytes; token count and routing are inputs, not part of it. */
export function modelSpec(c: WorkloadCase): Record<string, unknown> {
  return {
    builder: BUILDER_VERSION,
    layer: c.layer,
    // tf32 is a math mode of the engine, not of the file: its model is the fp32 one
    dtype: c.dtype === 'tf32' ? 'fp32' : c.dtype,
    seed: c.seed,
    moeImpl: c.layer.kind === 'moe' ? (c.moeImpl ?? 'routed') : undefined,
    expertsPerCard: c.expertsPerCard,
    // attention's graph holds its sequences' shape, rotary tables, causal mask and decode cache
    ...(c.layer.kind === 'attention'
      ? { phase: c.phase, batch: c.batch, seqLen: c.seqLen, context: c.context, attnImpl: c.attnImpl, contextSpread: c.contextSpread }
      : {}),
  };
}

export function modelFileName(c: WorkloadCase): string {
  const hash = createHash('sha256')
    .update(JSON.stringify(modelSpec(c)))
    .digest('hex')
    .slice(0, 16);
  const impl =
    c.layer.kind === 'moe'
      ? `-${c.moeImpl ?? 'routed'}${c.expertsPerCard !== undefined ? `-ep${c.expertsPerCard}` : ''}`
      : c.attnImpl === 'fused'
        ? '-fused'
        : '';
  return `${c.preset}-${c.layer.kind}${impl}-${c.dtype === 'tf32' ? 'fp32' : c.dtype}-${hash}.onnx`;
}

/**
 * Builds the case's model into `dir` unless an intact file for the same spec is already there: a
 * cached model whose bytes no longer match the hash written beside it (truncated, emptied, partly
 * zeroed) is built again rather than failing every run until someone deletes it.
 */
export function ensureModel(c: WorkloadCase, dir: string, externalThresholdBytes = EXTERNAL_DATA_THRESHOLD_BYTES): ModelFile {
  const path = join(dir, modelFileName(c));
  const g = buildLayerGraph(c);
  const weightBytes = g.initializers.reduce((a, i) => a + i.byteLength, 0);
  const externalData = weightBytes > externalThresholdBytes;
  if (isIntact(path) && (!externalData || isIntact(`${path}.data`))) return { path, weightBytes, externalData, cached: true };
  writeModel(g, path, externalData);
  return { path, weightBytes, externalData, cached: false };
}

/**
 * Writes the weights (external data) and then the graph through the one durable path, so a crash
 * or a full disk never leaves a half model under its final name, each with its content hash.
 */
export function writeModel(g: GraphBuilder, path: string, externalData: boolean): void {
  const dataPath = `${path}.data`;
  const initializers: TensorProto[] = [...g.constants];
  if (externalData) {
    let offset = 0;
    for (const init of g.initializers) {
      initializers.push({
        name: init.name,
        dims: init.dims,
        dataType: init.elemType,
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: 'location', value: basename(dataPath) },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(init.byteLength) },
        ],
      });
      offset += init.byteLength;
    }
    writeCached(
      dataPath,
      (function* () {
        for (const init of g.initializers) yield* init.chunks();
      })(),
      'model weights',
    );
  } else {
    for (const init of g.initializers) {
      initializers.push({ name: init.name, dims: init.dims, dataType: init.elemType, rawData: concat([...init.chunks()], init.byteLength) });
    }
  }
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'moebench',
    opsetImport: [
      { domain: '', version: 18 },
      { domain: 'com.microsoft', version: 1 },
    ],
    graph: { name: g.name, node: g.nodes, input: g.inputs, output: g.outputs, initializer: initializers },
  });
  writeCached(path, onnx.ModelProto.encode(model).finish(), 'model');
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}
