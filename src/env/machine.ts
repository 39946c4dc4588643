import { execFileSync, type ExecFileSyncOptionsWithStringEncoding } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import type { Environment, GpuInfo } from '../results/schema.js';
import { softwareVulkanSelected } from './vulkan.js';
import { projectRoot } from '../files/projectRoot.js';
import type { CardChoice, Placement } from './cards.js';

const require = createRequire(import.meta.url);

/** The engine packages whose versions go into every result file. */
export const RECORDED_PACKAGES = [
  'onnxruntime-node',
  'onnxruntime-common',
  'onnx-proto',
  'simple-statistics',
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-backend-cpu',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-backend-webgpu',
  'webgpu',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
];

/** Variables that change which device or driver a run uses. */
export const RECORDED_ENV_VARS = [
  'VK_ICD_FILENAMES',
  'VK_DRIVER_FILES',
  'CUDA_VISIBLE_DEVICES',
  'OMP_NUM_THREADS',
  'LD_LIBRARY_PATH',
  // math modes containers set: they decide whether fp32 matmuls run as TF32
  'NVIDIA_TF32_OVERRIDE',
  'TORCH_ALLOW_TF32_CUBLAS_OVERRIDE',
  'CUBLAS_WORKSPACE_CONFIG',
  'TF_ENABLE_ONEDNN_OPTS',
  // the peer engines' interpreter (--python) and their BLAS threads
  'MOEBENCH_PYTHON',
  'OPENBLAS_NUM_THREADS',
];

export function moebenchVersion(): string {
  return (JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * The commit moebench runs from, with "-dirty" when tracked files differ from it (results from a
 * modified tree must not pass for the commit's); a packed bundle (scripts/pack-offline.sh), which
 * has no .git, carries it in GIT_SHA.
 */
export function gitSha(): string | undefined {
  const root = projectRoot();
  const git: ExecFileSyncOptionsWithStringEncoding = { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 };
  try {
    const sha = execFileSync('git', ['rev-parse', 'HEAD'], git).trim();
    try {
      execFileSync('git', ['diff', '--quiet', 'HEAD', '--'], git);
      return sha;
    } catch (err) {
      return (err as { status?: number }).status === 1 ? `${sha}-dirty` : sha;
    }
  } catch {
    try {
      return readFileSync(join(root, 'GIT_SHA'), 'utf8').trim() || undefined;
    } catch {
      return undefined;
    }
  }
}

export function packageVersions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of RECORDED_PACKAGES) {
    try {
      out[name] = (require(`${name}/package.json`) as { version: string }).version;
    } catch {
      /* not installed */
    }
  }
  return out;
}

export interface EnvironmentInputs {
  commandLine: string[];
  backendsAvailable: string[];
  /** Versions the backends report of what they run on (the peers' Python packages), beside moebench's engine packages. */
  packages?: Record<string, string>;
  gpus: GpuInfo[];
  startedAt: string;
}

export function captureEnvironment(inputs: EnvironmentInputs): Environment {
  const cpus = os.cpus();
  const envVars: Record<string, string> = {};
  for (const name of RECORDED_ENV_VARS) if (process.env[name]) envVars[name] = process.env[name] as string;
  return {
    host: os.hostname(),
    os: { platform: process.platform, release: os.release(), arch: process.arch },
    cpu: { model: cpus[0]?.model?.trim() ?? 'unknown', cores: cpus.length },
    memoryBytes: os.totalmem(),
    node: process.version,
    packages: { ...packageVersions(), ...inputs.packages },
    backendsAvailable: inputs.backendsAvailable,
    gpus: inputs.gpus,
    moebench: { version: moebenchVersion(), gitSha: gitSha() },
    commandLine: inputs.commandLine,
    envVars,
    ...slurmJob(process.env),
    startedAt: inputs.startedAt,
  };
}

/** The Slurm job this process runs in, from the variables Slurm sets in a batch job. */
export function slurmJob(env: NodeJS.ProcessEnv): Pick<Environment, 'slurm'> {
  if (!env.SLURM_JOB_ID) return {};
  const optional = (key: string, value: string | undefined) => (value ? { [key]: value } : {});
  return {
    slurm: {
      jobId: env.SLURM_JOB_ID,
      ...optional('arrayJobId', env.SLURM_ARRAY_JOB_ID),
      ...optional('arrayTaskId', env.SLURM_ARRAY_TASK_ID),
      ...optional('partition', env.SLURM_JOB_PARTITION),
      ...optional('nodeList', env.SLURM_JOB_NODELIST),
      ...optional('restartCount', env.SLURM_RESTART_COUNT),
    },
  };
}

/** The host CPU as a card: model, cores, memory. */
export function describeHostCpu(): string {
  const cpus = os.cpus();
  return `cpu (${cpus[0]?.model?.trim() ?? 'unknown'}, ${cpus.length} cores, ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB)`;
}

/** The card a case runs on, as recorded: "gpu:N (name)", the host CPU described, or what is known of a WebGPU adapter. */
export function describeDevice(placement: Placement, choice: CardChoice, gpus: GpuInfo[]): string {
  if (placement === 'host') return describeHostCpu();
  const cpus = os.cpus();
  if (placement === 'webgpu' && softwareVulkanSelected())
    return `cpu via software WebGPU (lavapipe; ${cpus[0]?.model?.trim() ?? 'unknown'}, ${cpus.length} cores)`;
  if (choice.card) return `gpu:${choice.card.index} (${choice.card.name})`;
  if (placement === 'webgpu') {
    return gpus.length > 1
      ? `gpu (the adapter Dawn picked, one of ${gpus.length} cards: ${[...new Set(gpus.map((g) => g.name))].join(', ')})`
      : 'gpu (WebGPU adapter)';
  }
  // a CUDA engine without nvidia-smi's list: CUDA's own numbering
  return `gpu:${choice.deviceId}`;
}
