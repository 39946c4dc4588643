/**
 * Vendor datasheet peaks of common data-center cards: dense (no sparsity) tensor
 * throughput per dtype and memory bandwidth. Used only for roofline fractions and
 * for scaling figures between cards; every entry names its source.
 */
export interface CardPeak {
  name: string;
  /** Substrings of the name nvidia-smi (or the vendor tool) reports. */
  match: RegExp;
  /** TFLOP/s, dense. fp32 is the non-tensor-core figure. */
  tflops: { fp32: number; tf32?: number; fp16: number; bf16: number; fp8?: number };
  memoryBandwidthTBps: number;
  memoryGiB: number;
  source: string;
}

export const CARD_PEAKS: readonly CardPeak[] = [
  {
    name: 'NVIDIA H100 SXM5 80GB',
    match: /H100.*(SXM|HBM3)|H100 80GB HBM3/i,
    tflops: { fp32: 67, tf32: 494.7, fp16: 989.4, bf16: 989.4, fp8: 1978.9 },
    memoryBandwidthTBps: 3.35,
    memoryGiB: 80,
    source: 'NVIDIA H100 Tensor Core GPU datasheet (2023), SXM column, dense figures (half of the with-sparsity values)',
  },
  {
    name: 'NVIDIA H100 PCIe 80GB',
    match: /H100.*PCIe/i,
    tflops: { fp32: 51, tf32: 378, fp16: 756, bf16: 756, fp8: 1513 },
    memoryBandwidthTBps: 2.0,
    memoryGiB: 80,
    source: 'NVIDIA H100 Tensor Core GPU datasheet (2023), PCIe column, dense figures',
  },
  {
    name: 'NVIDIA H100 NVL 94GB',
    match: /H100 NVL/i,
    tflops: { fp32: 60, tf32: 417.5, fp16: 835, bf16: 835, fp8: 1670.5 },
    memoryBandwidthTBps: 3.9,
    memoryGiB: 94,
    source: 'NVIDIA H100 Tensor Core GPU datasheet (2023), H100 NVL column, dense figures',
  },
  {
    name: 'NVIDIA H200 SXM 141GB',
    match: /H200/i,
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
    match: /A100.*SXM|A100-SXM/i,
    tflops: { fp32: 19.5, tf32: 156, fp16: 312, bf16: 312 },
    memoryBandwidthTBps: 2.039,
    memoryGiB: 80,
    source: 'NVIDIA A100 Tensor Core GPU datasheet (2021), 80GB SXM column, dense figures',
  },
  {
    name: 'NVIDIA A100 PCIe 80GB',
    match: /A100.*PCIE/i,
    tflops: { fp32: 19.5, tf32: 156, fp16: 312, bf16: 312 },
    memoryBandwidthTBps: 1.935,
    memoryGiB: 80,
    source: 'NVIDIA A100 Tensor Core GPU datasheet (2021), 80GB PCIe column, dense figures',
  },
  {
    name: 'NVIDIA L40S 48GB',
    match: /L40S/i,
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
    match: /B200/i,
    tflops: { fp32: 75, tf32: 1100, fp16: 2250, bf16: 2250, fp8: 4500 },
    memoryBandwidthTBps: 8.0,
    memoryGiB: 180,
    source: 'NVIDIA DGX B200 / HGX B200 datasheet (2024), per GPU, dense figures',
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
}

/** Time the card's datasheet peaks allow for a call: compute-bound or memory-bound, whichever is slower. */
export function rooflineTimes(
  peak: CardPeak,
  dtype: 'fp32' | 'fp16',
  flops: number,
  bytes: number,
): { computeMs: number; memoryMs: number; floorMs: number } {
  const computeMs = (flops / (peak.tflops[dtype] * 1e12)) * 1000;
  const memoryMs = (bytes / (peak.memoryBandwidthTBps * 1e12)) * 1000;
  return { computeMs, memoryMs, floorMs: Math.max(computeMs, memoryMs) };
}

export function rooflineOf(peak: CardPeak, dtype: 'fp32' | 'fp16', flops: number, bytes: number, medianMs: number): Roofline {
  const { computeMs, memoryMs, floorMs } = rooflineTimes(peak, dtype, flops, bytes);
  return {
    card: peak.name,
    dtype,
    peakTflops: peak.tflops[dtype],
    peakTBps: peak.memoryBandwidthTBps,
    floorMs,
    fraction: medianMs > 0 ? floorMs / medianMs : 0,
    bound: computeMs >= memoryMs ? 'compute' : 'memory',
    source: peak.source,
  };
}
