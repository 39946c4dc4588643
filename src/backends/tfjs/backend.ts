import { checkLibrariesHere, TFJS_NODE_GPU_BUILD, type LibraryCheck } from '../../env/cudaLibraries.js';
import type { WorkloadCase } from '../../workloads/spec.js';
import type { CaseInputs } from '../../workloads/tensors.js';
import { accountFor } from '../../workloads/accounting.js';
import type { Placement } from '../../env/cards.js';
import type { Backend, LoadedCase, LoadOptions, Probe } from '../backend.js';
import { forward, uploadInputs, uploadWeights } from './layers.js';
import { activateTfjs, TfjsUnavailable, type TfjsKind } from './runtime.js';

/** tfjs-cpu is plain JavaScript (about 1 GFLOP/s): larger calls would take minutes each. */
export const TFJS_CPU_MAX_FLOPS_PER_CALL = 2e9;

/** libtensorflow 2.9.1's CUDA libraries against what this box's loader finds. */
export function tfjsGpuLibraryCheck(env: NodeJS.ProcessEnv = process.env): LibraryCheck {
  return checkLibrariesHere(TFJS_NODE_GPU_BUILD, env);
}

/** TensorFlow.js through one of its backends; the same layers, weights and inputs as the ONNX path. */
export class TfjsBackend implements Backend {
  readonly engine = 'tfjs';
  readonly name: string;
  readonly executionProvider: string;
  readonly placement: Placement;

  constructor(readonly kind: TfjsKind) {
    this.name = `tfjs-${kind}`;
    this.executionProvider = kind;
    // libtensorflow's GPU build places ops on its first CUDA device, which pinning makes the chosen card
    this.placement = kind === 'node-gpu' ? 'cuda' : kind === 'webgpu' ? 'webgpu' : 'host';
  }

  async probe(): Promise<Probe> {
    // libtensorflow opens its CUDA libraries itself and, missing one, quietly places every op on the CPU
    const libraries = this.kind === 'node-gpu' ? tfjsGpuLibraryCheck() : undefined;
    try {
      const { adapter, version } = await activateTfjs(this.kind);
      if (libraries?.linkedMissing) return { available: false, reason: libraries.problem!, fix: libraries.fix! };
      const hardware = this.kind === 'node-gpu' || (this.kind === 'webgpu' && !adapter!.software);
      const where = adapter ? ` on ${adapter.vendor} ${adapter.architecture} ${adapter.description}`.replace(/\s+/g, ' ') : '';
      return { available: true, detail: `tfjs-core ${version}${where}`, hardware };
    } catch (err) {
      if (err instanceof TfjsUnavailable) {
        const also = libraries?.problem ? `; ${libraries.problem}` : '';
        return { available: false, reason: `${err.message}${also}`, fix: `${err.fix}${libraries?.fix ? `; ${libraries.fix}` : ''}` };
      }
      return { available: false, reason: (err as Error).message.split('\n')[0], fix: 'see moebench env' };
    }
  }

  unsupported(c: WorkloadCase): string | undefined {
    if (c.dtype === 'fp16' || c.dtype === 'bf16' || c.dtype === 'fp8')
      return `TF.js 4.22 has no ${c.dtype === 'fp16' ? 'float16' : c.dtype === 'bf16' ? 'bfloat16' : 'float8'} tensors on any backend (tfjs-core dtypes: float32, int32, bool, complex64, string)`;
    if (c.layer.kind === 'moe' && c.moeImpl === 'fused') return "fused is ONNX Runtime's com.microsoft.MoE contrib op; TF.js has no fused MoE op";
    if (c.attnImpl === 'fused') return "fused attention is ONNX Runtime's GroupQueryAttention / MultiHeadAttention contrib op; TF.js has none";
    if (this.kind === 'cpu' && accountFor(c).flopsPerCall > TFJS_CPU_MAX_FLOPS_PER_CALL) {
      return `tfjs-cpu is plain JavaScript; cases over ${TFJS_CPU_MAX_FLOPS_PER_CALL / 1e9} GFLOP per call are left out`;
    }
    return undefined;
  }

  /** Options are not needed: TF.js builds the layer from the case itself and has one device per backend. */
  async load(c: WorkloadCase, inputs: CaseInputs, _options?: LoadOptions): Promise<LoadedCase> {
    const { tf, adapter, version } = await activateTfjs(this.kind);
    const memoryBeforeLoad = tf.memory();
    const weights = uploadWeights(tf, c);
    const staged = uploadInputs(tf, inputs);
    const call = async () => {
      const y = await forward(tf, c, weights, staged);
      // the call ends when the output is on the host, as ORT's session.run does
      const data = (await y.data()) as Float32Array;
      y.dispose();
      return data;
    };
    return {
      details: {
        tfjsCore: version,
        tfjsBackend: tf.getBackend(),
        ...(adapter
          ? {
              adapterVendor: adapter.vendor,
              adapterArchitecture: adapter.architecture,
              adapterDevice: adapter.device,
              adapterDescription: adapter.description,
              adapterSoftware: adapter.software,
            }
          : {}),
      },
      run: async () => {
        await call();
      },
      output: call,
      memory: () => memoryFigures(tf.memory(), memoryBeforeLoad.numTensors),
      dispose: async () => {
        tf.dispose([...weights.values(), ...staged.values()]);
      },
    };
  }

  async loadOverhead(c: WorkloadCase, inputs: CaseInputs): Promise<LoadedCase> {
    const { tf } = await activateTfjs(this.kind);
    const staged = uploadInputs(tf, inputs);
    const x = staged.get('x')!;
    const others = [...staged.entries()].filter(([k]) => k !== 'x').map(([, t]) => t);
    return {
      details: {},
      // the same output read-back and one touch of every input, no layer work
      run: async () => {
        const y = tf.tidy(() => others.reduce((acc, t) => tf.add(acc, tf.mul(tf.max(t), 0)), tf.clone(x)));
        await y.data();
        y.dispose();
      },
      output: async () => new Float32Array(0),
      dispose: async () => {
        tf.dispose([...staged.values()]);
      },
    };
  }
}

function memoryFigures(
  m: { numTensors: number; numBytes: number; numDataBuffers: number; numBytesInGPU?: number },
  tensorsBeforeLoad: number,
): Record<string, number> {
  return {
    numTensors: m.numTensors,
    numBytes: m.numBytes,
    numDataBuffers: m.numDataBuffers,
    ...(m.numBytesInGPU !== undefined ? { numBytesInGPU: m.numBytesInGPU } : {}),
    tensorsBeforeLoad,
  };
}
