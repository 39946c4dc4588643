import type { LoadedCase } from '../backends/backend.js';
import { accountFor } from '../workloads/accounting.js';
import { referenceRows, relativeL2Error, rowsToCheck, TOLERANCE } from '../workloads/reference.js';
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

/** Runs the loaded case once and compares its output with the float64 JS reference. */
export async function checkCorrectness(
  c: WorkloadCase,
  inputs: CaseInputs,
  loaded: LoadedCase,
  maxRows = referenceRowLimit(c),
): Promise<CorrectnessCheck> {
  const d = c.layer.hiddenSize;
  const actual = await loaded.output();
  const rowsTotal = inputs.feeds.x.dims[0];
  if (actual.length !== rowsTotal * d) {
    throw new Error(`output has ${actual.length} values, expected ${rowsTotal} × ${d}`);
  }
  const rows = rowsToCheck(rowsTotal, maxRows);
  const expected = referenceRows(c, inputs, new WeightStore(c), rows);
  const error = relativeL2Error(actual, expected, rows, d);
  const tolerance = TOLERANCE[c.dtype];
  return { relativeL2Error: error, tolerance, rowsChecked: rows.length, rowsTotal, passed: error <= tolerance };
}
