import { UsageError } from '../errors.js';
import type { Dtype } from '../workloads/spec.js';

/**
 * Vendor datasheet peaks of common data-center cards: dense (no sparsity) tensor
 * throughput per dtype and memory bandwidth. Used only for roofline fractions and
 * for scaling figures between cards; every entry names its source.
 */
export interface CardPeak {
  name: string;
  /**
   * The names nvidia-smi (or the vendor's tool) reports for this card and no other: "NVIDIA GH200
   * 480GB" is not an H200, "NVIDIA A100-SXM4-40GB" not an 80 GB A100 (word boundaries and the memory
   * size where a model comes in two).
   */
  match: RegExp;
  /** TFLOP/s, dense. fp32 is the non-tensor-core figure; a mode a card's sources do not give is absent. */
  tflops: { fp32?: number; tf32?: number; fp16?: number; bf16?: number; fp8?: number };
  memoryBandwidthTBps: number;
  memoryGiB: number;
  source: string;
  /**
   * Not a datasheet row: an engine's ceilings measured on a device that has none (a CPU, a card
   * outside the table), read from a run's roofline probes. Good for sizing that device for itself,
   * never for scaling to or from another card.
   */
  measured?: boolean;
}

export const CARD_PEAKS: readonly CardPeak[] = [
  {
    name: 'NVIDIA H100 SXM5 80GB',
    match: /\bH100\b.*(SXM|HBM3)/i,
    tflops: { fp32: 67, tf32: 494.7, fp16: 989.4, bf16: 989.4, fp8: 1978.9 },
    memoryBandwidthTBps: 3.35,
    memoryGiB: 80,
    source: 'NVIDIA H100 Tensor Core GPU datasheet (2023), SXM column, dense figures (half of the with-sparsity values)',
  },
  {
    name: 'NVIDIA H100 PCIe 80GB',
    match: /\bH100\b.*PCIe/i,
    tflops: { fp32: 51, tf32: 378, fp16: 756, bf16: 756, fp8: 1513 },
    memoryBandwidthTBps: 2.0,
    memoryGiB: 80,
    source: 'NVIDIA H100 Tensor Core GPU datasheet (2023), PCIe column, dense figures',
  },
  {
    name: 'NVIDIA H100 NVL 94GB',
    match: /\bH100 NVL\b/i,
    tflops: { fp32: 60, tf32: 417.5, fp16: 835, bf16: 835, fp8: 1670.5 },
    memoryBandwidthTBps: 3.9,
    memoryGiB: 94,
    source: 'NVIDIA H100 Tensor Core GPU datasheet (2023), H100 NVL column, dense figures',
  },
  {
    name: 'NVIDIA H200 SXM 141GB',
    // not GH200 (a Grace Hopper superchip), not the H200 NVL
    match: /\bH200\b(?!.*NVL)/i,
    tflops: { fp32: 67, tf32: 494.7, fp16: 989.4, bf16: 989.4, fp8: 1978.9 },
    memoryBandwidthTBps: 4.8,
    memoryGiB: 141,
    source: 'NVIDIA H200 Tensor Core GPU datasheet (2024), SXM column, dense figures',
  },
  {
    name: 'NVIDIA H20 96GB',
    match: /\bH20\b/i,
    tflops: { fp32: 44, tf32: 74, fp16: 148, bf16: 148, fp8: 296 },
    memoryBandwidthTBps: 4.0,
    memoryGiB: 96,
    source: 'NVIDIA H20 product brief as reported in 2024 (dense figures)',
  },
  {
    name: 'NVIDIA A100 SXM4 80GB',
    match: /\bA100\b.*SXM.*80\s?GB/i,
    tflops: { fp32: 19.5, tf32: 156, fp16: 312, bf16: 312 },
    memoryBandwidthTBps: 2.039,
    memoryGiB: 80,
    source: 'NVIDIA A100 Tensor Core GPU datasheet (2021), 80GB SXM column, dense figures',
  },
  {
    name: 'NVIDIA A100 PCIe 80GB',
    match: /\bA100\b(?=.*PCIe)(?=.*80\s?GB)/i,
    tflops: { fp32: 19.5, tf32: 156, fp16: 312, bf16: 312 },
    memoryBandwidthTBps: 1.935,
    memoryGiB: 80,
    source: 'NVIDIA A100 Tensor Core GPU datasheet (2021), 80GB PCIe column, dense figures',
  },
  {
    name: 'NVIDIA L40S 48GB',
    match: /\bL40S\b/i,
    tflops: { fp32: 91.6, tf32: 183, fp16: 362, bf16: 362, fp8: 733 },
    memoryBandwidthTBps: 0.864,
    memoryGiB: 48,
    source: 'NVIDIA L40S datasheet (2023), dense figures',
  },
  {
    name: 'NVIDIA L4 24GB',
    match: /\bL4\b/i,
    tflops: { fp32: 30.3, tf32: 60, fp16: 121, bf16: 121, fp8: 242.5 },
    memoryBandwidthTBps: 0.3,
    memoryGiB: 24,
    source: 'NVIDIA L4 datasheet (2023), dense figures',
  },
  {
    name: 'NVIDIA B200 180GB',
    match: /(?<!G)\bB200\b/i,
    tflops: { fp32: 75, tf32: 1100, fp16: 2250, bf16: 2250, fp8: 4500 },
    memoryBandwidthTBps: 8.0,
    memoryGiB: 180,
    source: 'NVIDIA DGX B200 / HGX B200 datasheet (2024), per GPU, dense figures',
  },
  {
    name: 'NVIDIA A100 SXM4 40GB',
    match: /\bA100\b.*SXM.*40\s?GB/i,
    tflops: { fp32: 19.5, tf32: 156, fp16: 312, bf16: 312 },
    memoryBandwidthTBps: 1.555,
    memoryGiB: 40,
    source: 'NVIDIA A100 Tensor Core GPU datasheet (2021), 40GB SXM column, dense figures',
  },
  {
    name: 'NVIDIA A100 PCIe 40GB',
    match: /\bA100\b(?=.*PCIe)(?=.*40\s?GB)/i,
    tflops: { fp32: 19.5, tf32: 156, fp16: 312, bf16: 312 },
    memoryBandwidthTBps: 1.555,
    memoryGiB: 40,
    source: 'NVIDIA A100 Tensor Core GPU datasheet (2021), 40GB PCIe column, dense figures',
  },
  {
    name: 'NVIDIA H800 SXM5 80GB',
    // nvidia-smi says "NVIDIA H800" for the SXM card
    match: /\bH800\b(?!.*PCIe)/i,
    tflops: { fp32: 67, tf32: 494.7, fp16: 989.4, bf16: 989.4, fp8: 1978.9 },
    memoryBandwidthTBps: 3.35,
    memoryGiB: 80,
    source:
      "as reported: the H100 SXM's die and dense figures, with NVLink cut to 400 GB/s and FP64 to 1 TFLOP/s (NVIDIA's H800 figures are published only through its partners); the DeepSeek forecasts' card",
  },
  {
    name: 'NVIDIA H800 PCIe 80GB',
    match: /\bH800\b.*PCIe/i,
    tflops: { fp32: 51, tf32: 378, fp16: 756, bf16: 756, fp8: 1513 },
    memoryBandwidthTBps: 2.0,
    memoryGiB: 80,
    source: "as reported: the H100 PCIe's dense figures, with reduced NVLink and FP64 (partners' H800 PCIe datasheets)",
  },
  {
    name: 'NVIDIA H200 NVL 141GB',
    match: /\bH200 NVL\b/i,
    tflops: { fp32: 60, tf32: 417.5, fp16: 835, bf16: 835, fp8: 1670.5 },
    memoryBandwidthTBps: 4.8,
    memoryGiB: 141,
    source: 'NVIDIA H200 Tensor Core GPU datasheet (2024), H200 NVL column, dense figures',
  },
  {
    name: 'NVIDIA GB200 (per GPU) 186GB',
    match: /\bGB200\b/i,
    tflops: { fp32: 90, tf32: 1250, fp16: 2500, bf16: 2500, fp8: 5000 },
    memoryBandwidthTBps: 8.0,
    memoryGiB: 186,
    source: 'NVIDIA GB200 NVL72 datasheet (2024), one GB200 superchip (two Blackwell GPUs) halved, dense figures (half of the with-sparsity values)',
  },
  {
    name: 'Huawei Ascend 910B 64GB',
    match: /\b910B\d?\b/i,
    // no fp32 or TF32 tensor figure is public: fp32 and tf32 cases get no roofline on it
    tflops: { fp16: 320, bf16: 320 },
    memoryBandwidthTBps: 1.6,
    memoryGiB: 64,
    source:
      'as reported (secondary sources, 2024): about 320 TFLOP/s FP16 dense, 64 GB HBM2e at about 1.6 TB/s; Huawei publishes no datasheet figures',
  },
  {
    name: 'AMD Instinct MI300X 192GB',
    match: /MI300X/i,
    tflops: { fp32: 163.4, tf32: 653.7, fp16: 1307.4, bf16: 1307.4, fp8: 2614.9 },
    memoryBandwidthTBps: 5.3,
    memoryGiB: 192,
    source: 'AMD Instinct MI300X datasheet (2023), dense figures',
  },
];

