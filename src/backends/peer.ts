import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import type { Clock } from '../measure/clock.js';
import { fp8ScaleOf, tensorRange, tensorValues, weightDecls, type CaseInputs, type TensorDecl } from '../workloads/tensors.js';
import { contextsOf, type WorkloadCase } from '../workloads/spec.js';
import type { Placement } from '../env/cards.js';
import { ONNX_DTYPE_REASON } from '../onnx/layers.js';
import { UnsupportedHere, type Backend, type LoadedCase, type LoadOptions, type Probe } from './backend.js';
import { ensureModel, modelFileName } from '../onnx/modelFile.js';
import { isIntact, writeCached } from '../files/cache.js';
import { ensureDir } from '../files/durable.js';
import { overheadModel } from '../onnx/overhead.js';

/** The peer worker, python/peer.py at the project's root: found from here whether run from src/ or dist/src/. */
function workerPath(): string {
  for (let dir = import.meta.dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const path = join(dir, 'python', 'peer.py');
    if (existsSync(path)) return path;
  }
  throw new Error(`python/peer.py not found above ${import.meta.dirname}`);
}

/**
 * Time as the worker measured it: each call's perf_counter_ns span, reported over the pipe and
 * added here, so the sampler, stopping rule and statistics are the harness's and the pipe's
 * round trip is never part of a call.
 */
export class ReportedClock implements Clock {
  private ns = 0n;
  nowNs(): bigint {
    return this.ns;
  }
  advanceMs(ms: number): void {
    this.ns += BigInt(Math.round(ms * 1e6));
  }
}

type Reply = { ok: true; [key: string]: unknown } | { ok: false; error?: string; unsupported?: string };

/** One worker process and its line-based JSON protocol: a request, then its reply. */
class PeerProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: Interface;
  private readonly pending: ((line: string | undefined) => void)[] = [];
  private stderr = '';
  private exited?: string;

  constructor(python: string, engine: string, env: Record<string, string> = {}) {
    // MOEBENCH_PEER_WORKER: another worker speaking the same protocol (the tests' fake CUDA card)
    const script = process.env.MOEBENCH_PEER_WORKER ?? workerPath();
    this.child = spawn(python, [script, engine], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    this.child.stderr.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    this.child.on('error', (err) => this.end(err.message));
    this.child.on('exit', (code, signal) => this.end(`exited with ${signal ?? `code ${code}`}`));
    this.lines = createInterface({ input: this.child.stdout });
    this.lines.on('line', (line) => this.pending.shift()?.(line));
  }

  get ended(): boolean {
    return this.exited !== undefined;
  }

  private end(why: string): void {
    this.exited ??= why;
    for (const waiting of this.pending.splice(0)) waiting(undefined);
  }

  async request(msg: object): Promise<Record<string, unknown>> {
    if (this.exited) throw new Error(`the peer worker ${this.exited}${this.stderrTail()}`);
    const line = await new Promise<string | undefined>((resolve) => {
      this.pending.push(resolve);
      this.child.stdin.write(`${JSON.stringify(msg)}\n`);
    });
    if (line === undefined) throw new Error(`the peer worker ${this.exited ?? 'stopped'}${this.stderrTail()}`);
    const reply = JSON.parse(line) as Reply;
    if (!reply.ok) throw reply.unsupported ? new UnsupportedHere(reply.unsupported) : new Error(reply.error);
    return reply;
  }

  private stderrTail(): string {
    const last = this.stderr.trim().split('\n').pop();
    return last ? `: ${last}` : '';
  }

  async close(): Promise<void> {
    if (!this.exited) {
      this.child.stdin.end(`${JSON.stringify({ op: 'exit' })}\n`);
      await new Promise((resolve) => this.child.once('exit', resolve));
    }
  }
}

