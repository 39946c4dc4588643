import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as OrtTypes from 'onnxruntime-node';
import { ONNX_DTYPE_REASON } from '../onnx/layers.js';
import { ensureModel } from '../onnx/modelFile.js';
import { overheadModel } from '../onnx/overhead.js';
import { summarizeOrtProfile } from './ortProfile.js';
import { noAdapterHelp, softwareVulkanSelected } from '../env/vulkan.js';
import { checkLibrariesHere, ortCudaNeeds, type LibraryCheck } from '../env/cudaLibraries.js';
import { fromHalfArray, toHalfArray } from '../workloads/float16.js';
import type { WorkloadCase } from '../workloads/spec.js';
import type { CaseInputs } from '../workloads/tensors.js';
import type { Placement } from '../env/cards.js';
import type { Backend, LoadedCase, LoadOptions, Probe } from './backend.js';
import { identityProbeModel } from './probeModel.js';

export type OrtProvider = 'cpu' | 'cuda' | 'webgpu';

const require = createRequire(import.meta.url);
let ortModule: typeof OrtTypes | undefined;
function ort(): typeof OrtTypes {
  ortModule ??= require('onnxruntime-node') as typeof OrtTypes;
  return ortModule;
}

/** Folder holding libonnxruntime.so.1, where the CUDA provider's .so files must sit too. */
export function ortNativeDir(): string {
  const pkg = dirname(require.resolve('onnxruntime-node/package.json'));
  return join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
}

export const CUDA_PROVIDER_FILES = ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'];

/** The CUDA provider's libraries against what this box's loader finds. */
export function ortCudaLibraryCheck(env: NodeJS.ProcessEnv = process.env): LibraryCheck {
  const state = cudaProviderState();
  return checkLibrariesHere(ortCudaNeeds(state.installed ? join(state.dir, CUDA_PROVIDER_FILES[0]) : undefined), env);
}

/** Which of the two ways of getting the CUDA provider holds here. */
export function cudaProviderState(): { installed: boolean; missing: string[]; dir: string } {
  const dir = ortNativeDir();
  const missing = CUDA_PROVIDER_FILES.filter((f) => !existsSync(join(dir, f)));
  return { installed: missing.length === 0, missing, dir };
}

export class OrtBackend implements Backend {
  readonly engine = 'onnxruntime';
  readonly name: string;
  readonly executionProvider: string;
  readonly placement: Placement;

  constructor(readonly provider: OrtProvider) {
    this.name = `ort-${provider}`;
    this.executionProvider = provider;
    this.placement = provider === 'cpu' ? 'host' : provider;
  }

  private sessionOptions(deviceId: number, threads?: number): OrtTypes.InferenceSession.SessionOptions {
    const ep = this.provider === 'cuda' ? { name: 'cuda', deviceId } : this.provider === 'webgpu' ? { name: 'webgpu' } : { name: 'cpu' };
    // The layers are one chain of nodes, so inter-op parallelism has nothing to overlap; intra-op
    // threads are what --threads controls.
    const pool = threads === undefined ? {} : { intraOpNumThreads: threads, interOpNumThreads: 1 };
    return { executionProviders: [ep], graphOptimizationLevel: 'all', logSeverityLevel: 4, ...pool };
  }

  async probe(): Promise<Probe> {
    if (this.provider === 'cuda') {
      const state = cudaProviderState();
      const libraries = ortCudaLibraryCheck();
      if (!state.installed) {
        return {
          available: false,
          reason: `the CUDA execution provider is not installed (${state.missing.join(', ')} missing in ${state.dir})${libraries.problem ? `; ${libraries.problem}` : ''}`,
          fix: `npm run setup:cuda (needs internet), or copy the CUDA provider .so files of onnxruntime 1.30 next to libonnxruntime.so.1 (see README)${libraries.fix ? `; ${libraries.fix}` : ''}`,
        };
      }
      // a provider whose linked libraries are missing fails inside ORT with a dlopen error, or not at all (CPU fallback)
      if (libraries.linkedMissing) {
        return { available: false, reason: libraries.problem!, fix: libraries.fix! };
      }
    }
    try {
      const session = await ort().InferenceSession.create(identityProbeModel(), this.sessionOptions(0));
      await session.release();
    } catch (err) {
      const message = firstLine(err);
      // a GPU box whose Vulkan driver is there but cannot load says only "No supported adapters"
      const webgpu = this.provider === 'webgpu' ? noAdapterHelp() : undefined;
      const fix = webgpu
        ? webgpu.fix
        : this.provider === 'cuda'
          ? 'install CUDA 12 and cuDNN 9 and put their libraries on LD_LIBRARY_PATH'
          : 'reinstall onnxruntime-node';
      return {
        available: false,
        reason: `${this.provider} execution provider failed to start: ${message}${webgpu?.why ? `; ${webgpu.why}` : ''}`,
        fix,
      };
    }
    const hardware = this.provider === 'cuda' || (this.provider === 'webgpu' && !softwareVulkanSelected());
    return { available: true, detail: `onnxruntime-node ${ort().env.versions.node ?? ''} ${this.provider}`.trim(), hardware };
  }

