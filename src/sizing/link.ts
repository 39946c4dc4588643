import type { Layout } from './compose.js';

/** The expert-parallel all-to-all bandwidth per card a composition uses, and where it comes from. */
export interface Link {
  gbytesPerSec: number;
  source: string;
}

const DEEPEP =
  "DeepEP's normal kernels on H800 with one CX7 400 Gb/s NIC per GPU (deepseek-ai/DeepEP README): the bottleneck bandwidth of dispatch and combine, the lower of the two";

/**
 * Published measurements by layout: within a node (EP ≤ 8) dispatch and combine run over NVLink,
 * beyond it over RDMA, which caps them near the NIC's ~50 GB/s. Figures for other EP sizes take the
 * nearest measured size at or above (a larger group is not faster). Measured on H800s: another
 * card or network is a different figure, given with --link-gbytes-per-s.
 */
const MEASURED: { maxEp: number; gbytesPerSec: number; what: string }[] = [
  { maxEp: 8, gbytesPerSec: 153, what: 'intranode EP8 over NVLink: 153 GB/s dispatch, 158 combine' },
  { maxEp: 16, gbytesPerSec: 43, what: 'internode EP16 over RDMA: 43 GB/s dispatch, 43 combine' },
  { maxEp: 32, gbytesPerSec: 57, what: 'internode EP32 over RDMA: 58 GB/s dispatch, 57 combine' },
  { maxEp: Infinity, gbytesPerSec: 50, what: 'internode EP64 over RDMA: 51 GB/s dispatch, 50 combine' },
];

export function linkFor(layout: Layout, givenGbytesPerSec?: number): Link {
  if (givenGbytesPerSec !== undefined) return { gbytesPerSec: givenGbytesPerSec, source: 'given with --link-gbytes-per-s' };
  const m = MEASURED.find((x) => layout.ep <= x.maxEp)!;
  return { gbytesPerSec: m.gbytesPerSec, source: `${DEEPEP}, ${m.what}, for EP${layout.ep}` };
}
