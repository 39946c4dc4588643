import type { Clock } from '../measure/clock.js';
import { referenceRows } from '../workloads/reference.js';
import type { WorkloadCase } from '../workloads/spec.js';
import { WeightStore, type CaseInputs } from '../workloads/tensors.js';
import type { Backend, LoadedCase, Probe } from './backend.js';

/** What the fake backend does, scripted (like hyperfine's mock executor). */
export interface FakeScript {
  /** Call latencies in ms, used cyclically; time passes only on the fake's own clock. */
  latenciesMs: number[];
  /** Adds this relative error to the output, to exercise the invalid path. */
  outputError?: number;
  /** Case ids (substring match) whose load throws. */
  failCases?: string[];
}

/** A virtual clock that only moves when the fake backend "runs". */
export class FakeClock implements Clock {
  private ns = 0n;
  nowNs(): bigint {
    return this.ns;
  }
  advanceMs(ms: number): void {
    this.ns += BigInt(Math.round(ms * 1e6));
  }
}

export class FakeBackend implements Backend {
  readonly name = 'fake';
  readonly engine = 'fake';
  readonly executionProvider = 'fake';
  readonly clock = new FakeClock();
  private call = 0;

  constructor(private readonly script: FakeScript) {
    if (script.latenciesMs.length === 0) throw new Error('fake backend needs at least one latency');
  }

  async probe(): Promise<Probe> {
    return { available: true, detail: 'scripted latencies for tests', hardware: false };
  }

  unsupported(): string | undefined {
    return undefined;
  }

  async load(c: WorkloadCase, inputs: CaseInputs): Promise<LoadedCase> {
    if (this.script.failCases?.some((s) => c.id.includes(s))) throw new Error(`scripted failure loading ${c.id}`);
    const rows = inputs.feeds.x.dims[0];
    return {
      details: { scripted: true },
      run: async () => {
        this.clock.advanceMs(this.script.latenciesMs[this.call++ % this.script.latenciesMs.length]);
      },
      output: async () => {
        const all = Array.from({ length: rows }, (_, i) => i);
        const ref = referenceRows(c, inputs, new WeightStore(c), all);
        const scale = 1 + (this.script.outputError ?? 0);
        return Float32Array.from(ref, (v) => v * scale);
      },
      dispose: async () => {},
    };
  }
}

/** The fake is selected with --backend fake and scripted through MOEBENCH_FAKE_SCRIPT (JSON). */
export function fakeScriptFromEnv(env: NodeJS.ProcessEnv = process.env): FakeScript {
  const text = env.MOEBENCH_FAKE_SCRIPT;
  if (!text) return { latenciesMs: [1] };
  return JSON.parse(text) as FakeScript;
}
