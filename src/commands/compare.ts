import { compareRuns, type CompareOptions } from '../compare/compare.js';
import { formatComparison, type CompareFormat } from '../compare/format.js';
import { EXIT, UsageError } from '../errors.js';
import { loadRuns } from '../results/runs.js';
import type { Io } from './io.js';

/** `moebench compare A B ...`: files or folders; the first (or --baseline) is the baseline. */
export async function compareCommand(paths: string[], o: CompareOptions & { format: CompareFormat }, io: Io): Promise<number> {
  const { runs, bad } = loadRuns(paths);
  for (const b of bad) io.err(`moebench: skipped ${b.path}: ${b.reason}`);
  if (runs.length === 0) throw new UsageError(`no readable result files in ${paths.join(', ')}`);
  const comparison = compareRuns(runs, o);
  if (comparison.sides.length < 2) {
    throw new UsageError(
      `everything given is one side (${comparison.sides[0]?.label ?? 'none'}) when grouped by ${o.by}: compare files from different cards, or use --by file (each file a side), --by backend or --by <environment field>`,
    );
  }
  io.out(formatComparison(comparison, o.format));
  return bad.length ? EXIT.failed : EXIT.ok;
}
