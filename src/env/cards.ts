import { UsageError } from '../errors.js';
import type { GpuInfo } from '../results/schema.js';
import { softwareVulkanSelected } from './vulkan.js';

/**
 * Where a backend's work runs, which decides whether it can be pointed at one card:
 * - `cuda`: a CUDA engine (ORT's CUDA EP, libtensorflow). Its worker is pinned to one card with
 *   CUDA_VISIBLE_DEVICES=<uuid>, so the engine's device 0 is that card whatever order CUDA
 *   numbers cards in (fastest first by default, while nvidia-smi's index is PCI order).
 * - `webgpu`: the adapter Dawn picks (high-performance). Vulkan ignores CUDA_VISIBLE_DEVICES and
 *   Dawn selects adapters only by name, which identical cards share, so it cannot be pointed at one.
 * - `host`: the host CPU.
 */
export type Placement = 'cuda' | 'webgpu' | 'host';

/**
 * A case's recorded device is the host CPU: describeDevice (machine.ts) begins every host-CPU label
 * with "cpu", a CPU engine's and WebGPU's on a software adapter alike. What onHostCpu decides
 * before a run, read back from its file.
 */
export function deviceOnHostCpu(device: string): boolean {
  return device.startsWith('cpu');
}

/** Work placed so runs on the host CPU: a CPU engine, or WebGPU on a software adapter (lavapipe), whatever cards the host has. */
export function onHostCpu(placement: Placement, env: NodeJS.ProcessEnv = process.env): boolean {
  return placement === 'host' || (placement === 'webgpu' && softwareVulkanSelected(env));
}

/**
 * The cards a CUDA process may use: nvidia-smi lists every card and ignores CUDA_VISIBLE_DEVICES,
 * which may hide some (a scheduler's allocation). Entries are nvidia-smi indices or GPU UUIDs (or
 * their unique prefixes); as in CUDA, the list ends at the first entry that names no card.
 * Undefined when the variable names devices nvidia-smi does not list (MIG instances): then only
 * CUDA's own numbering means anything.
 */
export function visibleCards(gpus: GpuInfo[], cudaVisibleDevices: string | undefined): GpuInfo[] | undefined {
  if (cudaVisibleDevices === undefined) return gpus;
  const entries = cudaVisibleDevices
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (entries.some((e) => e.startsWith('MIG-'))) return undefined;
  const found: GpuInfo[] = [];
  for (const entry of entries) {
    const card = /^\d+$/.test(entry)
      ? gpus.find((g) => g.index === Number(entry))
      : gpus.find((g) => entry.startsWith('GPU-') && g.uuid.startsWith(entry));
    if (!card) break;
    if (!found.includes(card)) found.push(card);
  }
  return found;
}

/** The card a run's cases go to, and how the case worker is pointed at it. */
export interface CardChoice {
  /** The card, when known: it names the device in the result and is read before and after each case. */
  card?: GpuInfo;
  /** Added to the case worker's environment: pins a CUDA engine to the card. */
  workerEnv: Record<string, string>;
  /** The device index handed to the engine: 0 once pinned (the card is then the only one CUDA sees). */
  deviceId: number;
}

/**
 * Which card a backend with this placement runs on, for `--device requested` (undefined: not
 * given). Refuses what would be recorded as one card while running on another.
 */
export function chooseCard(
  backend: string,
  placement: Placement,
  requested: number | undefined,
  gpus: GpuInfo[],
  visible: GpuInfo[] | undefined,
  cudaVisibleDevices?: string,
): CardChoice {
  if (placement === 'host') return { workerEnv: {}, deviceId: 0 };
  if (placement === 'webgpu') {
    if (gpus.length > 1 && requested !== undefined) {
      throw new UsageError(
        `${backend} runs on the adapter Dawn picks and cannot be pointed at card ${requested} of the ${gpus.length} nvidia-smi lists: use ort-cuda or tfjs-node-gpu to choose a card, or leave out --device`,
      );
    }
    if (requested !== undefined && gpus.length === 1 && requested !== gpus[0].index)
      throw new UsageError(`no GPU ${requested}: nvidia-smi lists only card ${gpus[0].index}`);
    return { card: gpus.length === 1 ? gpus[0] : undefined, workerEnv: {}, deviceId: 0 };
  }
  // cuda: without nvidia-smi's list (or with MIG devices) only CUDA's own numbering is known
  if (gpus.length === 0 || visible === undefined) return { workerEnv: {}, deviceId: requested ?? 0 };
  const hidden = cudaVisibleDevices === undefined ? '' : ` (CUDA_VISIBLE_DEVICES=${cudaVisibleDevices} hides the others)`;
  if (visible.length === 0)
    throw new UsageError(`no GPU visible: CUDA_VISIBLE_DEVICES=${cudaVisibleDevices ?? ''} hides all ${gpus.length} cards nvidia-smi lists`);
  const card = requested === undefined ? visible[0] : visible.find((g) => g.index === requested);
  if (!card)
    throw new UsageError(`no GPU ${requested}: the cards are ${visible.map((g) => g.index).join(', ')}${hidden} (--device takes nvidia-smi's index)`);
  return { card, workerEnv: { CUDA_VISIBLE_DEVICES: card.uuid }, deviceId: 0 };
}

/** How `--device all` runs its one process per card. */
export interface PerCardSchedule {
  parallel: boolean;
  /** ORT intra-op threads per card's process: the host's cores shared out, unless --threads was given. */
  threadsPerCard?: number;
  why: string;
}

/**
 * Cards pinned one per process share nothing but the host, so they run in parallel when the host
 * has a core for each card's process (which feeds its card, copies and launches); with fewer cores
 * the processes would take turns on the CPU and slow each other's cards, so they run one after
 * another. In parallel each process gets its share of the cores: ORT's default of one thread per
 * core in every process would oversubscribe the host many times over.
 */
export function perCardSchedule(cards: number, hostCores: number, threads: number | undefined): PerCardSchedule {
  if (cards > hostCores) {
    return {
      parallel: false,
      threadsPerCard: threads,
      why: `one after another: ${cards} cards but ${hostCores} host cores, and processes in parallel would compete for the CPU that feeds the cards`,
    };
  }
  const threadsPerCard = threads ?? Math.floor(hostCores / cards);
  return {
    parallel: true,
    threadsPerCard,
    why: `in parallel: each pinned to its card, ${threadsPerCard} ORT thread(s) each of ${hostCores} host cores`,
  };
}
