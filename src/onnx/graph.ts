import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type AttributeProto = onnxProto.onnx.IAttributeProto;
export type ValueInfoProto = onnxProto.onnx.IValueInfoProto;
export type TensorProto = onnxProto.onnx.ITensorProto;

export const ElemType = { float32: 1, int64: 7, bool: 9, float16: 10, int32: 6 } as const;

type Attr = Omit<AttributeProto, 'name'>;
export const attr = {
  int: (i: number): Attr => ({ type: onnx.AttributeProto.AttributeType.INT, i }),
  float: (f: number): Attr => ({ type: onnx.AttributeProto.AttributeType.FLOAT, f }),
  ints: (ints: number[]): Attr => ({ type: onnx.AttributeProto.AttributeType.INTS, ints }),
  str: (s: string): Attr => ({ type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(s) }),
  tensor: (t: onnxProto.onnx.ITensorProto): Attr => ({ type: onnx.AttributeProto.AttributeType.TENSOR, t }),
};

/** An initializer whose bytes are produced only when the model is written, so large models stream to disk. */
export interface LazyInitializer {
  name: string;
  dims: number[];
  elemType: number;
  byteLength: number;
  /** The tensor's raw little-endian bytes, in order; chunked so no single buffer has to hold a huge tensor. */
  chunks: () => Iterable<Uint8Array>;
}

/** Collects nodes, inputs, outputs and initializers of one ONNX graph. */
export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly inputs: ValueInfoProto[] = [];
  readonly outputs: ValueInfoProto[] = [];
  readonly initializers: LazyInitializer[] = [];
  /** Small constants, always embedded. */
  readonly constants: onnxProto.onnx.ITensorProto[] = [];
  private counter = 0;

  constructor(readonly name: string) {}

  input(name: string, elemType: number, dims: (number | string)[]): string {
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  output(name: string, elemType: number, dims: (number | string)[]): void {
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  initializer(init: LazyInitializer): string {
    this.initializers.push(init);
    return init.name;
  }

  int64(values: number[], dims: number[] = [values.length]): string {
    const name = `const_${this.counter++}`;
    this.constants.push({ name, dims, dataType: ElemType.int64, int64Data: values });
    return name;
  }

  /** One node; returns its output names. */
  node(opType: string, inputs: string[], attrs: Record<string, Attr> = {}, opts: { outputs?: number; domain?: string } = {}): string[] {
    const id = this.counter++;
    const outputs = Array.from({ length: opts.outputs ?? 1 }, (_, i) => `${opType.toLowerCase()}_${id}_${i}`);
    this.nodes.push({
      opType,
      input: inputs,
      output: outputs,
      name: `${opType}_${id}`,
      domain: opts.domain ?? '',
      attribute: Object.entries(attrs).map(([name, a]) => ({ name, ...a })),
    });
    return outputs;
  }

  op(opType: string, inputs: string[], attrs: Record<string, Attr> = {}, domain?: string): string {
    return this.node(opType, inputs, attrs, { domain })[0];
  }

  /** Renames the final value to a graph output name with an Identity node. */
  finish(value: string, output: string, elemType: number, dims: (number | string)[]): void {
    this.nodes.push({ opType: 'Identity', input: [value], output: [output], name: 'output' });
    this.output(output, elemType, dims);
  }
}

function valueInfo(name: string, elemType: number, dims: (number | string)[]): ValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}