export function findCardPeak(deviceName: string): CardPeak | undefined {
  return CARD_PEAKS.find((p) => p.match.test(deviceName));
}

export function cardPeakByName(name: string): CardPeak | undefined {
  const n = name.toLowerCase();
  return CARD_PEAKS.find((p) => p.name.toLowerCase() === n) ?? findCardPeak(name);
}

/** What a peak's figures are: a vendor's datasheet, or ceilings measured by roofline probes. */
export function peakKind(peak: CardPeak): 'datasheet' | 'measured' {
  return peak.measured ? 'measured' : 'datasheet';
}

export interface Roofline {
  card: string;
  dtype: string;
  peakTflops: number;
  peakTBps: number;
  /** max(flops / peak FLOP/s, bytes / peak bandwidth): no card can do the call faster. */
  floorMs: number;
  /** floorMs / measured median: the fraction of the datasheet roofline achieved. */
  fraction: number;
  bound: 'compute' | 'memory';
  source: string;
  /** Faster than the memory bandwidth allows: served from the card's cache. */
  cacheResident?: boolean;
}

/** The card's peak for a math mode: strict fp32 is the non-tensor-core figure, never TF32's. */
export function peakTflopsFor(peak: CardPeak, dtype: Dtype): number | undefined {
  return peak.tflops[dtype];
}

