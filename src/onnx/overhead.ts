import type { WorkloadCase } from '../workloads/spec.js';
import type { CaseInputs } from '../workloads/tensors.js';
import { attr, GraphBuilder, onnx } from './graph.js';
import { elemTypeOf } from './layers.js';

/**
 * A model with the case's inputs and output and (almost) no work: y = x, plus
 * 0 × max(other inputs) so every input is still bound and copied. Its call time
 * is the fixed cost of one call (binding, host↔device copies, event-loop hop).
 */
export function overheadModel(c: WorkloadCase, inputs: CaseInputs): Uint8Array {
  const g = new GraphBuilder(`overhead-${c.id}`);
  const et = elemTypeOf(c);
  const d = c.layer.hiddenSize;
  let y = g.input('x', et, ['tokens', d]);
  for (const [name, t] of Object.entries(inputs.feeds)) {
    if (name === 'x') continue;
    g.input(name, et, ['tokens', t.dims[1]]);
    const zero = g.op('Mul', [g.op('ReduceMax', [name], { keepdims: attr.int(1) }), g.op('CastLike', [g.int64([0], []), name])]);
    y = g.op('Add', [y, zero]);
  }
  g.finish(y === 'x' ? g.op('Identity', ['x']) : y, 'y', et, ['tokens', d]);
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'moebench',
      opsetImport: [{ domain: '', version: 18 }],
      graph: { name: g.name, node: g.nodes, input: g.inputs, output: g.outputs, initializer: g.constants },
    }),
  ).finish();
}
