import { resolve } from 'node:path';
import { chosenSidesLine, compareBySides, nothingComparedLine, type CompareOptions } from '../compare/compare.js';
import { formatComparison, type CompareFormat } from '../compare/format.js';
import { EXIT, UsageError } from '../errors.js';
import { loadingNotes, loadRuns } from '../results/runs.js';
import type { Io } from './io.js';

/** `moebench compare A B ...`: files or folders; the first (or --baseline) is the baseline. */
/** `compare --fail-on slower[:PCT]`: SLOWER verdicts (by at least PCT %) make the exit code EXIT.regression. */
export interface FailOn {
  verdict: 'SLOWER';
  minDifference: number;
}

export function parseFailOn(text: string): FailOn {
  const m = /^slower(?::(\d+(?:\.\d+)?))?$/i.exec(text.trim());
  if (!m) throw new UsageError(`--fail-on "${text}": use slower, or slower:PCT (e.g. slower:5) to fail only on slowdowns of at least PCT %`);
  return { verdict: 'SLOWER', minDifference: m[1] === undefined ? 0 : Number(m[1]) / 100 };
}

/** `moebench compare A B ...`: files or folders; the first (or --baseline) is the baseline. */
export async function compareCommand(
  paths: string[],
  o: CompareOptions & { format: CompareFormat; failOn?: FailOn; byGiven?: boolean },
  io: Io,
): Promise<number> {
  const twice = paths.find((p, i) => paths.findIndex((q) => resolve(q) === resolve(p)) !== i);
  if (twice !== undefined)
    throw new UsageError(`${twice} was given twice: a file compared with itself says nothing; give two different files or folders`);
  const loaded = loadRuns(paths);
  const { runs, bad } = loaded;
  for (const line of loadingNotes(loaded)) io.err(line);
  if (runs.length === 0) throw new UsageError(`no readable result files in ${paths.join(', ')}`);
  // runs of one card before and after a change: compared file against file without being asked
  const { comparison, allFrom, chosen } = compareBySides(runs, o, Boolean(o.byGiven));
  if (allFrom && chosen) io.err(chosenSidesLine(allFrom, chosen));
  if (comparison.repeated)
    io.err(
      `moebench: ${comparison.repeated} measurement(s) given more than once (a run's file and a collection holding it, or a copy) are counted once`,
    );
  if (comparison.sides.length < 2) {
    // a file whose every case came out invalid or failed is no side: that, not the grouping, is the reason
    const none = comparison.unmeasured.map((u) => `${u.source} (${u.statuses})`).join(', ');
    if (none) throw new UsageError(`only one side has a measured case (${comparison.sides[0]?.label ?? 'none'}): no case measured in ${none}`);
    throw new UsageError(
      `everything given is one side (${comparison.sides[0]?.label ?? 'none'}) when grouped by ${comparison.by}: compare files from different cards, or use --by file (each file a side), --by folder (each folder a side, several runs each), --by backend or --by <environment field>`,
    );
  }
  io.out(formatComparison(comparison, o.format));
  // an empty table would pass a --fail-on gate whose files no longer share a case
  if (comparison.pairs.length === 0) {
    io.err(nothingComparedLine(comparison));
    return EXIT.usage;
  }
  const failing = o.failOn ? comparison.pairs.filter((p) => p.verdict === o.failOn!.verdict && 1 - p.ratio >= o.failOn!.minDifference) : [];
  if (failing.length) {
    io.err(
      `moebench: --fail-on: ${failing.length} SLOWER verdict(s)${o.failOn!.minDifference ? ` by at least ${(o.failOn!.minDifference * 100).toFixed(1)}%` : ''}: ${failing
        .slice(0, 3)
        .map((p) => `${p.row.id} ×${p.ratio.toFixed(3)}`)
        .join(', ')}${failing.length > 3 ? ', …' : ''}`,
    );
    return EXIT.regression;
  }
  return bad.length ? EXIT.failed : EXIT.ok;
}
