import { uniformValues } from '../workloads/rng.js';
import { ElemType, GraphBuilder, onnx } from './graph.js';

/** One square n×n·n×n MatMul: the engine's best-case GEMM, the yardstick for layer efficiency. */
export function squareMatMulModel(n: number, seed = 1): Uint8Array {
  const g = new GraphBuilder(`matmul${n}`);
  g.input('a', ElemType.float32, [n, n]);
  const values = uniformValues(seed, 'b', n * n, 1 / Math.sqrt(n));
  const b = g.initializer({
    name: 'b',
    dims: [n, n],
    elemType: ElemType.float32,
    byteLength: values.byteLength,
    chunks: () => [new Uint8Array(values.buffer)],
  });
  g.finish(g.op('MatMul', ['a', b]), 'y', ElemType.float32, [n, n]);
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'moebench',
      opsetImport: [{ domain: '', version: 18 }],
      graph: {
        name: g.name,
        node: g.nodes,
        input: g.inputs,
        output: g.outputs,
        initializer: g.initializers.map((i) => ({ name: i.name, dims: i.dims, dataType: i.elemType, rawData: [...i.chunks()][0] })),
      },
    }),
  ).finish();
}
