import { resolve } from 'node:path';
import { compareRuns, type CompareOptions } from '../compare/compare.js';
import { formatComparison, type CompareFormat } from '../compare/format.js';
import { EXIT, UsageError } from '../errors.js';
import { loadingNotes, loadRuns } from '../results/runs.js';
import type { Io } from './io.js';

/** `moebench compare A B ...`: files or folders; the first (or --baseline) is the baseline. */
export async function compareCommand(paths: string[], o: CompareOptions & { format: CompareFormat }, io: Io): Promise<number> {
  const twice = paths.find((p, i) => paths.findIndex((q) => resolve(q) === resolve(p)) !== i);
  if (twice !== undefined)
    throw new UsageError(`${twice} was given twice: a file compared with itself says nothing; give two different files or folders`);
  const loaded = loadRuns(paths);
  const { runs, bad } = loaded;
  for (const line of loadingNotes(loaded)) io.err(line);
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
