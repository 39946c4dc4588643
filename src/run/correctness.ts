import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isIntact, writeCached } from '../files/cache.js';
import type { LoadedCase } from '../backends/backend.js';
import { accountFor } from '../workloads/accounting.js';
import { REFERENCE_VERSION, referenceRows, relativeL2Error, rowsToCheck, TOLERANCE } from '../workloads/reference.js';
import type { WorkloadCase } from '../workloads/spec.js';
import { WeightStore, type CaseInputs } from '../workloads/tensors.js';

export interface CorrectnessCheck {
  /** ‖y − y_ref‖₂ / ‖y_ref‖₂ over the checked rows, against a float64 reference. */
  relativeL2Error: number;
  tolerance: number;
  rowsChecked: number;
  rowsTotal: number;
  passed: boolean;
}

/** JS float64 multiply-adds the reference may spend on one case (~a few seconds). */
export const REFERENCE_BUDGET_MACS = 4e9;

/** Rows to check: up to 64, fewer for huge layers so the reference stays within its budget, never under 4. */
export function referenceRowLimit(c: WorkloadCase): number {
  const macsPerRow = accountFor(c).flopsPerCall / 2 / Math.max(1, c.numTokens);
  return Math.max(4, Math.min(64, Math.floor(REFERENCE_BUDGET_MACS / Math.max(1, macsPerRow))));
}

/**
 * Attention prefill: how many leading rows the check may sample. A row needs the keys and values of
 * every position before it in its sequence (the reference projects each such token once), so rows
 * are sampled among the first ones, as many as the reference's budget projects, never under 4.
 */
export function prefillPrefixRows(c: WorkloadCase): number | undefined {
  if (c.layer.kind !== 'attention' || c.phase !== 'prefill') return undefined;
  const a = c.layer;
  const macsPerPosition =
    a.form === 'mla'
      ? a.hiddenSize * (a.kvLoraRank + a.qkRopeHeadDim) + a.kvLoraRank * a.numHeads * (a.qkNopeHeadDim + a.vHeadDim)
      : a.hiddenSize * 2 * a.numKvHeads * a.headDim;
  return Math.max(4, Math.min(c.numTokens, Math.floor(REFERENCE_BUDGET_MACS / 2 / macsPerPosition)));
}

/**
 * The float64 reference rows of a case, computed once and kept beside its model: every process of
 * a case checks its output, and the reference (up to seconds of JS float64 arithmetic, most of a
 * small case's process) is the same for all of them. Keyed by the reference's version, the whole
 * case and the rows, so any change to them computes it afresh; a file whose bytes no longer match their hash is not trusted.
 */
function cachedReference(c: WorkloadCase, inputs: CaseInputs, rows: number[], cacheDir: string | undefined): Float64Array {
  const compute = () => referenceRows(c, inputs, new WeightStore(c), rows);
  if (!cacheDir) return compute();
  const key = createHash('sha256')
    .update(JSON.stringify({ reference: REFERENCE_VERSION, c, rows }))
    .digest('hex')
    .slice(0, 16);
  const path = join(cacheDir, `reference-${key}.f64`);
  const bytes = rows.length * c.layer.hiddenSize * 8;
  if (isIntact(path)) {
    const buf = readFileSync(path);
    if (buf.byteLength === bytes) {
      // copied: a Buffer's offset need not be a multiple of 8
      const cached = new Float64Array(bytes / 8);
      new Uint8Array(cached.buffer).set(buf);
      return cached;
    }
  }
  const expected = compute();
  try {
    writeCached(path, new Uint8Array(expected.buffer, expected.byteOffset, expected.byteLength), 'reference cache');
  } catch {
    // a cache that cannot be written costs time, never the check
  }
  return expected;
}

function checkedRows(c: WorkloadCase, inputs: CaseInputs, maxRows: number): number[] {
  const rowsTotal = inputs.feeds.x.dims[0];
  return rowsToCheck(Math.min(rowsTotal, prefillPrefixRows(c) ?? rowsTotal), maxRows);
}

/** Computes and caches the reference the check will read, ahead of the case's processes (bench/prepare.ts). */
export function prepareReference(c: WorkloadCase, inputs: CaseInputs, cacheDir: string): void {
  cachedReference(c, inputs, checkedRows(c, inputs, referenceRowLimit(c)), cacheDir);
}

/** Runs the loaded case once and compares its output with the float64 JS reference (cached in `cacheDir` when given). */
export async function checkCorrectness(
  c: WorkloadCase,
  inputs: CaseInputs,
  loaded: LoadedCase,
  maxRows = referenceRowLimit(c),
  cacheDir?: string,
): Promise<CorrectnessCheck> {
  const d = c.layer.hiddenSize;
  const actual = await loaded.output();
  const rowsTotal = inputs.feeds.x.dims[0];
  if (actual.length !== rowsTotal * d) {
    throw new Error(`output has ${actual.length} values, expected ${rowsTotal} × ${d}`);
  }
  const rows = checkedRows(c, inputs, maxRows);
  const expected = cachedReference(c, inputs, rows, cacheDir);
  const error = relativeL2Error(actual, expected, rows, d);
  const tolerance = TOLERANCE[c.dtype];
  return { relativeL2Error: error, tolerance, rowsChecked: rows.length, rowsTotal, passed: error <= tolerance };
}
