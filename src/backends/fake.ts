import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import type { Placement } from '../env/cards.js';
import type { Clock } from '../measure/clock.js';
import type { WorkloadCase } from '../workloads/spec.js';
import { WeightStore, type CaseInputs } from '../workloads/tensors.js';
import type { Backend, LoadedCase, Probe } from './backend.js';
import { fakeForward } from './fakeForward.js';

/** What the fake backend does, scripted (like hyperfine's mock executor). */
export interface FakeScript {
  /** Call latencies in ms, used cyclically; time passes only on the fake's own clock. */
  latenciesMs: number[];
  /** Latencies by case (one value or a cycle): the first key found in the case id wins over latenciesMs. */
  latencyByCase?: Record<string, number | number[]>;
  /** What the fake says it runs on, so fixtures can stand for different cards. */
  device?: string;
  /** Each load starts a long-lived helper process (as engines and nvidia-smi's loop do) and writes its pid here. */
  helperPidFile?: string;
  /** Its probe crashes the process it runs in (SIGSEGV), as a broken driver can. */
  probeCrash?: boolean;
  /** Where it claims to run (default cuda: it stands in for a card that can be pinned). */
  placement?: Placement;
  /** Added per token of the case, so token sweeps have a slope (default 0). */
  msPerToken?: number;
  /** Adds this relative error to the output, to exercise the invalid path. */
  outputError?: number;
  /** Tensors the engine "leaks" per call, reported through memory(), to exercise the leak check. */
  leakPerCall?: number;
  /** Latency of the no-work overhead model, ms (default 0). */
  overheadMs?: number;
  /** Case ids (substring match) whose load throws. */
  failCases?: string[];
  /** Case ids whose worker crashes with SIGSEGV, exhausts the heap, or hangs forever. */
  crashCases?: string[];
  oomCases?: string[];
  hangCases?: string[];
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
  readonly deviceLabel: string;
  readonly placement: Placement;
  private call = 0;

  constructor(private readonly script: FakeScript) {
    if (script.latenciesMs.length === 0) throw new Error('fake backend needs at least one latency');
    this.deviceLabel = `fake (${script.device ?? 'scripted latencies'})`;
    this.placement = script.placement ?? 'cuda';
  }

  async probe(): Promise<Probe> {
    if (this.script.probeCrash) process.kill(process.pid, 'SIGSEGV');
    return { available: true, detail: 'scripted latencies for tests', hardware: false };
  }

  unsupported(): string | undefined {
    return undefined;
  }

  async load(c: WorkloadCase, inputs: CaseInputs): Promise<LoadedCase> {
    if (this.script.helperPidFile) writeFileSync(this.script.helperPidFile, String(spawn('sleep', ['600'], { stdio: 'ignore' }).pid));
    const hit = (list?: string[]) => list?.some((s) => c.id.includes(s));
    if (hit(this.script.failCases)) throw new Error(`scripted failure loading ${c.id}`);
    if (hit(this.script.crashCases)) process.kill(process.pid, 'SIGSEGV');
    if (hit(this.script.oomCases)) exhaustHeap();
    if (hit(this.script.hangCases)) await new Promise(() => setInterval(() => undefined, 1000));
    let calls = 0;
    return {
      details: { scripted: true },
      ...(this.script.leakPerCall !== undefined ? { memory: () => ({ numTensors: 10 + calls * this.script.leakPerCall!, numBytes: 0 }) } : {}),
      run: async () => {
        calls++;
        const scripted = Object.entries(this.script.latencyByCase ?? {}).find(([k]) => c.id.includes(k))?.[1];
        const cycle = scripted === undefined ? this.script.latenciesMs : Array.isArray(scripted) ? scripted : [scripted];
        const base = cycle[this.call++ % cycle.length];
        this.clock.advanceMs(base + (this.script.msPerToken ?? 0) * c.numTokens);
      },
      output: async () => {
        calls++;
        const scale = 1 + (this.script.outputError ?? 0);
        return fakeForward(c, inputs, new WeightStore(c)).map((v) => v * scale);
      },
      dispose: async () => {},
    };
  }

  async loadOverhead(): Promise<LoadedCase> {
    const ms = this.script.overheadMs ?? 0;
    return {
      details: {},
      run: async () => this.clock.advanceMs(ms),
      output: async () => new Float32Array(0),
      dispose: async () => {},
    };
  }
}

function exhaustHeap(): never {
  const hoard: number[][] = [];
  for (;;) hoard.push(new Array(1e6).fill(Math.random()));
}

/** The fake is selected with --backend fake and scripted through MOEBENCH_FAKE_SCRIPT (JSON). */
export function fakeScriptFromEnv(env: NodeJS.ProcessEnv = process.env): FakeScript {
  const text = env.MOEBENCH_FAKE_SCRIPT;
  if (!text) return { latenciesMs: [1] };
  return JSON.parse(text) as FakeScript;
}
