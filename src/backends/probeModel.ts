import { ElemType, GraphBuilder, onnx } from '../onnx/graph.js';

/** A one-node model for checking that an execution provider starts. */
export function identityProbeModel(): Uint8Array {
  const g = new GraphBuilder('probe');
  g.input('x', ElemType.float32, [1, 4]);
  g.finish(g.op('Relu', ['x']), 'y', ElemType.float32, [1, 4]);
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'moebench',
      opsetImport: [{ domain: '', version: 18 }],
      graph: { name: 'probe', node: g.nodes, input: g.inputs, output: g.outputs },
    }),
  ).finish();
}