/** Time the card's datasheet peaks allow for a call: compute-bound or memory-bound, whichever is slower. */
export function rooflineTimes(peak: CardPeak, dtype: Dtype, flops: number, bytes: number): { computeMs: number; memoryMs: number; floorMs: number } {
  const tflops = peakTflopsFor(peak, dtype);
  if (!tflops) throw new UsageError(`${peak.name} has no ${peakKind(peak)} ${dtype} peak (${peak.source}): no roofline for its ${dtype} cases`);
  const computeMs = (flops / (tflops * 1e12)) * 1000;
  const memoryMs = (bytes / (peak.memoryBandwidthTBps * 1e12)) * 1000;
  return { computeMs, memoryMs, floorMs: Math.max(computeMs, memoryMs) };
}

/**
 * The case against its card's roofline for its own math mode, or undefined when the card's sources
 * give no peak for that mode. A call faster than the memory bandwidth allows is possible (weights
 * that fit in the card's L2 cache) and is marked cache-resident; one faster than the compute peak
 * is not: `computeFraction` above 1 means the engine did other math than asked, or the work
 * accounting is wrong.
 */
export function rooflineOf(
  peak: CardPeak,
  dtype: Dtype,
  flops: number,
  bytes: number,
  medianMs: number,
): (Roofline & { computeFraction: number }) | undefined {
  const peakTflops = peakTflopsFor(peak, dtype);
  if (!peakTflops) return undefined;
  const { computeMs, memoryMs, floorMs } = rooflineTimes(peak, dtype, flops, bytes);
  const fraction = medianMs > 0 ? floorMs / medianMs : 0;
  const bound = computeMs >= memoryMs ? 'compute' : 'memory';
  return {
    card: peak.name,
    dtype,
    peakTflops,
    peakTBps: peak.memoryBandwidthTBps,
    floorMs,
    fraction,
    bound,
    source: peak.source,
    ...(medianMs > 0 && memoryMs / medianMs > 1 ? { cacheResident: true } : {}),
    computeFraction: medianMs > 0 ? computeMs / medianMs : 0,
  };
}