  accuracyNote(c: WorkloadCase): string | undefined {
    // its MatMul shaders keep the sum in the output's type, by design (onnxruntime#29611)
    if (this.provider === 'webgpu' && c.dtype === 'fp16')
      return `ONNX Runtime's WebGPU EP accumulates fp16 products in fp16, so a dot product over ${c.layer.hiddenSize} terms loses digits that fp32 accumulation (the tolerance's assumption, and PyTorch's) keeps; --dtype fp32 measures this engine within tolerance`;
    return undefined;
  }

  unsupported(c: WorkloadCase): string | undefined {
    if (c.dtype === 'bf16' || c.dtype === 'fp8') return ONNX_DTYPE_REASON;
    // ONNX Runtime refuses the op at its first run otherwise ("head_size shall be a multiple of 16")
    if (c.layer.kind === 'attention' && c.attnImpl === 'fused') {
      const a = c.layer;
      const head = a.form === 'gqa' ? a.headDim : c.phase === 'decode' ? a.kvLoraRank + a.qkRopeHeadDim : undefined;
      if (head !== undefined && head % 16 !== 0)
        return `ONNX Runtime's GroupQueryAttention needs a head size that is a multiple of 16; this case's is ${head}`;
    }
    return undefined;
  }

  async load(c: WorkloadCase, inputs: CaseInputs, options: LoadOptions): Promise<LoadedCase> {
    const model = ensureModel(c, options.modelDir);
    const loaded = await this.open(c, inputs, model.path, options);
    const sessionOptions = this.sessionOptions(options.deviceId, options.threads);
    return {
      ...loaded,
      details: {
        modelFile: model.path,
        weightBytes: model.weightBytes,
        externalData: model.externalData,
        modelCached: model.cached,
        intraOpThreads: options.threads ?? 'default',
      },
      async profile(runs: number) {
        const dir = mkdtempSync(join(tmpdir(), 'moebench-profile-'));
        const session = await ort().InferenceSession.create(model.path, {
          ...sessionOptions,
          enableProfiling: true,
          profileFilePrefix: join(dir, 'ort'),
        });
        try {
          const feeds = toFeeds(c, inputs);
          for (let i = 0; i < runs; i++) disposeAll(await session.run(feeds));
          session.endProfiling();
        } finally {
          await session.release();
        }
        const file = readdirSync(dir).find((f) => f.endsWith('.json'));
        if (!file) throw new Error('onnxruntime wrote no profile file');
        const events = JSON.parse(readFileSync(join(dir, file), 'utf8'));
        rmSync(dir, { recursive: true, force: true });
        return summarizeOrtProfile(events, runs);
      },
    };
  }

  async loadOverhead(c: WorkloadCase, inputs: CaseInputs, options: LoadOptions): Promise<LoadedCase> {
    return this.open(c, inputs, overheadModel(c, inputs), options);
  }

  private async open(c: WorkloadCase, inputs: CaseInputs, model: string | Uint8Array, options: LoadOptions): Promise<LoadedCase> {
    const session =
      typeof model === 'string'
        ? await ort().InferenceSession.create(model, this.sessionOptions(options.deviceId, options.threads))
        : await ort().InferenceSession.create(model, this.sessionOptions(options.deviceId, options.threads));
    const feeds = toFeeds(c, inputs);
    return {
      details: {},
      async run() {
        disposeAll(await session.run(feeds));
      },
      async output() {
        const out = await session.run(feeds);
        const y = out.y;
        const data = c.dtype === 'fp16' ? fromHalfArray(y.data as Uint16Array) : new Float32Array(y.data as Float32Array);
        disposeAll(out);
        return data;
      },
      async dispose() {
        await session.release();
      },
    };
  }
}

/** Inputs are converted and staged once, before the timed region. */
function toFeeds(c: WorkloadCase, inputs: CaseInputs): Record<string, OrtTypes.Tensor> {
  const feeds: Record<string, OrtTypes.Tensor> = {};
  for (const [name, t] of Object.entries(inputs.feeds)) {
    feeds[name] = c.dtype === 'fp16' ? new (ort().Tensor)('float16', toHalfArray(t.data), t.dims) : new (ort().Tensor)('float32', t.data, t.dims);
  }
  return feeds;
}

function disposeAll(out: OrtTypes.InferenceSession.OnnxValueMapType): void {
  for (const t of Object.values(out)) t.dispose();
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const line =
    text
      .split('\n')
      .find((l) => l.trim())
      ?.trim() ?? text;
  const afterAssert = line.split(' was false. ').pop() ?? line;
  return afterAssert.replace(/^\/onnxruntime_src\/\S+ /, '');
}