/** The peers: the worker's engine argument, where it runs, what it is, and the pip requirement that installs it. */
const PEERS = {
  numpy: { worker: 'numpy', placement: 'host', engine: 'numpy', provider: 'numpy', module: 'numpy', pip: 'numpy==2.4.6' },
  'torch-cpu': { worker: 'torch', placement: 'host', engine: 'torch', provider: 'cpu', module: 'torch', pip: 'torch==2.13.0+cpu' },
  // PyPI's torch for Linux is a CUDA build
  'torch-cuda': { worker: 'torch', placement: 'cuda', engine: 'torch', provider: 'cuda', module: 'torch', pip: 'torch' },
  'ort-python': {
    worker: 'ort',
    placement: 'host',
    engine: 'onnxruntime (Python)',
    provider: 'CPUExecutionProvider',
    module: 'onnxruntime',
    pip: 'onnxruntime==1.30.0',
  },
  'ort-python-cuda': {
    worker: 'ort',
    placement: 'cuda',
    engine: 'onnxruntime (Python)',
    provider: 'CUDAExecutionProvider',
    module: 'onnxruntime',
    pip: 'onnxruntime-gpu==1.30.0',
  },
} as const;
export type PeerName = keyof typeof PEERS;

/** A KV cache a sequence at a time, as the ONNX builder writes it: a whole real-shape cache outgrows any typed array. */
function* cacheBlocks(c: WorkloadCase, decl: TensorDecl): Generator<Uint8Array> {
  const perSequence = decl.dims.slice(1).reduce((a, x) => a * x, 1);
  for (let b = 0; b < decl.dims[0]; b++) {
    const block = tensorRange(c, decl, b * perSequence, perSequence);
    yield new Uint8Array(block.buffer, block.byteOffset, block.byteLength);
  }
}

export type PeerTensor = { path: string; dims: number[]; scale?: number };

/**
 * The case's weights as raw float32 files, written once into the model folder beside its ONNX
 * model and read by every process of the case (bench/prepare.ts writes them ahead of the run).
 * Generating and writing a real-shape layer's weights (1.4 GB for deepseek-v3's expert slice)
 * was 45 s of each torch-cuda process's start on the H200; reading them back is seconds. Keyed
 * by what the ONNX model is keyed by: the same weights.
 */
export function ensurePeerWeights(c: WorkloadCase, modelDir: string): Record<string, PeerTensor> {
  const dir = join(modelDir, `peer-${modelFileName(c).replace(/\.onnx$/, '')}`);
  ensureDir(dir);
  const tensors: Record<string, PeerTensor> = {};
  for (const decl of weightDecls(c)) {
    const path = join(dir, `${decl.name}.f32`);
    const cache = /cache$/.test(decl.name);
    if (!isIntact(path)) {
      const values = cache ? undefined : tensorValues(c, decl);
      writeCached(
        path,
        values ? new Uint8Array(values.buffer, values.byteOffset, values.byteLength) : cacheBlocks(c, decl),
        `peer weights ${decl.name}`,
      );
    }
    const scale = cache ? undefined : fp8ScaleOf(c, decl);
    tensors[decl.name] = { path, dims: decl.dims, ...(scale === undefined ? {} : { scale }) };
  }
  return tensors;
}

/** The interpreter's packages as recorded in a result file's environment, from the worker's probe reply. */
function versionsOf(r: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = { python: String(r.python), 'python:numpy': String(r.numpy) };
  if (r.engine === 'torch') {
    out['python:torch'] = String(r.version);
    if (r.cuda) out['python:torch.cuda'] = String(r.cuda);
    if (r.cudnn) out['python:torch.cudnn'] = String(r.cudnn);
  }
  if (r.engine === 'ort') out['python:onnxruntime'] = String(r.version);
  return out;
}

/**
 * A peer engine through python/peer.py: numpy and torch compute the same layers from the same
 * seeded weights and inputs, written once as raw float32 files so both sides hold byte-identical
 * data; ort-python runs the very .onnx file moebench built through onnxruntime's Python binding,
 * which beside ort-cpu (ort-python-cuda beside ort-cuda) isolates what the Node binding costs.
 * Checked against the same float64 reference and measured by the same sampler. A reference point
 * in the same run, not a serving engine.
 */
export class PeerBackend implements Backend {
  readonly engine: string;
  readonly executionProvider: string;
  readonly placement: Placement;
  readonly clock = new ReportedClock();
  /**
   * The case process's worker, shared by the layer and its overhead model (keyed by the
   * environment it was started with): each worker imports its engine and, on a card, starts CUDA,
   * about 7 s of a torch-cuda process on the H200, once instead of twice.
   */
  private readonly workers = new Map<string, { worker: PeerProcess; open: number }>();

