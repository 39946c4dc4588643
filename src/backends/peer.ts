import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import type { Clock } from '../measure/clock.js';
import type { WorkloadCase } from '../workloads/spec.js';
import { tensorValues, weightDecls, type CaseInputs } from '../workloads/tensors.js';
import type { Backend, LoadedCase, LoadOptions, Probe } from './backend.js';
import { ensureModel } from '../onnx/modelFile.js';
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

type Reply = { ok: true; [key: string]: unknown } | { ok: false; error: string };

/** One worker process and its line-based JSON protocol: a request, then its reply. */
class PeerProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: Interface;
  private readonly pending: ((line: string | undefined) => void)[] = [];
  private stderr = '';
  private exited?: string;

  constructor(python: string, engine: string) {
    this.child = spawn(python, [workerPath(), engine], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    this.child.on('error', (err) => this.end(err.message));
    this.child.on('exit', (code, signal) => this.end(`exited with ${signal ?? `code ${code}`}`));
    this.lines = createInterface({ input: this.child.stdout });
    this.lines.on('line', (line) => this.pending.shift()?.(line));
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
    if (!reply.ok) throw new Error(reply.error);
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

/** The peers: the worker's engine argument, what it is, and the pip requirement that installs it. */
const PEERS = {
  numpy: { worker: 'numpy', engine: 'numpy', provider: 'numpy', module: 'numpy', pip: 'numpy==2.4.6' },
  'torch-cpu': { worker: 'torch', engine: 'torch', provider: 'cpu', module: 'torch', pip: 'torch==2.13.0+cpu' },
  'ort-python': {
    worker: 'ort',
    engine: 'onnxruntime (Python)',
    provider: 'CPUExecutionProvider',
    module: 'onnxruntime',
    pip: 'onnxruntime==1.30.0',
  },
} as const;
export type PeerName = keyof typeof PEERS;

/**
 * A peer engine through python/peer.py: numpy and torch compute the same layers from the same
 * seeded weights and inputs, written once as raw float32 files so both sides hold byte-identical
 * data; ort-python runs the very .onnx file moebench built through onnxruntime's Python binding,
 * which beside ort-cpu isolates what the Node binding costs. Checked against the same float64
 * reference and measured by the same sampler. A reference point in the same run, not a serving
 * engine.
 */
export class PeerBackend implements Backend {
  readonly engine: string;
  readonly executionProvider: string;
  readonly placement = 'host' as const;
  readonly clock = new ReportedClock();

  /** MOEBENCH_PYTHON (run --python): the interpreter, a lab's conda or venv; python3 on PATH otherwise. */
  constructor(
    readonly name: PeerName = 'numpy',
    private readonly python: string = process.env.MOEBENCH_PYTHON ?? 'python3',
  ) {
    this.engine = PEERS[name].engine;
    this.executionProvider = PEERS[name].provider;
  }

  async probe(): Promise<Probe> {
    const peer = PEERS[this.name];
    const worker = new PeerProcess(this.python, peer.worker);
    const install = `${this.python} -m pip install ${peer.pip} (bash scripts/setup-peers.sh makes a venv with every peer; select it with --python .cache/peers-venv/bin/python)`;
    try {
      const r = await worker.request({ op: 'probe' });
      return { available: true, detail: `${peer.module} ${String(r.version)} on Python ${String(r.python)} (${this.python})`, hardware: false };
    } catch (err) {
      const message = (err as Error).message;
      if (/ENOENT/.test(message))
        return {
          available: false,
          reason: `no ${this.python} to run the ${this.name} peer`,
          fix: `install Python 3, or give run --python the interpreter; then ${install}`,
        };
      const missing = /No module named '([^']+)'/.exec(message)?.[1];
      if (missing) return { available: false, reason: `${this.python} has no ${missing}`, fix: install };
      return {
        available: false,
        reason: `the ${this.name} peer did not start: ${message}`,
        fix: `run ${this.python} python/peer.py ${peer.worker} and read its error`,
      };
    } finally {
      await worker.close();
    }
  }

  unsupported(c: WorkloadCase): string | undefined {
    if (this.name === 'ort-python') {
      if (c.dtype === 'tf32') return 'TF32 is a CUDA math mode; ort-python runs the CPU execution provider';
      return undefined;
    }
    if (c.layer.kind === 'attention') return `the ${this.name} peer has no attention layer yet`;
    if (c.layer.kind === 'moe' && c.moeImpl === 'fused') return `fused is ONNX Runtime's com.microsoft.MoE contrib op; ${this.engine} has none`;
    if (c.dtype !== 'fp32') return `the ${this.name} peer runs fp32 only so far`;
    return undefined;
  }

  async load(c: WorkloadCase, inputs: CaseInputs, options?: LoadOptions): Promise<LoadedCase> {
    return this.open(c, inputs, false, options);
  }

  async loadOverhead(c: WorkloadCase, inputs: CaseInputs, options?: LoadOptions): Promise<LoadedCase> {
    return this.open(c, inputs, true, options);
  }

  private async open(c: WorkloadCase, inputs: CaseInputs, identity: boolean, options?: LoadOptions): Promise<LoadedCase> {
    const dir = mkdtempSync(join(tmpdir(), 'moebench-peer-'));
    // ort-python runs moebench's own model file, or for the overhead its no-work model, written here
    let model: string | undefined;
    if (this.name === 'ort-python') {
      if (identity) {
        model = join(dir, 'overhead.onnx');
        writeFileSync(model, overheadModel(c, inputs));
      } else model = ensureModel(c, options?.modelDir ?? join(dir, 'models')).path;
    }
    const tensors: Record<string, { path: string; dims: number[] }> = {};
    const write = (name: string, dims: number[], values: Float32Array) => {
      const path = join(dir, `${name}.f32`);
      writeFileSync(path, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
      tensors[name] = { path, dims };
    };
    if (!identity && !model) for (const decl of weightDecls(c)) write(decl.name, decl.dims, tensorValues(c, decl));
    for (const [name, t] of Object.entries(inputs.feeds)) write(name, t.dims, t.data);
    const worker = new PeerProcess(this.python, PEERS[this.name].worker);
    try {
      await worker.request({
        op: 'load',
        case: { layer: c.layer, identity, moeImpl: c.moeImpl, expertsPerCard: c.expertsPerCard },
        tensors,
        inputs: Object.keys(inputs.feeds),
        ...(model ? { model } : {}),
        ...(options?.threads ? { threads: options.threads } : {}),
      });
    } catch (err) {
      await worker.close();
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    return {
      details: { python: this.python, worker: `python/peer.py ${PEERS[this.name].worker}`, ...(model ? { modelFile: model } : {}) },
      run: async () => {
        const r = await worker.request({ op: 'run', calls: 1 });
        this.clock.advanceMs((r.ms as number[])[0]);
      },
      output: async () => {
        const path = join(dir, 'y.f32');
        await worker.request({ op: 'output', path });
        const bytes = readFileSync(path);
        return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      },
      dispose: async () => {
        await worker.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}
