import { UsageError } from '../errors.js';
import { writeCollectionAtomic } from '../results/io.js';
import { mergeRuns } from '../results/merge.js';
import { loadRuns, refuseInputAsOut } from '../results/runs.js';
import type { Io } from './io.js';

/** `moebench merge DIR --out FILE`: result files from many machines → one de-duplicated collection. */
export async function mergeCommand(paths: string[], out: string, io: Io): Promise<number> {
  refuseInputAsOut(out, paths, 'merge');
  const loaded = loadRuns(paths);
  const { runs, bad } = loaded;
  for (const b of bad) io.err(`moebench: skipped ${b.path}: ${b.reason}`);
  if (runs.length === 0) throw new UsageError(`no readable result files in ${paths.join(', ')}`);
  const merged = mergeRuns(runs, loaded.conflicts);
  const carried = merged.conflicts.filter((c) => loaded.conflicts.includes(c)).length;
  writeCollectionAtomic(out, { tool: 'moebench', kind: 'collection', ...merged });
  const cases = merged.runs.reduce((a, r) => a + r.cases.length, 0);
  for (const c of merged.conflicts.filter((c) => !loaded.conflicts.includes(c)))
    io.err(`moebench: conflict: ${c.key}: kept ${c.kept}, differs in ${c.other} (kept in the collection's conflicts)`);
  io.out(
    `${out}: ${merged.runs.length} run(s), ${cases} case(s), ${merged.duplicates} exact duplicate(s) folded, ${merged.conflicts.length} conflict(s)${carried ? ` (${carried} carried from earlier merges)` : ''}${bad.length ? `, ${bad.length} unreadable file(s) skipped` : ''}`,
  );
  return merged.conflicts.length || bad.length ? 1 : 0;
}