  /** MOEBENCH_PYTHON (run --python): the interpreter, a lab's conda or venv; python3 on PATH otherwise. */
  constructor(
    readonly name: PeerName = 'numpy',
    private readonly python: string = process.env.MOEBENCH_PYTHON ?? 'python3',
  ) {
    this.engine = PEERS[name].engine;
    this.executionProvider = PEERS[name].provider;
    this.placement = PEERS[name].placement;
  }

  private install(): string {
    const peer = PEERS[this.name];
    return peer.placement === 'cuda'
      ? `${this.python} -m pip install ${peer.pip} (on a box with an NVIDIA driver; select that interpreter with --python)`
      : `${this.python} -m pip install ${peer.pip} (bash scripts/setup-peers.sh makes a venv with every CPU peer; select it with --python .cache/peers-venv/bin/python)`;
  }

  private async ask(): Promise<Record<string, unknown>> {
    const worker = new PeerProcess(this.python, PEERS[this.name].worker);
    try {
      return await worker.request({ op: 'probe' });
    } finally {
      await worker.close();
    }
  }

  /** One worker start (an import of the engine, on a card a CUDA start) answers what is here and its versions. */
  async probe(): Promise<Probe> {
    const peer = PEERS[this.name];
    let r: Record<string, unknown>;
    try {
      r = await this.ask();
    } catch (err) {
      const message = (err as Error).message;
      if (/ENOENT/.test(message))
        return {
          available: false,
          reason: `no ${this.python} to run the ${this.name} peer`,
          fix: `install Python 3, or give run --python the interpreter; then ${this.install()}`,
        };
      const missing = /No module named '([^']+)'/.exec(message)?.[1];
      if (missing) return { available: false, reason: `${this.python} has no ${missing}`, fix: this.install() };
      return {
        available: false,
        reason: `the ${this.name} peer did not start: ${message}`,
        fix: `run ${this.python} python/peer.py ${peer.worker} and read its error`,
      };
    }
    const what = `${peer.module} ${String(r.version)} on Python ${String(r.python)} (${this.python})`;
    if (this.name === 'torch-cuda') {
      const devices = (r.devices as { name: string; capability: number[] }[] | undefined) ?? [];
      if (!r.cuda) return { available: false, reason: `${what} is a CPU build of torch`, fix: this.install() };
      if (!devices.length)
        return {
          available: false,
          reason: `${what} (CUDA ${String(r.cuda)}) sees no CUDA device`,
          fix: 'check the NVIDIA driver with nvidia-smi, and that CUDA_VISIBLE_DEVICES is not empty',
        };
      const cards = devices.map((d) => `${d.name} (compute ${d.capability.join('.')})`).join(', ');
      return { available: true, detail: `${what}, CUDA ${String(r.cuda)}: ${cards}`, hardware: true, versions: versionsOf(r) };
    }
    if (this.name === 'ort-python-cuda' && !(r.providers as string[]).includes('CUDAExecutionProvider'))
      return {
        available: false,
        reason: `${what} has no CUDAExecutionProvider (providers: ${(r.providers as string[]).join(', ')})`,
        fix: `${this.python} -m pip uninstall -y onnxruntime && ${this.install()}`,
      };
    return { available: true, detail: what, hardware: peer.placement === 'cuda', versions: versionsOf(r) };
  }

  unsupported(c: WorkloadCase): string | undefined {
    const peer = PEERS[this.name];
    if (peer.worker === 'ort') return c.dtype === 'bf16' || c.dtype === 'fp8' ? ONNX_DTYPE_REASON : undefined;
    if (c.layer.kind === 'attention' && peer.worker === 'numpy' && c.attnImpl === 'fused')
      return "fused attention is ONNX Runtime's contrib ops or torch's scaled_dot_product_attention; numpy has none";
    if (c.layer.kind === 'attention' && c.dtype === 'fp8')
      return "fp8 covers SwiGLU's and the roofline probe's products; the torch peers' attention runs fp32, tf32, fp16 and bf16";
    if (c.layer.kind === 'moe' && c.moeImpl === 'fused') return `fused is ONNX Runtime's com.microsoft.MoE contrib op; ${this.engine} has none`;
    if (peer.worker === 'numpy' && c.dtype !== 'fp32')
      return 'NumPy has no bfloat16 or float8, and its float16 matmul bypasses BLAS; the numpy peer runs fp32 (torch-cpu runs fp16, bf16 and fp8)';
    return undefined;
  }

  /** A worker for one more loaded model, and its release, which ends the worker after its last model. */
  private acquire(env: Record<string, string>): { worker: PeerProcess; release: () => Promise<void> } {
    const key = JSON.stringify(env);
    let slot = this.workers.get(key);
    if (!slot || slot.worker.ended) {
      slot = { worker: new PeerProcess(this.python, PEERS[this.name].worker, env), open: 0 };
      this.workers.set(key, slot);
    }
    const held = slot;
    held.open++;
    let released = false;
    return {
      worker: held.worker,
      release: async () => {
        if (released) return;
        released = true;
        if (--held.open > 0) return;
        if (this.workers.get(key) === held) this.workers.delete(key);
        await held.worker.close();
      },
    };
  }

  async load(c: WorkloadCase, inputs: CaseInputs, options?: LoadOptions): Promise<LoadedCase> {
    return this.open(c, inputs, false, options);
  }

  async loadOverhead(c: WorkloadCase, inputs: CaseInputs, options?: LoadOptions): Promise<LoadedCase> {
    return this.open(c, inputs, true, options);
  }

  private async open(c: WorkloadCase, inputs: CaseInputs, identity: boolean, options?: LoadOptions): Promise<LoadedCase> {
    const peer = PEERS[this.name];
    const dir = mkdtempSync(join(tmpdir(), 'moebench-peer-'));
    // ort-python runs moebench's own model file, or for the overhead its no-work model, written here
    let model: string | undefined;
    if (peer.worker === 'ort') {
      if (identity) {
        model = join(dir, 'overhead.onnx');
        writeFileSync(model, overheadModel(c, inputs));
      } else model = ensureModel(c, options?.modelDir ?? join(dir, 'models')).path;
    }
    const tensors: Record<string, PeerTensor> = !identity && !model ? ensurePeerWeights(c, options?.modelDir ?? join(dir, 'models')) : {};
    const write = (name: string, dims: number[], values: Float32Array, scale?: number) => {
      const path = join(dir, `${name}.f32`);
      writeFileSync(path, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
      tensors[name] = { path, dims, ...(scale === undefined ? {} : { scale }) };
    };
    for (const [name, t] of Object.entries(inputs.feeds)) write(name, t.dims, t.data, fp8ScaleOf(c, { name, scale: 1 }));
    const threads = options?.threads;
    // numpy's BLAS reads its thread count when it loads
    const env: Record<string, string> =
      peer.worker === 'numpy' && threads ? { OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) } : {};
    const { worker, release } = this.acquire(env);
    let recorded: Record<string, string | number | boolean>;
    let handle: unknown;
    try {
      const reply = await worker.request({
        op: 'load',
        case: {
          ...{ layer: c.layer, dtype: c.dtype, identity, moeImpl: c.moeImpl, expertsPerCard: c.expertsPerCard },
          ...{ phase: c.phase, batch: c.batch, seqLen: c.seqLen, contexts: contextsOf(c), attnImpl: c.attnImpl },
        },
        tensors,
        inputs: Object.keys(inputs.feeds),
        device: peer.placement === 'cuda' ? `cuda:${options?.deviceId ?? 0}` : 'cpu',
        ...(model ? { model } : {}),
        ...(threads ? { threads } : {}),
      });
      recorded = reply.recorded as typeof recorded;
      handle = reply.handle;
    } catch (err) {
      await release();
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    return {
      details: { python: this.python, worker: `python/peer.py ${peer.worker}`, ...recorded, ...(model ? { modelFile: model } : {}) },
      run: async () => {
        const r = await worker.request({ op: 'run', handle, calls: 1 });
        this.clock.advanceMs((r.ms as number[])[0]);
      },
      output: async () => {
        const path = join(dir, 'y.f32');
        await worker.request({ op: 'output', handle, path });
        const bytes = readFileSync(path);
        return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      },
      dispose: async () => {
        try {
          if (!worker.ended) await worker.request({ op: 'unload', handle });
        } finally {
          await release();
          rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  }
}
