import type { Placement } from '../env/cards.js';
import type { OpTypeTime } from './ortProfile.js';
import type { CaseInputs } from '../workloads/tensors.js';
import type { WorkloadCase } from '../workloads/spec.js';

/** Whether a backend can run here; when not, why and the command that fixes it. */
export type Probe =
  | {
      available: true;
      detail: string;
      hardware: boolean;
      /**
       * Versions of what the engine runs on beyond moebench's own packages (a peer's Python, torch,
       * CUDA), for the result file's environment: part of the probe because finding them starts
       * the engine, and a probe run in a child process brings them back with it.
       */
      versions?: Record<string, string>;
    }
  | { available: false; reason: string; fix: string };

export interface LoadOptions {
  /** Where generated model files are cached. */
  modelDir: string;
  /** CUDA device index (0 once the worker is pinned to its card through CUDA_VISIBLE_DEVICES). */
  deviceId: number;
  /** Intra-op CPU threads where the engine lets us set them (ORT); undefined leaves the engine's default. */
  threads?: number;
}

/** A case ready to run: weights loaded, inputs staged, nothing left but the timed calls. */
export interface LoadedCase {
  /** One timed call: resolves when the output is ready on the host. */
  run(): Promise<void>;
  /** The output of one call, [rows, hidden] row-major, as float32. */
  output(): Promise<Float32Array>;
  dispose(): Promise<void>;
  /** The engine's memory figures now (TF.js: tf.memory()), for leak checks; absent where the engine has none. */
  memory?(): Record<string, number>;
  /** Per-operator-type times over `runs` extra calls, where the engine has a profiler. */
  profile?(runs: number): Promise<OpTypeTime[]>;
  /** What was loaded (model file, sizes), recorded in the result. */
  readonly details: Record<string, string | number | boolean>;
}

/** The one seam every engine implements: ONNX Runtime providers, TF.js backends, the fake. */
export interface Backend {
  /** Name used on the command line and in result files, e.g. "ort-cpu". */
  readonly name: string;
  readonly engine: string;
  readonly executionProvider: string;
  /** Where its work runs (a CUDA card, the WebGPU adapter, the host CPU): decides what --device can do. */
  readonly placement: Placement;
  /** What the backend runs on, when it knows better than the host description (the fake's scripted card). */
  readonly deviceLabel?: string;
  probe(): Promise<Probe>;
  /** Why this backend cannot run a case, or undefined when it can. */
  unsupported(c: WorkloadCase): string | undefined;
  /** What the engine's arithmetic does to a case's accuracy, said when its output misses the tolerance. */
  accuracyNote?(c: WorkloadCase): string | undefined;
  load(c: WorkloadCase, inputs: CaseInputs, options: LoadOptions): Promise<LoadedCase>;
  /** A model with the same inputs and output that does no layer work: the fixed cost of one call. */
  loadOverhead(c: WorkloadCase, inputs: CaseInputs, options: LoadOptions): Promise<LoadedCase>;
}

/** A load refused by what the device turned out to be (a card without FP8), which unsupported() could not know: the case is skipped with this reason. */
export class UnsupportedHere extends Error {}
